"""TEN-1, TEN-2: the permission matrix, generated from the URL resolver.

For every back-office URL (its ids filled with company A's objects, as the isolation crawl
does) and every kind of user — anonymous, a parent, staff, an admin, the owner, and another
company's owner — a GET answers what the view's role allows:

* anonymous → the login page;
* a parent (no membership) → 403;
* a member below the view's minimum role → 403; at or above it → the page (or 405 for a
  POST-only action, or a redirect the view itself makes);
* another company's owner → 404 for every URL with an id of company A.

The minimum role is read from the view (``makeup.tenancy.company_role_required`` marks it);
a back-office view without one fails the test, so no page can forget its check.
"""

from django.test import Client
from django.urls import resolve, reverse

from makeup.models import ROLE_RANK, Role

from .test_isolation_crawl import _fill, manage_routes

ALLOWED = "allowed"

# Those refused first, the owner last: a POST-only action that succeeds changes nothing for
# the users before it.
USERS = ["anonymous", "parent_a", "staff_a", "admin_a", "owner_b", "owner_a"]


# Views that check the user themselves instead of a company role: who may open them.
# The partner invitation (FRN-1) is answered only by an owner of the invited company, whatever
# company they work in; everybody else logged in is told so with a 404 page; a visitor is
# offered to log in or to create their company.
OWN_CHECKS = {
    "manage:franchise_invitation": {
        "anonymous": 200,
        "parent_a": 404,
        "staff_a": 404,
        "admin_a": 404,
        "owner_b": 404,
        "owner_a": ALLOWED,
    },
}
# The local mail viewer is staff-only and exists only with DEBUG (off in the tests): members
# get 404 (tests/makeup/test_dev_mail.py opens it with DEBUG on).
for _name in ("manage:dev_mail", "manage:dev_mail_html"):
    OWN_CHECKS[_name] = {
        "anonymous": 302,
        "parent_a": 403,
        "staff_a": 404,
        "admin_a": 404,
        "owner_b": 404,
        "owner_a": 404,
    }


def _minimum_role(url: str) -> str:
    view = resolve(url).func
    role = getattr(view, "minimum_role", None)
    if role is None and hasattr(view, "view_class"):
        role = getattr(view.view_class, "minimum_role", None)
    assert role is not None, f"{url}: the view declares no minimum role"
    return role


def _expected(who: str, minimum: str, has_ids: bool) -> int | str:
    if who == "anonymous":
        return 302  # to the login page
    if who == "parent_a":
        return 403
    if who == "owner_b":
        return 404 if has_ids else ALLOWED
    rank = {"staff_a": Role.STAFF, "admin_a": Role.ADMIN, "owner_a": Role.OWNER}[who]
    return 403 if ROLE_RANK[rank] < ROLE_RANK[Role(minimum)] else ALLOWED


def _ok(response, expected) -> bool:
    if expected == ALLOWED:
        refused = response.status_code in (403, 404, 500) or (
            response.status_code == 302 and "/accounts/login/" in response["Location"]
        )
        return not refused
    if expected == 302:
        return response.status_code == 302 and "/accounts/login/" in response["Location"]
    return response.status_code == expected


def test_ten_2_every_back_office_url_answers_each_role_as_its_view_allows(world):
    """GET for pages; a POST-only action (GET answers 405) is checked with an empty POST."""
    clients = {who: Client() for who in USERS}
    for who in USERS[1:]:
        clients[who].force_login(
            getattr(world, who), backend="django.contrib.auth.backends.ModelBackend"
        )
    checked = set()
    for route in manage_routes():
        url = reverse(route.name, kwargs=_fill(route, world.company_a))
        own = OWN_CHECKS.get(route.name)
        minimum = "—" if own else _minimum_role(url)
        method = "post" if clients["owner_a"].get(url).status_code == 405 else "get"
        for who in USERS:
            response = getattr(clients[who], method)(url)
            expected = own[who] if own else _expected(who, minimum, bool(route.kwargs))
            assert _ok(response, expected), (
                f"{method.upper()} {url} ({route.name}, minimum role {minimum}) as {who}: "
                f"{response.status_code}, expected {expected}"
            )
        checked.add(route.name)
    assert len(checked) >= 40
