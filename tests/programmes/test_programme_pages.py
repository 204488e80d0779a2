"""Programme pages: list, create, edit, archive (TEN-2: admins configure)."""

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from credits.models import CancellationPolicy
from programmes.models import Class, Programme
from tests import factories as f

pytestmark = pytest.mark.django_db

NOTHING_SAVED = "Nothing was saved: please correct the fields marked below."


def _data(**overrides) -> dict:
    data = {
        "name": "Swim Level 2",
        "code": "swim-l2",
        "description": "Freestyle and backstroke.",
        "makeups_enabled": "on",
        "accept_partner_makeups": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _count(company) -> int:
    with scope(company=company):
        return Programme.objects.count()


def test_admin_creates_a_programme_with_its_code_in_capitals(world, login):
    response = login(world.admin_a).post(reverse("manage:programme_create"), _data())
    assert response.status_code == 302
    assert response["Location"] == reverse("manage:programme_list")
    with scope(company=world.company_a):
        programme = Programme.objects.get()
        assert CancellationPolicy.objects.filter(programme=programme).exists()
    assert (programme.code, programme.company) == ("SWIM-L2", world.company_a)
    assert programme.makeups_enabled and not programme.accept_partner_makeups
    page = login(world.admin_a).get(reverse("manage:programme_list")).content.decode()
    assert "Programme Swim Level 2 created." in page
    assert "SWIM-L2" in page


def test_frn_4_programme_code_is_unique_per_company(world, login):
    f.ProgrammeFactory(company=world.company_a, code="SWIM-L2")
    f.ProgrammeFactory(company=world.company_b, code="SWIM-L3")
    client = login(world.admin_a)
    response = client.post(reverse("manage:programme_create"), _data(code=" swim-l2 "))
    assert response.status_code == 200
    assert NOTHING_SAVED in response.content.decode()
    assert "already uses the code SWIM-L2" in str(response.context["form"].errors["code"])
    assert _count(world.company_a) == 1
    # Another company's code is no obstacle: codes match programmes across companies.
    response = client.post(reverse("manage:programme_create"), _data(code="swim-l3"))
    assert response.status_code == 302
    assert _count(world.company_a) == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [("code", "SWIM L2!"), ("code", ""), ("name", "")],
)
def test_programme_form_rejects_bad_input_next_to_the_field(world, login, field, value):
    response = login(world.admin_a).post(
        reverse("manage:programme_create"), _data(**{field: value})
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert b"is-invalid" in response.content
    assert NOTHING_SAVED in response.content.decode()
    assert _count(world.company_a) == 0


def test_admin_edits_a_programme_and_keeps_its_own_code(world, login):
    programme = f.ProgrammeFactory(company=world.company_a, code="SWIM-L2", name="Old")
    url = reverse("manage:programme_edit", kwargs={"programme_pk": programme.pk})
    client = login(world.owner_a)
    assert client.get(url).status_code == 200
    response = client.post(url, _data(name="Swim Level Two", code="swim-l2", makeups_enabled=None))
    assert response.status_code == 302
    programme.refresh_from_db()
    assert (programme.name, programme.code, programme.makeups_enabled) == (
        "Swim Level Two",
        "SWIM-L2",
        False,
    )


def test_editing_a_programme_to_another_programmes_code_is_refused(world, login):
    f.ProgrammeFactory(company=world.company_a, code="SWIM-L1")
    programme = f.ProgrammeFactory(company=world.company_a, code="SWIM-L2")
    url = reverse("manage:programme_edit", kwargs={"programme_pk": programme.pk})
    response = login(world.admin_a).post(url, _data(code="swim-l1"))
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    programme.refresh_from_db()
    assert programme.code == "SWIM-L2"


def test_archive_toggles_and_refuses_a_programme_with_active_classes(world, login):
    programme = f.ProgrammeFactory(company=world.company_a, name="Swim Level 2")
    klass = f.ClassFactory(programme=programme)
    url = reverse("manage:programme_archive", kwargs={"programme_pk": programme.pk})
    client = login(world.admin_a)
    assert client.get(url).status_code == 405

    response = client.post(url, follow=True)
    assert "still has 1 active class(es); archive them first" in response.content.decode()
    programme.refresh_from_db()
    assert programme.archived_at is None

    with scopes_disabled():
        Class.objects.filter(pk=klass.pk).update(archived_at=programme.created_at)
    response = client.post(url, follow=True)
    programme.refresh_from_db()
    assert programme.is_archived
    page = response.content.decode()
    assert "Programme Swim Level 2 archived." in page
    assert response.context["archived_programmes"] == [programme]
    assert response.context["active_programmes"] == []

    client.post(url)
    programme.refresh_from_db()
    assert not programme.is_archived


def test_programme_list_counts_active_classes(world, login):
    programme = f.ProgrammeFactory(company=world.company_a)
    f.ClassFactory(programme=programme)
    f.ClassFactory(programme=programme)
    f.ClassFactory(programme=programme, archived_at="2026-01-01T00:00Z")
    f.ProgrammeFactory(company=world.company_b)
    response = login(world.admin_a).get(reverse("manage:programme_list"))
    [row] = response.context["active_programmes"]
    assert row.active_class_count == 2


# --- roles (TEN-2) -------------------------------------------------------------------------


def _programme_urls(world) -> list[tuple[str, str]]:
    programme = f.ProgrammeFactory(company=world.company_a)
    pk = {"programme_pk": programme.pk}
    return [
        ("get", reverse("manage:programme_list")),
        ("get", reverse("manage:programme_create")),
        ("post", reverse("manage:programme_create")),
        ("get", reverse("manage:programme_edit", kwargs=pk)),
        ("post", reverse("manage:programme_edit", kwargs=pk)),
        ("post", reverse("manage:programme_archive", kwargs=pk)),
    ]


def test_ten_2_staff_cannot_open_or_change_programmes(world, login):
    client = login(world.staff_a)
    for method, url in _programme_urls(world):
        assert getattr(client, method)(url).status_code == 403, f"{method} {url}"
    with scope(company=world.company_a):
        assert not Programme.objects.filter(archived_at__isnull=False).exists()


@pytest.mark.parametrize("who", ["admin_a", "owner_a"])
def test_ten_2_admins_and_owners_open_programme_pages(world, login, who):
    client = login(getattr(world, who))
    for method, url in _programme_urls(world):
        if method == "get":
            assert client.get(url).status_code == 200, url


def test_ten_1_programme_list_shows_only_the_own_company(world, login):
    f.ProgrammeFactory(company=world.company_b, name="Beta Secret Programme")
    f.ProgrammeFactory(company=world.company_a, name="Alpha Programme")
    page = login(world.admin_a).get(reverse("manage:programme_list")).content.decode()
    assert "Alpha Programme" in page
    assert "Beta Secret Programme" not in page


# --- query budget --------------------------------------------------------------------------


def _add_programmes(company, count: int, start: int) -> None:
    with scopes_disabled():
        programmes = Programme.objects.bulk_create(
            Programme(company=company, name=f"Programme {i:04d}", code=f"P-{i:04d}")
            for i in range(start, start + count)
        )
        Class.objects.bulk_create(
            Class(
                company=company,
                programme=programme,
                name=f"Class of {programme.code}",
                capacity=8,
                start_date="2026-10-06",
                end_date="2026-12-15",
                price_per_session=25,
                archived_at="2026-01-01T00:00Z" if i % 5 == 0 else None,
            )
            for i, programme in enumerate(programmes)
        )
        Programme.objects.filter(pk__in=[p.pk for p in programmes[::7]]).update(
            archived_at="2026-01-01T00:00Z"
        )


def test_programme_list_query_count_does_not_grow_with_programmes(world, login, page_queries):
    client = login(world.admin_a)
    url = reverse("manage:programme_list")
    _add_programmes(world.company_a, 5, 0)
    few, _ = page_queries(client, url)
    _add_programmes(world.company_a, 495, 5)
    many, response = page_queries(client, url)
    context = response.context
    assert len(context["active_programmes"]) + len(context["archived_programmes"]) == 500
    assert response.content.decode().count("manage/programmes/") > 1000
    assert many == few, f"{few} queries for 5 programmes, {many} for 500"
    assert many <= 8
