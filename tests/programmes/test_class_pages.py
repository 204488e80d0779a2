"""Class pages: list with filters, create and edit with the weekly schedule, archive."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import Enrolment, Family, Student
from programmes.models import Class, ClassSchedule, ExtraCapacityMode, Session
from tests import factories as f

pytestmark = pytest.mark.django_db

NOTHING_SAVED = "Nothing was saved: please correct the fields marked below."
REGENERATION_NOTE = (
    "Changing the schedule or the dates regenerates future sessions. Sessions that already "
    "took place, one-off sessions, and sessions that already have attendance or bookings are "
    "kept."
)
TUESDAY = 1


def _term() -> tuple[date, date]:
    """A term starting on the Tuesday two to eight days from today, four weeks long."""
    today = timezone.localdate()
    start = today + timedelta(days=2 + (TUESDAY - (today.weekday() + 2)) % 7)
    return start, start + timedelta(weeks=3)


def _slot_data(slots, *, initial=()) -> dict:
    """Formset fields for ``slots`` (weekday, "HH:MM", minutes[, delete]); ``initial`` gives
    the existing ClassSchedule rows the first forms stand for."""
    data = {
        "schedule-TOTAL_FORMS": str(len(slots)),
        "schedule-INITIAL_FORMS": str(len(initial)),
        "schedule-MIN_NUM_FORMS": "0",
        "schedule-MAX_NUM_FORMS": "1000",
    }
    for i, slot in enumerate(slots):
        weekday, start, minutes, *delete = slot
        data[f"schedule-{i}-weekday"] = "" if weekday is None else str(weekday)
        data[f"schedule-{i}-start_time"] = start
        data[f"schedule-{i}-duration_minutes"] = str(minutes)
        if i < len(initial):
            data[f"schedule-{i}-id"] = str(initial[i].pk)
            data[f"schedule-{i}-klass"] = str(initial[i].klass_id)
        if delete and delete[0]:
            data[f"schedule-{i}-DELETE"] = "on"
    return data


def _class_data(programme, *, slots=((TUESDAY, "17:00", 30),), initial=(), **overrides) -> dict:
    start, end = _term()
    data = {
        "programme": str(programme.pk),
        "name": "Tuesday Dolphins",
        "instructor": "",
        "location": "Pool 1",
        "min_years": "4",
        "min_months": "",
        "max_years": "8",
        "max_months": "6",
        "capacity": "8",
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "price_per_session": "25.00",
        "course_price": "",
        "allow_makeups": "on",
        "extra_makeup_capacity": "0",
        "extra_capacity_mode": "add",
        "deduct_per_attendance": "1",
        **_slot_data(slots, initial=initial),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _counts(company) -> tuple[int, int, int]:
    with scope(company=company):
        return (Class.objects.count(), ClassSchedule.objects.count(), Session.objects.count())


@pytest.fixture
def programme(world):
    return f.ProgrammeFactory(company=world.company_a, name="Swim Level 2", code="DOLPHINS")


# --- create --------------------------------------------------------------------------------


def test_admin_creates_a_class_with_its_schedule_and_sessions(world, login, programme):
    client = login(world.admin_a)
    assert client.get(reverse("manage:class_create")).status_code == 200
    data = _class_data(programme, instructor=str(world.staff_a.pk), min_months="3")
    response = client.post(reverse("manage:class_create"), data, follow=True)
    page = response.content.decode()
    assert "Class Tuesday Dolphins created: 4 sessions added; 0 removed." in page
    with scope(company=world.company_a):
        klass = Class.objects.get()
    # The admin lands on the new class's page (its sessions, enrolling), not the list.
    assert response.redirect_chain == [
        (reverse("manage:class_detail", kwargs={"class_pk": klass.pk}), 302)
    ]
    with scope(company=world.company_a):
        slot = ClassSchedule.objects.get()
        sessions = list(Session.objects.filter(klass=klass))
    assert (klass.company, klass.programme, klass.instructor) == (
        world.company_a,
        programme,
        world.staff_a,
    )
    assert (klass.min_age_months, klass.max_age_months) == (51, 102)
    assert klass.price_per_session == Decimal("25.00") and klass.course_price is None
    assert (slot.company, slot.weekday, slot.start_time) == (world.company_a, 1, time(17, 0))
    assert len(sessions) == 4
    assert "4y 3m–8y 6m" in page


def test_class_form_offers_only_own_active_programmes_and_own_members(world, login, programme):
    f.ProgrammeFactory(company=world.company_a, name="Old Programme", archived_at=timezone.now())
    f.ProgrammeFactory(company=world.company_b, name="Beta Programme")
    outsider = f.UserFactory(full_name="Olive Outsider")
    form = login(world.admin_a).get(reverse("manage:class_create")).context["form"]
    assert list(form.fields["programme"].queryset) == [programme]
    instructors = set(form.fields["instructor"].queryset)
    assert {world.owner_a, world.admin_a, world.staff_a} == instructors
    assert outsider not in instructors and world.staff_b not in instructors


def test_ten_1_class_form_refuses_another_companys_programme_and_instructor(
    world, login, programme
):
    foreign = f.ProgrammeFactory(company=world.company_b)
    client = login(world.admin_a)
    response = client.post(reverse("manage:class_create"), _class_data(foreign))
    assert "programme" in response.context["form"].errors
    response = client.post(
        reverse("manage:class_create"), _class_data(programme, instructor=str(world.staff_b.pk))
    )
    assert "instructor" in response.context["form"].errors
    assert _counts(world.company_a) == (0, 0, 0)


def test_ages_may_be_left_open_on_either_side(world, login, programme):
    data = _class_data(programme, min_years="", max_years="", max_months="")
    login(world.admin_a).post(reverse("manage:class_create"), data)
    data = _class_data(programme, name="Seniors", min_years="", min_months="6", max_years="")
    data["max_months"] = ""
    login(world.admin_a).post(reverse("manage:class_create"), data)
    with scope(company=world.company_a):
        ages = list(Class.objects.order_by("pk").values_list("min_age_months", "max_age_months"))
    assert ages == [(None, None), (6, None)]


def test_mkp_4_course_price_alone_is_accepted(world, login, programme):
    data = _class_data(programme, price_per_session="", course_price="180")
    response = login(world.admin_a).post(reverse("manage:class_create"), data)
    assert response.status_code == 302
    with scope(company=world.company_a):
        klass = Class.objects.get()
    assert (klass.price_per_session, klass.course_price) == (None, Decimal("180"))


def _start_plus(days: int) -> str:
    return (_term()[0] + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "slots", "field", "message"),
    [
        ({"capacity": "0"}, None, "capacity", "at least one place"),
        ({"capacity": "-3"}, None, "capacity", "at least one place"),
        ({"min_years": "9", "max_years": "8"}, None, "max_years", "oldest age must not be below"),
        # The date is computed in the test, under its frozen clock, not at collection.
        ({"end_date": lambda: _start_plus(-1)}, None, "end_date", "must not be before the start"),
        ({"price_per_session": "", "course_price": ""}, None, "price_per_session", "or both"),
        ({"price_per_session": "-1"}, None, "price_per_session", "can't be negative"),
        ({"course_price": "-0.01"}, None, "course_price", "can't be negative"),
        ({"name": ""}, None, "name", "required"),
        ({"min_months": "12"}, None, "min_months", "less than or equal to 11"),
        (
            {},
            [(TUESDAY, "17:00", 30), (TUESDAY, "17:00", 45)],
            "schedule-1-start_time",
            "overlaps Tuesday 17:00–17:30",
        ),
        (
            {},
            [(TUESDAY, "17:00", 45), (TUESDAY, "17:30", 30)],
            "schedule-1-start_time",
            "overlaps Tuesday 17:00–17:45",
        ),
        ({}, [(TUESDAY, "", 30)], "schedule-0-start_time", "required"),
        ({}, [(None, "17:00", 30)], "schedule-0-weekday", "required"),
        ({}, [(TUESDAY, "17:00", 2)], "schedule-0-duration_minutes", "greater than or equal to 5"),
        ({}, [], "schedule", "Add at least one weekly slot"),
        ({}, [(None, "", 30)], "schedule", "Add at least one weekly slot"),
    ],
)
def test_class_form_rejects_bad_input_next_to_the_field_and_saves_nothing(
    world, login, programme, overrides, slots, field, message
):
    kwargs = {"slots": slots} if slots is not None else {}
    overrides = {key: value() if callable(value) else value for key, value in overrides.items()}
    data = _class_data(programme, **kwargs, **overrides)
    response = login(world.admin_a).post(reverse("manage:class_create"), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert NOTHING_SAVED in content
    form, formset = response.context["form"], response.context["formset"]
    if field == "schedule":
        errors = " ".join(formset.non_form_errors())
    elif field.startswith("schedule-"):
        _, index, name = field.split("-")
        errors = " ".join(formset.forms[int(index)].errors.get(name, []))
        assert "is-invalid" in content
    else:
        errors = " ".join(form.errors.get(field, []))
        assert f'id="id_{field}"' in content and "is-invalid" in content
    assert message in errors, (field, form.errors, formset.errors, formset.non_form_errors())
    assert _counts(world.company_a) == (0, 0, 0)


def test_slots_on_different_days_or_back_to_back_do_not_overlap(world, login, programme):
    slots = [(TUESDAY, "17:00", 30), (TUESDAY, "17:30", 30), (3, "17:00", 30)]
    response = login(world.admin_a).post(
        reverse("manage:class_create"), _class_data(programme, slots=slots)
    )
    assert response.status_code == 302
    assert _counts(world.company_a)[1] == 3


# --- edit ----------------------------------------------------------------------------------


@pytest.fixture
def klass(world, programme):
    start, end = _term()
    klass = f.ClassFactory(
        programme=programme, name="Tuesday Dolphins", start_date=start, end_date=end
    )
    f.ClassScheduleFactory(klass=klass, weekday=TUESDAY, start_time=time(17, 0))
    from programmes.services.sessions import class_generate_sessions

    with scope(company=world.company_a):
        class_generate_sessions(now=timezone.now(), klass=klass)
    return klass


def _edit_url(klass) -> str:
    return reverse("manage:class_edit", kwargs={"class_pk": klass.pk})


def test_edit_page_says_what_regeneration_keeps(world, login, klass):
    response = login(world.admin_a).get(_edit_url(klass))
    assert response.status_code == 200
    assert REGENERATION_NOTE in response.content.decode()
    form = response.context["form"]
    assert (form.initial["min_years"], form.initial["max_years"]) == (4, 8)


def test_editing_the_schedule_regenerates_sessions_and_says_so(world, login, klass):
    with scope(company=world.company_a):
        slot = ClassSchedule.objects.get(klass=klass)
    data = _class_data(
        klass.programme,
        slots=[(TUESDAY, "17:00", 30, True), (3, "16:00", 45)],
        initial=[slot],
    )
    response = login(world.admin_a).post(_edit_url(klass), data, follow=True)
    assert response.redirect_chain == [(reverse("manage:class_list"), 302)]
    page = response.content.decode()
    assert "Class Tuesday Dolphins saved: 3 sessions added; 4 removed." in page, page
    with scope(company=world.company_a):
        slots = list(ClassSchedule.objects.filter(klass=klass).values_list("weekday", "start_time"))
        weekdays = {s.local_date.weekday() for s in Session.objects.filter(klass=klass)}
    assert slots == [(3, time(16, 0))]
    assert weekdays == {3}


def test_editing_a_slot_to_a_time_that_a_removed_slot_had_is_allowed(world, login, klass):
    with scope(company=world.company_a):
        slot = ClassSchedule.objects.get(klass=klass)
    data = _class_data(
        klass.programme,
        slots=[(TUESDAY, "17:00", 30, True), (TUESDAY, "17:00", 45)],
        initial=[slot],
    )
    assert login(world.admin_a).post(_edit_url(klass), data).status_code == 302
    with scope(company=world.company_a):
        assert list(ClassSchedule.objects.values_list("duration_minutes", flat=True)) == [45]


def test_removing_every_slot_is_refused(world, login, klass):
    with scope(company=world.company_a):
        slot = ClassSchedule.objects.get(klass=klass)
    data = _class_data(klass.programme, slots=[(TUESDAY, "17:00", 30, True)], initial=[slot])
    response = login(world.admin_a).post(_edit_url(klass), data)
    assert response.status_code == 200
    assert "Add at least one weekly slot" in " ".join(response.context["formset"].non_form_errors())
    assert _counts(world.company_a) == (1, 1, 4)


def test_bad_edit_saves_nothing(world, login, klass):
    with scope(company=world.company_a):
        slot = ClassSchedule.objects.get(klass=klass)
    data = _class_data(
        klass.programme,
        name="Renamed",
        capacity="0",
        slots=[(TUESDAY, "17:00", 30, True), (3, "16:00", 45)],
        initial=[slot],
    )
    response = login(world.admin_a).post(_edit_url(klass), data)
    assert response.status_code == 200
    assert response.context["title"] == "Tuesday Dolphins"
    klass.refresh_from_db()
    assert (klass.name, klass.capacity) == ("Tuesday Dolphins", 8)
    with scope(company=world.company_a):
        assert list(ClassSchedule.objects.values_list("weekday", flat=True)) == [TUESDAY]
    assert _counts(world.company_a) == (1, 1, 4)


def test_a_class_with_enrolments_stays_in_its_programme(world, login, klass):
    f.EnrolmentFactory(klass=klass)
    other = f.ProgrammeFactory(company=world.company_a)
    with scope(company=world.company_a):
        slot = ClassSchedule.objects.get(klass=klass)
    data = _class_data(other, initial=[slot])
    response = login(world.admin_a).post(_edit_url(klass), data)
    assert response.status_code == 200
    assert "can&#x27;t move to another programme" in response.content.decode()
    klass.refresh_from_db()
    assert klass.programme_id != other.pk


def test_archive_removes_future_sessions_and_unarchive_brings_them_back(world, login, klass):
    url = reverse("manage:class_archive", kwargs={"class_pk": klass.pk})
    client = login(world.admin_a)
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "Class Tuesday Dolphins archived: 0 sessions added; 4 removed." in (
        response.content.decode()
    )
    klass.refresh_from_db()
    assert klass.is_archived
    assert _counts(world.company_a)[2] == 0
    active = client.get(reverse("manage:class_list")).context["classes"]
    assert klass not in list(active)

    response = client.post(url, follow=True)
    assert "brought back: 4 sessions added" in response.content.decode()
    klass.refresh_from_db()
    assert not klass.is_archived


def test_mkp_7_extra_capacity_add_and_replace(world, login, programme):
    client = login(world.admin_a)
    for name, extra, mode in [("Adds", "2", "add"), ("Replaces", "0", "replace")]:
        data = _class_data(
            programme, name=name, extra_makeup_capacity=extra, extra_capacity_mode=mode
        )
        assert client.post(reverse("manage:class_create"), data).status_code == 302
    with scope(company=world.company_a):
        adds, replaces = Class.objects.order_by("pk")
    assert adds.extra_capacity_mode == ExtraCapacityMode.ADD
    assert (adds.extra_capacity(company_extra=3), replaces.extra_capacity(company_extra=3)) == (
        5,
        0,
    )
    adds.extra_makeup_capacity = 0
    assert adds.extra_capacity(company_extra=3) == 3  # 0 with add leaves the global number


# --- list and filters ----------------------------------------------------------------------


def test_class_list_shows_the_columns_and_filters(world, login, programme):
    other_programme = f.ProgrammeFactory(company=world.company_a, name="Adults")
    a = f.ClassFactory(
        programme=programme, name="Tue Dolphins", instructor=world.staff_a, location="Pool 1"
    )
    f.ClassScheduleFactory(klass=a, weekday=TUESDAY, start_time=time(17, 0))
    b = f.ClassFactory(
        programme=other_programme,
        name="Thu Adults",
        course_price=Decimal("180"),
        price_per_session=None,
        min_age_months=None,
        max_age_months=None,
    )
    f.ClassScheduleFactory(klass=b, weekday=3, start_time=time(19, 30), duration_minutes=60)
    f.EnrolmentFactory(klass=a)
    f.EnrolmentFactory(klass=a)
    withdrawn = f.EnrolmentFactory(klass=a)
    with scopes_disabled():
        Enrolment.objects.filter(pk=withdrawn.pk).update(withdrawn_from=withdrawn.start_date)
    f.ClassFactory(programme__company=world.company_b, name="Beta Class")

    client = login(world.staff_a)
    response = client.get(reverse("manage:class_list"))
    assert response.status_code == 200
    rows = {c.name: c for c in response.context["classes"]}
    assert set(rows) == {"Tue Dolphins", "Thu Adults"}
    assert (rows["Tue Dolphins"].enrolled_count, rows["Thu Adults"].enrolled_count) == (2, 0)
    page = response.content.decode()
    for text in [
        "Swim Level 2",
        "Pool 1",
        "4y–8y",
        "any age",
        "Tue 17:00",
        "Thu 19:30",
        "25.00 / session",
        "180.00 / course",
        world.staff_a.full_name,
    ]:
        assert text in page, text
    assert "New class" not in page, "staff see the list, not the configuration buttons"

    def names(**params) -> set[str]:
        return {c.name for c in client.get(reverse("manage:class_list"), params).context["classes"]}

    assert names(programme=programme.pk) == {"Tue Dolphins"}
    assert names(instructor=world.staff_a.pk) == {"Tue Dolphins"}
    assert names(weekday=3) == {"Thu Adults"}
    assert names(weekday=3, programme=programme.pk) == set()
    assert names(programme="not-a-number", weekday=TUESDAY) == {"Tue Dolphins"}


def test_class_list_links_to_the_class(world, login, programme):
    klass = f.ClassFactory(programme=programme)
    page = login(world.admin_a).get(reverse("manage:class_list")).content.decode()
    try:
        target = reverse("manage:class_detail", kwargs={"class_pk": klass.pk})
    except NoReverseMatch:
        target = reverse("manage:class_edit", kwargs={"class_pk": klass.pk})
    assert f'href="{target}"' in page


def test_class_list_status_filter_shows_archived_classes(world, login, programme):
    f.ClassFactory(programme=programme, name="Live")
    f.ClassFactory(programme=programme, name="Gone", archived_at=timezone.now())
    client = login(world.staff_a)
    url = reverse("manage:class_list")
    assert [c.name for c in client.get(url).context["classes"]] == ["Live"]
    assert [c.name for c in client.get(url, {"status": "archived"}).context["classes"]] == ["Gone"]
    assert len(client.get(url, {"status": "all"}).context["classes"]) == 2


# --- roles (TEN-2) -------------------------------------------------------------------------


def _class_urls(klass) -> list[tuple[str, str]]:
    pk = {"class_pk": klass.pk}
    return [
        ("get", reverse("manage:class_create")),
        ("post", reverse("manage:class_create")),
        ("get", reverse("manage:class_edit", kwargs=pk)),
        ("post", reverse("manage:class_edit", kwargs=pk)),
        ("post", reverse("manage:class_archive", kwargs=pk)),
    ]


def test_ten_2_staff_cannot_create_edit_or_archive_classes(world, login, klass):
    client = login(world.staff_a)
    for method, url in _class_urls(klass):
        assert getattr(client, method)(url).status_code == 403, f"{method} {url}"
    klass.refresh_from_db()
    assert not klass.is_archived
    assert client.get(reverse("manage:class_list")).status_code == 200


@pytest.mark.parametrize("who", ["admin_a", "owner_a"])
def test_ten_2_admins_and_owners_open_class_pages(world, login, klass, who):
    client = login(getattr(world, who))
    assert client.get(reverse("manage:class_list")).status_code == 200
    for method, url in _class_urls(klass):
        if method == "get":
            assert client.get(url).status_code == 200, url


def test_ten_1_another_companys_class_is_404(world, login, klass):
    client = login(world.owner_b)
    assert client.get(_edit_url(klass)).status_code == 404
    url = reverse("manage:class_archive", kwargs={"class_pk": klass.pk})
    assert client.post(url).status_code == 404
    klass.refresh_from_db()
    assert not klass.is_archived


# --- query budget --------------------------------------------------------------------------


def _add_classes(world, programmes, count: int, start: int) -> None:
    company = world.company_a
    term_start, term_end = _term()
    with scopes_disabled():
        classes = Class.objects.bulk_create(
            Class(
                company=company,
                programme=programmes[i % len(programmes)],
                name=f"Class {i:04d}",
                instructor=world.staff_a if i % 2 else None,
                location=f"Pool {i % 3}",
                min_age_months=36 + i % 24,
                max_age_months=120,
                capacity=10,
                start_date=term_start,
                end_date=term_end,
                price_per_session=Decimal("20"),
                course_price=Decimal("150") if i % 3 == 0 else None,
            )
            for i in range(start, start + count)
        )
        ClassSchedule.objects.bulk_create(
            ClassSchedule(
                company=company,
                klass=klass,
                weekday=weekday,
                start_time=time(9 + i % 8, 0),
                duration_minutes=30,
            )
            for i, klass in enumerate(classes)
            for weekday in (i % 7, (i + 3) % 7)
        )
        family = Family.objects.create(company=company, name=f"Family {start}")
        students = Student.objects.bulk_create(
            Student(
                company=company,
                family=family,
                first_name=f"Kid {n}",
                last_name="Family",
                date_of_birth=date(2019, 1, 1),
            )
            for n in range(3)
        )
        Enrolment.objects.bulk_create(
            Enrolment(company=company, student=student, klass=klass, start_date=term_start)
            for klass in classes
            for student in students
        )


@pytest.mark.parametrize("params", ["", "?weekday=2&status=all", "?instructor=PLACEHOLDER"])
def test_class_list_query_count_does_not_grow_with_classes(world, login, params, page_queries):
    programmes = [f.ProgrammeFactory(company=world.company_a) for _ in range(3)]
    client = login(world.staff_a)
    url = reverse("manage:class_list") + params.replace("PLACEHOLDER", str(world.staff_a.pk))
    _add_classes(world, programmes, 5, 0)
    few, _ = page_queries(client, url)
    _add_classes(world, programmes, 495, 5)
    many, response = page_queries(client, url)
    classes = list(response.context["classes"])
    assert len(classes) >= 140 if params else len(classes) == 500
    assert {c.enrolled_count for c in classes} == {3}
    assert many == few, f"{few} queries for 5 classes, {many} for 500"
    assert many <= 10
