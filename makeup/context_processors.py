from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import pgettext_lazy

# The back-office navigation, in order. An entry shows once its app provides the URL.
MANAGE_NAVIGATION = [
    (pgettext_lazy("navigation", "Programmes"), "manage:programme_list", "admin"),
    (pgettext_lazy("navigation", "Classes"), "manage:class_list", "staff"),
    (pgettext_lazy("navigation", "Sessions"), "manage:session_calendar", "staff"),
    (pgettext_lazy("navigation", "Families"), "manage:family_list", "staff"),
    (pgettext_lazy("navigation", "Credits"), "manage:credit_list", "staff"),
    (pgettext_lazy("navigation", "Claims"), "manage:claim_list", "staff"),
    (pgettext_lazy("navigation", "My calendar"), "manage:my_calendar", "staff"),
    (pgettext_lazy("navigation", "Reports"), "manage:reports", "admin"),
    (pgettext_lazy("navigation", "Franchise"), "manage:franchise", "owner"),
    (pgettext_lazy("navigation", "Audit log"), "manage:audit_log", "owner"),
    (pgettext_lazy("navigation", "Settings"), "manage:settings", "admin"),
]


def _navigation(request: HttpRequest) -> list[dict]:
    membership = getattr(request, "membership", None)
    if membership is None:
        return []
    items = []
    current = request.path
    for label, url_name, role in MANAGE_NAVIGATION:
        if not membership.has_role(role):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"label": str(label), "url": url, "active": current.startswith(url)})
    return items


def tenancy(request: HttpRequest) -> dict:
    return {
        "company": getattr(request, "company", None),
        "membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
        "manage_navigation": _navigation(request),
    }
