"""DAY-3: the back office's one search box (families, students and parents by name, e-mail or
phone, with typos and without accents) and the class page's searchable student picker."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import Enrolment, Family, Guardian
from bookings.selectors.search import matching, months_before, search_people
from makeup.searchtext import fold, parse, typo_regex
from programmes.models import age_in_months
from tests import factories as f

pytestmark = pytest.mark.django_db

URL = "/manage/search/"


def _today(company) -> date:
    return timezone.localdate(timezone=company.tzinfo)


def _family(company, name, *, parent="", email="", phone="", child=""):
    family = f.FamilyFactory(company=company, name=name)
    if parent:
        f.GuardianFactory(family=family, user=None, full_name=parent, email=email, phone=phone)
    if child:
        f.StudentFactory(
            family=family, first_name=child, last_name=name, date_of_birth=date(2019, 5, 1)
        )
    return family


def _search(company, q):
    with scope(company=company):
        return search_people(company=company, q=q, today=_today(company))


def _page(client, q, **extra):
    return client.get(URL, {"q": q, **extra})


# --- matching ---------------------------------------------------------------------------


def test_day_3_typo_jonh_finds_john(world):
    _family(world.company_a, "Smith", parent="John Smith", child="John")
    _family(world.company_a, "Jones", parent="Joe Jones", child="Johnny")
    results = _search(world.company_a, "Jonh")
    assert [g.full_name for g in results.guardians] == ["John Smith"]
    assert [(s.first_name, s.last_name) for s in results.students] == [("John", "Smith")]
    # A letter missing or one too many; exact matches come first.
    assert [g.full_name for g in _search(world.company_a, "Smth").guardians] == ["John Smith"]
    assert [g.full_name for g in _search(world.company_a, "Smiith").guardians] == ["John Smith"]
    _family(world.company_a, "Smithers", parent="Ann Smithers")
    assert [g.full_name for g in _search(world.company_a, "smith").guardians] == [
        "Ann Smithers",
        "John Smith",
    ]
    assert [g.full_name for g in _search(world.company_a, "smiht").guardians] == ["John Smith"]
    assert [g.full_name for g in _search(world.company_a, "Jhon Smtih").guardians] == ["John Smith"]
    assert _search(world.company_a, "Jxxn").count == 0  # two typos are too many


def test_day_3_accents_do_not_matter_either_way(world):
    _family(world.company_a, "Nováková", parent="Jana Nováková", child="Eliška")
    _family(world.company_a, "Novak", parent="Petr Novak")
    assert [x.name for x in _search(world.company_a, "Novakova").families] == ["Nováková"]
    assert [s.first_name for s in _search(world.company_a, "eliska").students] == ["Eliška"]
    # …and the other way round: typed with accents, stored without.
    assert "Petr Novak" in [g.full_name for g in _search(world.company_a, "Nóvák").guardians]
    assert [g.full_name for g in _search(world.company_a, "JANA NOVÁKOVÁ").guardians] == [
        "Jana Nováková"
    ]


def test_day_3_phone_in_another_format(world):
    _family(world.company_a, "Dvořák", parent="Tomáš Dvořák", phone="+420 777 123 456")
    _family(world.company_a, "Kral", parent="Eva Kral", phone="(02) 9876-5432")
    for typed in ("777123456", "777 123 456", "+420777123456", "00420 777-123-456", "123 45"):
        assert [g.full_name for g in _search(world.company_a, typed).guardians] == [
            "Tomáš Dvořák"
        ], typed
    assert [g.full_name for g in _search(world.company_a, "02 9876 5432").guardians] == ["Eva Kral"]


def test_day_3_email_and_every_word_must_match(world):
    _family(world.company_a, "Lee", parent="Ann Lee", email="Ann.Lee@Example.org")
    _family(world.company_a, "Leeds", parent="Bob Leeds", email="bob@leeds.example")
    assert [g.full_name for g in _search(world.company_a, "ann.lee@example.org").guardians] == [
        "Ann Lee"
    ]
    assert [g.full_name for g in _search(world.company_a, "leeds.example").guardians] == [
        "Bob Leeds"
    ]
    assert [g.full_name for g in _search(world.company_a, "ann lee").guardians] == ["Ann Lee"]
    assert _search(world.company_a, "   ").count == 0


def test_day_3_the_search_column_follows_every_save(world):
    family = _family(world.company_a, "Old", parent="Ola Old", phone="111")
    with scope(company=world.company_a):
        guardian = Guardian.objects.get(family=family)
        family.name = "Šťastný"
        family.save(update_fields=["name"])
        guardian.phone = "+420 602 000 111"
        guardian.save(update_fields=["phone"])
    with scopes_disabled():
        assert Family.objects.get(pk=family.pk).search_text == "stastny"
        assert Guardian.objects.get(pk=guardian.pk).search_text == "ola old 420602000111"
    with scopes_disabled():
        assert Guardian.objects.get(pk=guardian.pk).search_keys == " ola old "  # short words
        assert " stasny " in Family.objects.get(pk=family.pk).search_keys
    assert fold("  O'Brien-Łukasz ") == "o brien-lukasz"
    assert parse("+61 (2) 9876 5432").phone == "61298765432"


def test_day_3_typo_expression_reads_the_same_in_python():
    pattern = re.compile(typo_regex("novakova"))
    for text in ("novakova", "x novakvoa", "nowakova", "novakovaa", "novkova"):
        assert pattern.search(text), text
    assert not pattern.search("novotna")


# --- the page ---------------------------------------------------------------------------


def test_day_3_results_page_and_dropdown(client, world, login):
    login(world.staff_a)
    family = _family(world.company_a, "Parker-Nováková", parent="Mia Parker", child="Ava")
    response = _page(client, "novakova")
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("manage:family_detail", args=[family.pk]) in html
    assert "Parker-Nováková" in html
    # The box is in the top bar of every back-office page.
    assert 'id="site-search-q"' in client.get(reverse("manage:family_list")).content.decode()
    dropdown = client.get(URL, {"q": "ava", "dropdown": "1"}, headers={"HX-Request": "true"})
    body = dropdown.content.decode()
    assert "<html" not in body and "Ava Parker-Nováková" in body and "All results" in body
    assert "Nothing matches" in _page(client, "zzzzqqq").content.decode()


def test_day_3_tenant_isolation(client, world, login):
    _family(world.company_a, "Horák", parent="Adam Horák", email="adam@a.example", phone="123456")
    other = _family(
        world.company_b, "Horák", parent="Berta Horák", email="b@b.example", phone="123456"
    )
    login(world.staff_a)
    for q in ("horak", "horka", "123456", "b@b.example"):
        html = _page(client, q).content.decode()
        assert "Berta" not in html and f"/families/{other.pk}/" not in html, q
    assert "Adam Horák" in _page(client, "horak").content.decode()
    assert [g.full_name for g in _search(world.company_b, "horak").guardians] == ["Berta Horák"]


def test_day_3_the_page_costs_a_fixed_number_of_queries(client, world, login, page_queries):
    login(world.staff_a)
    _family(world.company_a, "Novák", parent="Jan Novák", child="Jan")
    few, _ = page_queries(client, f"{URL}?q=novak")
    for i in range(40):
        _family(
            world.company_a, "Novák", parent=f"Jan Novák {i}", email=f"n{i}@x.example", child="Jan"
        )
    many, response = page_queries(client, f"{URL}?q=novak")
    assert few == many
    assert len(response.context["results"].guardians) == 20 and response.context["results"].more
    typo, _ = page_queries(client, f"{URL}?q=nvoak")
    phone, _ = page_queries(client, f"{URL}?q=777+123")
    assert typo == many
    assert phone == many


# --- the class page's student picker ------------------------------------------------------


def _class_for_ages(company, min_months, max_months):
    today = _today(company)
    return f.ClassFactory(
        programme__company=company,
        min_age_months=min_months,
        max_age_months=max_months,
        start_date=today - timedelta(days=7),
        end_date=today + timedelta(days=90),
    )


def _child(company, first, born):
    family = f.FamilyFactory(company=company, name="Picker")
    return f.StudentFactory(family=family, first_name=first, last_name="Picker", date_of_birth=born)


def test_day_3_student_picker_filters_by_the_class_ages(client, world, login):
    company = world.company_a
    today = _today(company)
    klass = _class_for_ages(company, 48, 71)  # 4 to 5 years 11 months
    youngest = _child(company, "Youngest", months_before(today, 48))  # 4 today
    oldest = _child(company, "Oldest", months_before(today, 72) + timedelta(days=1))
    too_young = _child(company, "Tooyoung", months_before(today, 48) + timedelta(days=1))
    too_old = _child(company, "Tooold", months_before(today, 72))
    enrolled = _child(company, "Enrolled", months_before(today, 60))
    f.EnrolmentFactory(klass=klass, student=enrolled, start_date=klass.start_date)
    _child(world.company_b, "Otherschool", months_before(today, 60))
    assert age_in_months(youngest.date_of_birth, today) == 48
    assert age_in_months(oldest.date_of_birth, today) == 71
    assert age_in_months(too_young.date_of_birth, today) == 47
    assert age_in_months(too_old.date_of_birth, today) == 72

    login(world.staff_a)
    url = reverse("manage:class_enrol", args=[klass.pk])
    html = client.get(url).content.decode()
    assert "Youngest" in html and "Oldest" in html
    for name in ("Tooyoung", "Tooold", "Enrolled", "Otherschool"):
        assert name not in html, name
    # Searchable (with a typo), and the whole class page offers the same picker.
    html = client.get(url, {"q": "oldset"}).content.decode()
    assert "Oldest" in html and "Youngest" not in html
    class_page = client.get(reverse("manage:class_detail", args=[klass.pk])).content.decode()
    assert "Youngest" in class_page and "Tooold" not in class_page
    # Asking for every age lists the others too (enrolling them still asks to confirm).
    html = client.get(url, {"any_age": "on"}).content.decode()
    assert "Tooyoung" in html and "Tooold" in html and "Otherschool" not in html
    # The htmx request answers the list only.
    part = client.get(url, {"q": "you"}, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in part and "Youngest" in part and "Oldest" not in part
    # Choosing one enrols them.
    response = client.post(url, {"student": youngest.pk, "start_date": today.isoformat()})
    assert response.status_code == 302
    with scopes_disabled():
        assert Enrolment.objects.filter(klass=klass, student=youngest).exists()


def test_day_3_student_picker_costs_a_fixed_number_of_queries(client, world, login, page_queries):
    company = world.company_a
    today = _today(company)
    klass = _class_for_ages(company, None, None)
    login(world.staff_a)
    url = reverse("manage:class_enrol", args=[klass.pk]) + "?q=picker"
    _child(company, "First", today - timedelta(days=2000))
    few, _ = page_queries(client, url)
    for i in range(30):
        _child(company, f"Child{i}", today - timedelta(days=2000 + i))
    many, response = page_queries(client, url)
    assert few == many
    assert response.context["candidates"].more


@pytest.mark.postgres
def test_day_3_postgres_answers_from_the_trigram_indexes(world):
    """The typo and the plain match can be answered from the GIN trigram indexes (the test's
    table is tiny, so the planner is told not to scan it and the company's index is left out
    of the query)."""
    _family(world.company_a, "Nováková", parent="Jana Nováková", phone="+420 777 123 456")
    with scopes_disabled(), connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off; SET enable_indexscan = off")
        for q in ("novakvoa", "777123456", "jana"):
            query = parse(q)
            rows = matching(Guardian.objects.all(), query, "pk")
            sql, params = rows.query.get_compiler(using="default").as_sql()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "bookings_guardian_search_" in plan, (q, plan)
            assert [g.full_name for g in rows] == ["Jana Nováková"], q
        cursor.execute("RESET enable_seqscan; RESET enable_indexscan")
