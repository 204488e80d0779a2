"""TEN-2: owners and admins configure; staff take attendance and book; parents stay out."""

import pytest

pytestmark = pytest.mark.django_db


def test_ten_2_anonymous_is_sent_to_login(client, world):
    response = client.get("/manage/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/manage/settings/")


def test_ten_2_staff_cannot_open_company_settings(world, login):
    assert login(world.staff_a).get("/manage/settings/").status_code == 403


@pytest.mark.parametrize("who", ["admin_a", "owner_a"])
def test_ten_2_admins_and_owners_open_company_settings(world, login, who):
    assert login(getattr(world, who)).get("/manage/settings/").status_code == 200


def test_ten_2_parent_gets_403_in_the_back_office(world, login):
    response = login(world.parent_a).get("/manage/")
    assert response.status_code == 403
    assert b"You can't open this page" in response.content


def test_ten_2_staff_navigation_hides_admin_sections(world, login):
    response = login(world.staff_a).get("/manage/")
    labels = {item["label"] for item in response.context["manage_navigation"]}
    assert "Settings" not in labels
    response = login(world.owner_a).get("/manage/")
    labels = {item["label"] for item in response.context["manage_navigation"]}
    assert "Settings" in labels


def test_ten_2_company_switcher_changes_the_current_company(world, login):
    from tests.factories import MembershipFactory

    MembershipFactory(user=world.staff_a, company=world.company_b, role="admin")
    client = login(world.staff_a)
    assert client.get("/manage/").context["company"] == world.company_a  # first by name
    response = client.post(f"/manage/switch/{world.company_b.pk}/")
    assert response.status_code == 302
    page = client.get("/manage/")
    assert page.context["company"] == world.company_b
    assert page.context["membership"].role == "admin"
    assert b"Switch company" in page.content


def test_ten_1_switcher_refuses_a_company_the_user_is_not_in(world, login):
    client = login(world.staff_b)
    assert client.post(f"/manage/switch/{world.company_a.pk}/").status_code == 404
    assert client.post("/manage/switch/999999/").status_code == 404
    assert client.get("/manage/").context["company"] == world.company_b
