"""NTF-1: every family message goes through the notification service. Django's mail API is
used only inside ``makeup/notifications/``; the account and staff e-mails sent elsewhere
never use a family message's template."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

from makeup.notifications.email import send_templated_email
from makeup.notifications.kinds import FAMILY_TEMPLATES

ROOT = Path(settings.BASE_DIR)
APPS = [
    "config",
    "makeup",
    "programmes",
    "bookings",
    "credits",
    "makeups",
    "franchise",
    "portal",
    "api",
    "ops",
]
SEAM = ROOT / "makeup" / "notifications"
MAIL_NAMES = {
    "EmailMessage",
    "EmailMultiAlternatives",
    "send_mail",
    "send_mass_mail",
    "get_connection",
}


def _modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def test_ntf_1_only_the_notification_service_uses_django_mail():
    offenders = []
    for path, tree in _modules():
        if SEAM in path.parents:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "django.core.mail"
            ):
                names = {alias.name for alias in node.names}
                if names & MAIL_NAMES or "*" in names:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif (
                (
                    isinstance(node, ast.Attribute)
                    and node.attr in MAIL_NAMES
                    and getattr(node.value, "id", "") == "mail"
                )
                or isinstance(node, ast.Import)
                and any(a.name == "django.core.mail" for a in node.names)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_ntf_1_family_templates_are_sent_only_through_notify_family():
    """Outside the service, ``send_templated_email`` is called with a literal template that
    is not a family message's, and ``send_email`` only by the password reset."""
    offenders = []
    for path, tree in _modules():
        if SEAM in path.parents:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if name == "send_templated_email":
                template = next((k.value for k in node.keywords if k.arg == "template"), None)
                literal = isinstance(template, ast.Constant)
                family = not literal or template.value in FAMILY_TEMPLATES
                if family and not _template_variable_is_account(tree, template):
                    offenders.append(where)
            elif name in {"send_email", "render_email"} and path != ROOT / "makeup" / "tasks.py":
                offenders.append(where)
    assert offenders == []


def _template_variable_is_account(tree, template) -> bool:
    """``template = "parent_invite" / "parent_invite_access"`` (bookings): a name whose every
    assignment in the module is a literal account template."""
    if not isinstance(template, ast.Name):
        return False
    values = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", None) == template.id for t in node.targets)
    ]
    return bool(values) and all(
        isinstance(v, ast.Constant) and v.value not in FAMILY_TEMPLATES for v in values
    )


def test_ntf_1_send_templated_email_refuses_a_family_template():
    with pytest.raises(ValueError, match="notify_family"):
        send_templated_email(template="makeup_booked", to=["a@example.com"], context={})
