"""Issue 8, item 5: hostile input on every form of the back office and the portal.

The test finds the forms itself: it requests every ``/manage/`` URL (ids filled with
company A's objects, as A's owner, reusing the isolation crawl's ``FILLERS``) and every
portal URL (as A's parent), parses each ``<form method="post">`` with the stdlib HTML parser,
and lets Hypothesis post random and hostile values to it: huge and negative numbers,
impossible dates and times, long strings, HTML/script, unicode and company B's ids. For
every POST:

- never a 500 (the test client re-raises a view's exception) nor a debug page;
- no row of company B changed, deleted or added;
- a form sent back with errors wrote nothing at all;
- submitted HTML/script never comes back unescaped.

Each example runs in a savepoint that is rolled back, so every example starts from the same
data and a delete form does not empty the pages after it.
"""

import hashlib
from collections import deque
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.db import models, transaction
from django.urls import resolve, reverse
from django_scopes import scope, scopes_disabled
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from bookings.models import LessonReminder
from bookings.services.payments import PaymentRequest, TestProvider
from credits.models import SessionWatch
from credits.selectors.reminders import cant_come_token
from makeup.models import Company, User
from makeups.selectors.offers import offer_token
from makeups.selectors.slots import slot_token
from makeups.services import makeup_book, watch_create
from tests import factories as f
from tests.portal import conftest as portal_conftest
from tests.portal.conftest import NOW, add_credit
from tests.portal.test_portal_isolation import _portal_routes

from .test_isolation_crawl import _fill, manage_routes

pytestmark = pytest.mark.django_db

# The portal's family (Ava of the Parker family, time frozen on Sat 21 Nov 2026).
pf = portal_conftest.pf
frozen = portal_conftest.frozen

APPS = ("makeup", "programmes", "bookings", "credits", "franchise", "portal")
EXAMPLES = 12
# Forms that must have been sent back with errors at least once (so "nothing written on an
# invalid form" was checked on them).
KEY_FORMS = [
    "manage:class_create",
    "manage:class_edit",
    "manage:programme_create",
    "manage:programme_edit",
    "manage:policy_edit",
    "manage:settings",
    "manage:family_create",
    "manage:credit_add",
    "manage:enrol_student",
    "manage:class_enrol",
    "manage:franchise_restrictions",
    "portal:makeup_confirm",
]
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ERROR_MARKERS = ("is-invalid", "invalid-feedback", 'class="errorlist')
# Forms never posted: they end the session or leave the app.
SKIP_ACTIONS = ("/accounts/logout/", "/i18n/")


# --- finding the forms -------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    page: str
    action: str
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        """One form per view and set of fields: the archive button of every programme in a
        list is the same form."""
        return (resolve(urlsplit(self.action).path).view_name, tuple(sorted(self.fields)))


class FormParser(HTMLParser):
    """The POST forms of a page, with their fields, select options and checkboxes (also
    controls outside the form that name it with ``form="id"``)."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.by_id: dict[str, Form] = {}
        self.orphans: list[tuple[str, dict]] = []
        self.current: Form | None = None
        self.select: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            post = a.get("method", "get").lower() == "post" or "hx-post" in a
            if post:
                action = a.get("hx-post") or a.get("action") or self.page
                self.current = Form(self.page, urljoin(self.page, action))
                self.forms.append(self.current)
                if a.get("id"):
                    self.by_id[a["id"]] = self.current
            else:
                self.current = None
            return
        if tag in ("input", "select", "textarea", "button") and a.get("name"):
            target = self.current
            if a.get("form"):
                self.orphans.append((a["form"], {"tag": tag, **a}))
                return
            if target is not None:
                self._add(target, tag, a)
        elif tag == "option" and self.select is not None:
            self.select.options.append(a.get("value", ""))
            if "selected" in a:
                self.select.value = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None

    def _add(self, form: Form, tag: str, a: dict):
        name = a["name"]
        kind = "select" if tag == "select" else tag if tag != "input" else a.get("type", "text")
        known = form.fields.get(name)
        if known is None:
            known = form.fields[name] = Field(name, kind, a.get("value", ""))
        if kind in ("radio", "checkbox", "submit", "button") or tag == "button":
            known.options.append(a.get("value", "on"))
        if tag == "select":
            self.select = known

    def close(self):
        super().close()
        for form_id, a in self.orphans:
            if form_id in self.by_id:
                self._add(self.by_id[form_id], a.pop("tag"), a)


def forms_of(client, url: str) -> tuple[list[Form], str]:
    response = client.get(url)
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return [], ""
    html = response.content.decode()
    parser = FormParser(url)
    parser.feed(html)
    parser.close()
    forms = [
        form
        for form in parser.forms
        if urlsplit(form.action).path.startswith(("/manage/", "/portal/"))
        and not form.action.startswith(SKIP_ACTIONS)
    ]
    return forms, html


# --- snapshots of the database -----------------------------------------------------------


def _models() -> list[type[models.Model]]:
    return [m for app in APPS for m in apps.get_app_config(app).get_models()]


def _company_lookup(model) -> str | None:
    """The shortest chain of foreign keys from ``model`` to its company."""
    if model is Company:
        return "pk"
    if model is User:
        return "memberships__company"
    seen = {model}
    queue = deque([(model, "")])
    while queue:
        current, path = queue.popleft()
        for fk in current._meta.get_fields():
            if not (fk.many_to_one or fk.one_to_one) or not fk.concrete:
                continue
            target = fk.related_model
            lookup = f"{path}{fk.name}"
            if target is Company:
                return lookup
            if target not in seen and lookup.count("__") < 3:
                seen.add(target)
                queue.append((target, f"{lookup}__"))
    return None


def snapshot() -> dict[str, dict]:
    """Every row of the project's models: ``{model label: {pk: digest}}``."""
    rows = {}
    with scopes_disabled():
        for model in _models():
            manager = model._base_manager
            rows[model._meta.label] = {
                pk: hashlib.blake2b(repr(values).encode(), digest_size=12).digest()
                for pk, *values in manager.order_by("pk").values_list("pk", *_columns(model))
            }
    return rows


_COLUMNS: dict = {}


def _columns(model) -> list[str]:
    if model not in _COLUMNS:
        _COLUMNS[model] = [fl.attname for fl in model._meta.concrete_fields]
    return _COLUMNS[model]


def company_rows(company) -> dict[str, set]:
    """The pks of ``company``'s rows in each model (and its users)."""
    owned = {}
    with scopes_disabled():
        for model in _models():
            lookup = _company_lookup(model)
            if lookup:
                qs = model._base_manager.filter(**{lookup: company.pk}).values_list("pk", flat=True)
                owned[model._meta.label] = set(qs)
        owned[User._meta.label] = set(
            User.objects.filter(memberships__company=company).values_list("pk", flat=True)
        )
    return owned


def _direct_company_column(model) -> bool:
    return any(fl.attname == "company_id" for fl in model._meta.concrete_fields)


def diff(before: dict, after: dict) -> dict[str, set]:
    changed = {}
    for label, rows in before.items():
        now = after[label]
        keys = {pk for pk in rows.keys() | now.keys() if rows.get(pk) != now.get(pk)}
        if keys:
            changed[label] = keys
    return changed


# --- hostile values ----------------------------------------------------------------------

HOSTILE = [
    "10" + "0" * 12,
    "-1000000000",
    "-1",
    "-5",
    "0",
    "3.14159",
    "-0.5",
    "1e308",
    "NaN",
    "",
    " ",
    "x" * 5000,
    "9" * 60,
    SCRIPT,
    IMG,
    "2026-02-30",
    "25:99",
    "not a date",
    "0000-00-00",
    "2026-13-01T99:99",
    "9999-12-31",
    "0001-01-01",
    "2200-12-31",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "Zoë 🐬 — 漢字 \u202e",
    "\x00",
    "null",
    "[]",
    "' OR 1=1 --",
]


def value_strategy(fld: Field, foreign_ids: list[int]):
    choices = [st.sampled_from(HOSTILE), st.sampled_from(foreign_ids).map(str)]
    if fld.value:
        choices.append(st.just(fld.value))
    if fld.options:
        choices.append(st.sampled_from(fld.options))
    choices.append(st.integers(-(10**15), 10**15).map(str))
    choices.append(st.text(max_size=40))
    if fld.kind in ("checkbox", "radio", "submit", "button"):
        choices.append(st.none())  # not ticked / not pressed
    if fld.kind == "hidden" and fld.name == "csrfmiddlewaretoken":
        return st.just(fld.value)
    if fld.name.endswith("-TOTAL_FORMS"):
        # Hostile but small: a huge count makes Django build and render up to
        # ``absolute_max`` (max_num + 1000) forms, seconds per POST (see docs/development.md).
        more = str(int(fld.value) + 1) if fld.value.isdigit() else "1"
        return st.sampled_from(["", "-1", "0", "x", SCRIPT, fld.value, more])
    return st.one_of(choices)


def _clean(text: str) -> str:
    return text.replace("\x00", "")


# --- the test ----------------------------------------------------------------------------


@pytest.fixture
def portal_urls(pf):
    """Every portal URL, with the parent's own objects in it."""
    company = pf.company
    with scope(company=company):
        other = f.SessionFactory(klass=pf.host, local_date=date(2026, 11, 26), local_time=time(16))
        booking = makeup_book(
            credit=add_credit(pf.ava), actor=f.parent_of(pf.ava), session=other, now=NOW
        )
        small = f.ClassFactory(programme=pf.programme, name="Full Rays", capacity=1)
        f.EnrolmentFactory(klass=small, student__date_of_birth=date(2019, 1, 1))
        full = f.SessionFactory(klass=small, local_date=date(2026, 12, 2), local_time=time(16))
        watch = watch_create(
            credit=add_credit(pf.ava), actor=f.parent_of(pf.ava), session=full, now=NOW
        )
        # WAL-5: the watch holds an open offer, so its page has a form to attack too.
        watch.state, watch.offered_at = SessionWatch.State.OFFERED, NOW
        watch.offer_expires_at = NOW + timedelta(hours=12)
        watch.save(update_fields=["state", "offered_at", "offer_expires_at"])
        reminder = LessonReminder.objects.create(
            company=company,
            session=other,
            student=pf.ava.student,
            kind=LessonReminder.Kind.MAKEUP,
            booking=booking,
            claimed_at=NOW,
            run="bad-input",
        )
    past = f.SessionFactory(klass=pf.home, local_date=date(2026, 11, 17))
    attendance = f.AttendanceFactory(enrolment=pf.ava, session=past, state="no_show")
    pay = PaymentRequest(
        family=pf.family, amount=Decimal("10.00"), currency="AUD", success_url="/", cancel_url="/"
    )
    special = {
        "portal:lesson_cancel": {"enrolment_pk": pf.ava.pk, "session_pk": pf.lesson.pk},
        "portal:lesson_cancel_undo": {"enrolment_pk": pf.ava.pk, "session_pk": pf.lesson.pk},
        "portal:makeup_confirm": {"credit_pk": pf.credit.pk, "session_pk": pf.session.pk},
        "portal:slot_link": {"token": slot_token(pf.credit, pf.session.pk)},
        "portal:cant_come": {"token": cant_come_token(reminder)},
        "portal:pay_test": {"token": TestProvider.token(pay)},
        "portal:watch_offer": {"token": offer_token(watch)},
    }
    ids = {
        "booking_pk": booking.pk,
        "watch_pk": watch.pk,
        "attendance_pk": attendance.pk,
        "credit_pk": pf.credit.pk,
    }
    urls = []
    for name, keys in _portal_routes():
        kwargs = special.get(name) or {k: ids[k] for k in keys}
        urls.append(reverse(name, kwargs={"company_slug": company.slug, **kwargs}))
    return urls


def test_hostile_input_on_every_form(world, pf, portal_urls, client, settings):
    # Each example runs in a savepoint that is rolled back; with Redis configured, sessions
    # use ``cached_db`` and a login row rolled back would still sit in Redis. Forms, not
    # sessions, are under test: keep sessions in the database alone.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    a, b = world.company_a, world.company_b
    manage_urls = []
    for route in manage_routes():
        manage_urls.append(reverse(route.name, kwargs=_fill(route, a)))
        _fill(route, b)  # company B gets one of everything too: its ids are posted to A
    for name in ("manage:class_list", "manage:family_list"):
        assert reverse(name) in manage_urls

    b_rows = company_rows(b)
    foreign_ids = sorted({pk for pks in b_rows.values() for pk in pks if isinstance(pk, int)})
    assert foreign_ids

    forms: dict[tuple, tuple[Form, str, User]] = {}
    for user, urls in ((world.owner_a, manage_urls), (world.parent_a, portal_urls)):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        for url in urls:
            found, html = forms_of(client, url)
            for form in found:
                forms.setdefault(form.key, (form, html, user))
    assert len(forms) > 20, f"only {len(forms)} forms found"

    posted: dict[str, int] = {}
    invalid: dict[str, int] = {}
    for form, page_html, user in forms.values():
        check_form(client, form, page_html, user, foreign_ids, b, b_rows, posted, invalid)

    print(f"\n{len(forms)} forms on {len(manage_urls) + len(portal_urls)} URLs")
    for key in sorted(posted):
        print(f"  {key}: {posted[key]} POSTs, {invalid.get(key, 0)} sent back with errors")
    # The key forms did see invalid input (and the check above found nothing written).
    missing = [name for name in KEY_FORMS if not invalid.get(name)]
    assert not missing, f"never sent back with errors (or not found): {missing}"


def check_form(client, form, page_html, user, foreign_ids, b, b_rows, posted, invalid):
    """Hypothesis posts to one form; every example is rolled back."""
    view = resolve(urlsplit(form.action).path).view_name
    baseline = {m for m in ERROR_MARKERS if m in page_html}
    strategy = st.fixed_dictionaries(
        {name: value_strategy(fld, foreign_ids) for name, fld in form.fields.items()}
    )

    def everywhere(value: str | None) -> dict:
        """``value`` in every field but the CSRF token and the formset counts (``None``: the
        page's own values, so an edit form is also saved)."""
        keep = ("csrfmiddlewaretoken", "_FORMS")
        return {
            n: fld.value if value is None or n.endswith(keep) else value
            for n, fld in form.fields.items()
        }

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=strategy)
    @example(data=everywhere(None))
    @example(data=everywhere("2026-02-30"))
    @example(data=everywhere("x" * 5000))
    @example(data=everywhere(SCRIPT))
    def post_hostile(data):
        payload = {k: _clean(v) for k, v in data.items() if v is not None}
        where = f"POST {form.action} (form of {form.page}) with {payload!r}"
        with transaction.atomic():
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            before = snapshot()
            response = client.post(form.action, payload)
            after = snapshot()
            changes = diff(before, after)
            touched_b = {
                label: pks & b_rows[label] for label, pks in changes.items() if pks & b_rows[label]
            }
            with scopes_disabled():  # rows added for company B
                for model in _models():
                    label = model._meta.label
                    new = changes.get(label, set()) - before[label].keys()
                    if (
                        new
                        and _direct_company_column(model)
                        and model._base_manager.filter(pk__in=new, company=b.pk).exists()
                    ):
                        touched_b.setdefault(label, set()).update(new)
            transaction.set_rollback(True)
        assert response.status_code != 500, where
        body = response.content.decode(errors="replace")
        assert "Traceback" not in body and 'id="traceback"' not in body, where
        assert not touched_b, f"{where} touched company B's rows: {touched_b}"
        posted[view] = posted.get(view, 0) + 1
        if response.status_code == 200:
            assert SCRIPT not in body, f"{where}: unescaped script in the response"
            assert "<img src=x onerror" not in body, f"{where}: unescaped HTML"
            if {m for m in ERROR_MARKERS if m in body} - baseline:
                invalid[view] = invalid.get(view, 0) + 1
                assert not changes, f"{where} was sent back with errors but wrote {changes}"

    post_hostile()
