"""Back-office family pages: list and search, the family page, creating and editing
families, parents and children (TEN-1, TEN-2)."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import (
    Attendance,
    AttendanceChange,
    AttendanceState,
    Enrolment,
    Family,
    Guardian,
    Student,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

NOTHING_SAVED = "Nothing was saved: please correct the fields marked below."


def _today(company) -> date:
    return timezone.localdate(timezone=company.tzinfo)


def _running_class(company, **kwargs):
    today = _today(company)
    return f.ClassFactory(
        programme__company=company,
        start_date=today - timedelta(days=30),
        end_date=today + timedelta(days=60),
        **kwargs,
    )


def _family(company, name, *, parent=None, email="", phone="", children=(), user=None):
    family = f.FamilyFactory(company=company, name=name)
    if parent:
        f.GuardianFactory(family=family, user=user, full_name=parent, email=email, phone=phone)
    for first, born in children:
        f.StudentFactory(family=family, first_name=first, last_name=name, date_of_birth=born)
    return family


def _names(response) -> list[str]:
    return [family.name for family in response.context["page"].object_list]


# --- list and search ----------------------------------------------------------------------


def test_ten_2_staff_can_manage_families(client, world, login):
    login(world.staff_a)
    assert client.get(reverse("manage:family_list")).status_code == 200
    response = client.post(
        reverse("manage:family_create"),
        {
            "family-name": "Nguyen",
            "family-notes": "Prefers SMS.",
            "parent-full_name": "Linh Nguyen",
            "parent-email": "Linh@Example.com",
            "parent-phone": "0412 345 678",
            "child-first_name": "Minh",
            "child-last_name": "Nguyen",
            "child-date_of_birth": "2018-03-14",
        },
    )
    with scope(company=world.company_a):
        family = Family.objects.get(name="Nguyen")
        guardian = family.guardians.get()
        student = family.students.get()
    assert response.status_code == 302
    assert response.url == reverse("manage:family_detail", args=[family.pk])
    assert family.company == world.company_a and family.notes == "Prefers SMS."
    assert (guardian.full_name, guardian.email, guardian.user) == (
        "Linh Nguyen",
        "linh@example.com",
        None,
    )
    assert (student.first_name, student.date_of_birth) == ("Minh", date(2018, 3, 14))
    page = client.get(response.url)
    assert page.status_code == 200
    assert "Linh Nguyen" in page.content.decode() and "Minh Nguyen" in page.content.decode()


def test_ten_2_a_parent_without_membership_is_refused(client, world, login):
    login(world.parent_a)
    assert client.get(reverse("manage:family_list")).status_code == 403


def test_ten_2_anonymous_is_sent_to_login(client, world):
    response = client.get(reverse("manage:family_list"))
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_family_list_searches_family_parent_and_child_fields(client, world, login):
    a = world.company_a
    _family(a, "Nguyen", parent="Linh Nguyen", email="linh@example.com", phone="0412 345 678")
    _family(
        a, "Smith", parent="Jo Bloggs", email="jo@mail.test", children=[("Ava", date(2019, 1, 2))]
    )
    _family(a, "Jones", parent="Sam Jones", children=[("Oliver", date(2017, 5, 6))])
    _family(world.company_b, "Nguyen", parent="Other Nguyen")  # never listed in A
    login(world.staff_a)
    url = reverse("manage:family_list")

    def search(q):
        return _names(client.get(url, {"q": q}))

    assert search("") == ["Jones", "Nguyen", "Parker", "Smith"]
    assert search("nguy") == ["Nguyen"]  # family name
    assert search("bloggs") == ["Smith"]  # parent's name
    assert search("MAIL.TEST") == ["Smith"]  # parent's e-mail, any case
    assert search("345 678") == ["Nguyen"]  # parent's phone
    assert search("oliv") == ["Jones"]  # child's first name
    assert search("ava smith") == ["Smith"]  # every word matches something
    assert search("ava jones") == []
    response = client.get(url, {"q": "zzz"})
    assert "No family matches" in response.content.decode()


def test_family_list_shows_logins_ages_and_active_enrolments(client, world, login):
    a = world.company_a
    today = _today(a)
    klass = _running_class(a)
    family = _family(
        a,
        "Nguyen",
        parent="Linh Nguyen",
        email="linh@example.com",
        children=[("Minh", today.replace(year=today.year - 7) - timedelta(days=1))],
    )
    with scopes_disabled():
        student = family.students.get()
    f.EnrolmentFactory(klass=klass, student=student)
    f.EnrolmentFactory(klass=_running_class(a), student=student, withdrawn_from=today)
    ended = f.ClassFactory(
        programme__company=a,
        start_date=today - timedelta(days=100),
        end_date=today - timedelta(days=1),
    )
    f.EnrolmentFactory(klass=ended, student=student)
    login(world.staff_a)
    response = client.get(reverse("manage:family_list"))
    rows = {fam.name: fam for fam in response.context["page"].object_list}
    assert rows["Nguyen"].active_enrolments == 1
    assert rows["Parker"].active_enrolments == 0
    html = response.content.decode()
    assert 'Minh Nguyen <small class="text-body-secondary">(7)</small>' in html
    assert html.count("portal login") == 1  # Parker's parent has a login, Linh has none


def test_family_list_is_paginated_by_50(client, world, login):
    with scopes_disabled():
        Family.objects.bulk_create(
            [Family(company=world.company_a, name=f"Family {i:03}") for i in range(60)]
        )
    login(world.staff_a)
    first = client.get(reverse("manage:family_list"))
    assert len(first.context["page"].object_list) == 50
    second = client.get(reverse("manage:family_list"), {"page": 2})
    assert len(second.context["page"].object_list) == 11  # + Parker


@scopes_disabled()
def _bulk_families(company, count: int, klass) -> None:
    """``count`` families, each with a parent and two children, one of them enrolled."""
    start = Family.objects.filter(company=company).count()
    families = Family.objects.bulk_create(
        [Family(company=company, name=f"Bulk {start + i:05}") for i in range(count)]
    )
    Guardian.objects.bulk_create(
        [
            Guardian(
                company=company,
                family=fam,
                full_name=f"Parent {fam.name}",
                email=f"{fam.name.replace(' ', '.').lower()}@example.com",
            )
            for fam in families
        ]
    )
    students = Student.objects.bulk_create(
        [
            Student(
                company=company,
                family=fam,
                first_name=first,
                last_name=fam.name,
                date_of_birth=date(2018, 1, 1),
            )
            for fam in families
            for first in ("Ann", "Bob")
        ]
    )
    Enrolment.objects.bulk_create(
        [
            Enrolment(company=company, klass=klass, student=s, start_date=klass.start_date)
            for s in students[::2]
        ]
    )


def test_family_list_costs_the_same_queries_for_2000_families_as_for_5(client, world, login):
    a = world.company_a
    klass = _running_class(a, capacity=500)
    _bulk_families(a, 4, klass)  # + Parker = 5
    login(world.staff_a)
    url = reverse("manage:family_list")
    client.get(url)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as small_search:
        assert client.get(url, {"q": "bulk ann"}).status_code == 200

    _bulk_families(a, 1995, klass)
    with scopes_disabled():
        assert Family.objects.filter(company=a).count() == 2000
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    with CaptureQueriesContext(connection) as large_search:
        searched = client.get(url, {"q": "bulk ann", "page": 3})
    assert len(response.context["page"].object_list) == 50
    assert searched.context["page"].paginator.count == 1999
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    assert len(large_search) == len(small_search)
    assert len(large) <= 10, len(large)


# --- the family page ----------------------------------------------------------------------


def _busy_family(company, *, children: int, sessions: int, staff):
    family = _family(company, f"Busy{children}", parent="Pat Busy", email=f"p{children}@x.test")
    f.GuardianFactory(family=family, full_name="Second Parent")  # with a login
    klass = _running_class(company, capacity=50)
    today = _today(company)
    for i in range(children):
        student = f.StudentFactory(family=family, first_name=f"Kid{i}")
        enrolment = f.EnrolmentFactory(klass=klass, student=student)
        f.EnrolmentFactory(klass=_running_class(company), student=student)
        for day in range(sessions):
            session = f.SessionFactory(
                klass=klass, local_date=today - timedelta(days=7 * day + i + 1)
            )
            attendance = Attendance.objects.create(
                company=company, enrolment=enrolment, session=session, state="present"
            )
            AttendanceChange.objects.create(
                company=company,
                attendance=attendance,
                from_state="expected",
                to_state="present",
                changed_at=session.starts_at,
                changed_by=staff,
            )
    return family


def test_family_page_costs_a_fixed_number_of_queries(client, world, login):
    a = world.company_a
    small = _busy_family(a, children=1, sessions=1, staff=world.staff_a)
    large = _busy_family(a, children=5, sessions=12, staff=world.staff_a)
    login(world.staff_a)
    client.get(reverse("manage:family_detail", args=[small.pk]))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("manage:family_detail", args=[small.pk])).status_code == 200
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("manage:family_detail", args=[large.pk]))
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    page = response.context["page"]
    assert len(page.attendance) == 50  # the last 50 of 60
    assert len(page.students) == 5 and len(page.guardians) == 2
    starts = [row.session.starts_at for row in page.attendance]
    assert starts == sorted(starts, reverse=True)


def test_family_page_shows_portal_status_enrolments_and_attendance(client, world, login):
    a = world.company_a
    klass = _running_class(a, name="Tuesday Dolphins")
    family = _family(a, "Nguyen", parent="Linh Nguyen", email="linh@example.com")
    f.GuardianFactory(family=family, full_name="Has Login")
    f.GuardianFactory(family=family, user=None, full_name="No Email", email="")
    student = f.StudentFactory(family=family, first_name="Minh", date_of_birth=date(2018, 3, 14))
    enrolment = f.EnrolmentFactory(klass=klass, student=student)
    session = f.SessionFactory(klass=klass, local_date=_today(a) - timedelta(days=2))
    Attendance.objects.create(
        company=a,
        enrolment=enrolment,
        session=session,
        state=AttendanceState.NO_SHOW,
    )
    login(world.staff_a)
    html = client.get(reverse("manage:family_detail", args=[family.pk])).content.decode()
    assert "has a login" in html and "no login" in html
    with scopes_disabled():
        linh = Guardian.objects.get(full_name="Linh Nguyen")
        no_email = Guardian.objects.get(full_name="No Email")
    assert reverse("manage:guardian_invite", args=[linh.pk]) in html
    assert reverse("manage:guardian_invite", args=[no_email.pk]) not in html
    assert "Born 14 Mar 2018" in html
    assert "Tuesday Dolphins" in html and klass.programme.name in html
    assert "Did not attend" in html
    local = session.starts_at.astimezone(a.tzinfo)
    assert f"{local:%H:%M}" in html  # shown in the company's time zone (TEN-3)


def test_ten_1_family_of_another_company_is_404(client, world, login):
    family = _family(world.company_a, "Nguyen", parent="Linh", email="l@x.test")
    with scopes_disabled():
        guardian = family.guardians.get()
    student = f.StudentFactory(family=family)
    login(world.staff_b)
    assert client.get(reverse("manage:family_detail", args=[family.pk])).status_code == 404
    assert (
        client.post(reverse("manage:family_edit", args=[family.pk]), {"name": "X"}).status_code
        == 404
    )
    assert (
        client.post(
            reverse("manage:student_edit", args=[student.pk]),
            {"first_name": "X", "last_name": "Y", "date_of_birth": "2018-01-01"},
        ).status_code
        == 404
    )
    assert client.post(reverse("manage:guardian_invite", args=[guardian.pk])).status_code == 404
    with scopes_disabled():
        assert Family.objects.get(pk=family.pk).name == "Nguyen"
        assert Student.objects.get(pk=student.pk).first_name != "X"
    assert "Nguyen" not in client.get(reverse("manage:family_list")).content.decode()


# --- create and edit ----------------------------------------------------------------------


def test_family_create_with_a_bad_child_saves_nothing(client, world, login):
    login(world.staff_a)
    tomorrow = _today(world.company_a) + timedelta(days=1)
    response = client.post(
        reverse("manage:family_create"),
        {
            "family-name": "Nguyen",
            "parent-full_name": "Linh Nguyen",
            "parent-email": "parent.a@example.com",  # Parker's parent uses it
            "child-first_name": "Minh",
            "child-last_name": "",
            "child-date_of_birth": tomorrow.isoformat(),
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert NOTHING_SAVED in html
    assert "already" in response.context["parent_form"].errors["email"][0]
    child_errors = response.context["child_form"].errors
    assert "last_name" in child_errors
    assert "future" in child_errors["date_of_birth"][0]
    with scope(company=world.company_a):
        assert not Family.objects.filter(name="Nguyen").exists()
        assert Guardian.objects.filter(email="parent.a@example.com").count() == 1


def test_family_create_without_a_child(client, world, login):
    login(world.staff_a)
    response = client.post(
        reverse("manage:family_create"),
        {"family-name": "Nguyen", "parent-full_name": "Linh Nguyen", "parent-email": ""},
    )
    assert response.status_code == 302
    with scope(company=world.company_a):
        family = Family.objects.get(name="Nguyen")
        assert family.guardians.count() == 1 and family.students.count() == 0


def test_family_create_needs_a_name_and_a_parent(client, world, login):
    login(world.staff_a)
    response = client.post(reverse("manage:family_create"), {"family-name": " "})
    assert response.status_code == 200
    assert NOTHING_SAVED in response.content.decode()
    assert "name" in response.context["family_form"].errors
    assert "full_name" in response.context["parent_form"].errors
    with scope(company=world.company_a):
        assert Family.objects.count() == 1  # Parker


def test_family_edit(client, world, login):
    family = _family(world.company_a, "Nguyen")
    login(world.staff_a)
    url = reverse("manage:family_edit", args=[family.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"name": "", "notes": "x"})
    assert bad.status_code == 200 and NOTHING_SAVED in bad.content.decode()
    good = client.post(url, {"name": "  Nguyen-Tran ", "notes": "Two surnames"})
    assert good.status_code == 302
    family.refresh_from_db()
    assert (family.name, family.notes) == ("Nguyen-Tran", "Two surnames")


def test_guardian_email_is_unique_in_the_company_not_across_companies(client, world, login):
    family = _family(world.company_a, "Nguyen", parent="Linh", email="linh@example.com")
    other = _family(world.company_b, "Smith", parent="Jo", email="jo@example.com")
    login(world.staff_a)
    url = reverse("manage:guardian_create", args=[family.pk])
    response = client.post(url, {"full_name": "Tran", "email": "LINH@example.com"})
    assert response.status_code == 200
    assert "already Linh's (Nguyen family)" in response.context["form"].errors["email"][0]
    assert NOTHING_SAVED in response.content.decode()
    # Company B's parent's address is no obstacle in company A.
    response = client.post(url, {"full_name": "Jo Tran", "email": "jo@example.com"})
    assert response.status_code == 302
    with scopes_disabled():
        assert Guardian.objects.filter(email="jo@example.com").count() == 2
        assert other.guardians.count() == 1


def test_guardian_edit_keeps_the_login_email(client, world, login):
    with scopes_disabled():
        parker = Guardian.objects.get(user=world.parent_a)
    login(world.staff_a)
    url = reverse("manage:guardian_edit", args=[parker.pk])
    response = client.get(url)
    assert response.context["form"].fields["email"].disabled
    response = client.post(url, {"full_name": "Pat Parker", "email": "evil@x.test", "phone": "1"})
    assert response.status_code == 302
    parker.refresh_from_db()
    assert (parker.full_name, parker.email, parker.phone) == (
        "Pat Parker",
        "parent.a@example.com",
        "1",
    )


def test_guardian_edit_changes_details_of_a_parent_without_login(client, world, login):
    family = _family(world.company_a, "Nguyen", parent="Linh", email="linh@example.com")
    with scopes_disabled():
        guardian = family.guardians.get()
    login(world.staff_a)
    url = reverse("manage:guardian_edit", args=[guardian.pk])
    bad = client.post(url, {"full_name": "Linh", "email": "not-an-email"})
    assert bad.status_code == 200 and "email" in bad.context["form"].errors
    taken = client.post(url, {"full_name": "Linh", "email": "parent.a@example.com"})
    assert taken.status_code == 200 and "email" in taken.context["form"].errors
    guardian.refresh_from_db()
    assert guardian.email == "linh@example.com"
    ok = client.post(url, {"full_name": "Linh N", "email": "Linh.N@example.com", "phone": ""})
    assert ok.status_code == 302
    guardian.refresh_from_db()
    assert (guardian.full_name, guardian.email) == ("Linh N", "linh.n@example.com")


def test_student_date_of_birth_not_in_the_future_nor_over_100_years_ago(client, world, login):
    family = _family(world.company_a, "Nguyen")
    today = _today(world.company_a)
    login(world.staff_a)
    url = reverse("manage:student_create", args=[family.pk])
    assert client.get(url).context["form"].initial["last_name"] == "Nguyen"
    for born, expected in [
        (today + timedelta(days=1), "future"),
        (date(today.year - 101, 1, 1), "100 years"),
    ]:
        response = client.post(
            url, {"first_name": "Minh", "last_name": "Nguyen", "date_of_birth": born.isoformat()}
        )
        assert response.status_code == 200
        assert expected in response.context["form"].errors["date_of_birth"][0]
        assert NOTHING_SAVED in response.content.decode()
    with scopes_disabled():
        assert not family.students.exists()
    response = client.post(
        url, {"first_name": "Minh", "last_name": "Nguyen", "date_of_birth": today.isoformat()}
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert family.students.get().date_of_birth == today


def test_student_edit(client, world, login):
    family = _family(world.company_a, "Nguyen", children=[("Minh", date(2018, 3, 14))])
    with scopes_disabled():
        student = family.students.get()
    login(world.staff_a)
    url = reverse("manage:student_edit", args=[student.pk])
    assert client.get(url).context["form"].initial["first_name"] == "Minh"
    bad = client.post(url, {"first_name": "", "last_name": "Nguyen", "date_of_birth": "x"})
    assert bad.status_code == 200
    assert set(bad.context["form"].errors) == {"first_name", "date_of_birth"}
    student.refresh_from_db()
    assert student.first_name == "Minh"
    ok = client.post(url, {"first_name": "Min", "last_name": "Tran", "date_of_birth": "2018-03-15"})
    assert ok.status_code == 302
    student.refresh_from_db()
    assert (student.first_name, student.last_name, student.date_of_birth) == (
        "Min",
        "Tran",
        date(2018, 3, 15),
    )


def test_html_in_names_is_shown_as_text(client, world, login):
    _family(
        world.company_a,
        "<script>alert(1)</script>",
        parent="<b>Bold</b>",
        children=[("<i>x</i>", date(2018, 1, 1))],
    )
    login(world.staff_a)
    html = client.get(reverse("manage:family_list")).content.decode()
    assert "<script>alert(1)</script>" not in html and "<b>Bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
