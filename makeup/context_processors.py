from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

# The back-office navigation, in order. An entry shows once its app provides the URL.
MANAGE_NAVIGATION = [
    ("Programmes", "manage:programme_list", "admin"),
    ("Classes", "manage:class_list", "staff"),
    ("Sessions", "manage:session_calendar", "staff"),
    ("Families", "manage:family_list", "staff"),
    ("Credits", "manage:credit_list", "staff"),
    ("Claims", "manage:claim_list", "staff"),
    ("My calendar", "manage:my_calendar", "staff"),
    ("Reports", "manage:reports", "admin"),
    ("Franchise", "manage:franchise", "owner"),
    ("Settings", "manage:settings", "admin"),
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
        items.append({"label": label, "url": url, "active": current.startswith(url)})
    return items


def tenancy(request: HttpRequest) -> dict:
    return {
        "company": getattr(request, "company", None),
        "membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
        "manage_navigation": _navigation(request),
    }
