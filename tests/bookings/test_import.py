"""CSV import of families, parents, children and enrolments: upload → check (a dry run, by a
task) → confirm (the import, by a task); one transaction, nothing saved when any row fails;
re-running changes nothing. Celery runs eagerly here: the tasks run when the upload's (or the
confirmation's) transaction commits."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from bookings.models import Enrolment, Family, FamilyImport, Guardian, Student
from bookings.services.import_csv import COLUMNS, MAX_ROWS, SAMPLE_CSV, read_csv
from tests import factories as f

pytestmark = pytest.mark.django_db

HEADER = ",".join(COLUMNS)


@pytest.fixture
def dolphins(world):
    today = timezone.localdate(timezone=world.company_a.tzinfo)
    return f.ClassFactory(
        programme__company=world.company_a,
        name="Tuesday Dolphins",
        start_date=today - timedelta(days=30),
        end_date=today + timedelta(days=60),
        capacity=8,
    )


@pytest.fixture
def staff(client, world, login):
    login(world.staff_a)
    return client


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("utf-8")


GOOD = _csv(
    "Nguyen,Linh Nguyen,linh@example.com,0412 345 678,Minh,Nguyen,2018-03-14,Tuesday Dolphins,",
    "Nguyen,Linh Nguyen,LINH@example.com,,An,Nguyen,02/09/2019,,",
    "O'Brien,Siobhan O'Brien,siobhan@example.com,,Liam,O'Brien,21/11/2017,,",
)


def _upload(client, content: bytes, name: str = "families.csv"):
    """Upload a file and follow to its page once the check (the task) has run."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("manage:family_import"),
            {"file": SimpleUploadedFile(name, content, "text/csv")},
        )
    if response.status_code != 302:
        return response
    return client.get(response["Location"])


def _confirm(client, preview):
    """Press "Confirm import" on the page of a checked file; follow to its page."""
    job = preview.context["job"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("manage:family_import_confirm", args=[job.pk]))
    assert response.status_code == 302
    return client.get(response["Location"])


def _counts(company) -> tuple[int, int, int, int]:
    with scope(company=company):
        return (
            Family.objects.count(),
            Guardian.objects.count(),
            Student.objects.count(),
            Enrolment.objects.count(),
        )


def test_ten_2_staff_import_families_guardians_students_and_enrolments(world, dolphins, staff):
    before = _counts(world.company_a)  # Parker's family and parent
    preview = _upload(staff, GOOD)
    assert preview.status_code == 200
    assert _counts(world.company_a) == before  # the check saved nothing
    summary = preview.context["summary"]
    assert summary.ok and preview.context["job"].state == FamilyImport.State.CHECKED
    assert summary.counts == {"families": 2, "parents": 2, "children": 3, "enrolments": 1}
    html = preview.content.decode()
    assert "new family" in html and "new, as row 2" in html and "enrol from" in html
    assert "Confirm import" in html

    done = _confirm(staff, preview)
    assert done.context["job"].state == FamilyImport.State.IMPORTED
    assert _counts(world.company_a) == (before[0] + 2, before[1] + 2, before[2] + 3, 1)
    with scope(company=world.company_a):
        nguyen = Family.objects.get(name="Nguyen")
        assert nguyen.guardians.get().email == "linh@example.com"
        assert nguyen.guardians.get().phone == "0412 345 678"
        an = nguyen.students.get(first_name="An")
        assert an.date_of_birth == date(2019, 9, 2)  # DD/MM/YYYY
        enrolment = Enrolment.objects.get()
        assert enrolment.student.first_name == "Minh" and enrolment.klass == dolphins
        assert enrolment.created_by == world.staff_a
        assert Family.objects.get(name="O'Brien").students.get().first_name == "Liam"
    assert "Imported: 2 new families, 2 new parents, 3 new children, 1 new enrolment." in (
        done.content.decode()
    )
    with scope(company=world.company_a):
        job = FamilyImport.objects.get()
    assert job.content == ""  # the file's text is gone


def test_import_with_one_bad_row_saves_nothing_and_shows_the_row_error(world, dolphins, staff):
    before = _counts(world.company_a)
    content = _csv(
        "Nguyen,Linh Nguyen,linh@example.com,,Minh,Nguyen,2018-03-14,Tuesday Dolphins,",
        "Smith,Jo Smith,jo@example.com,,Ava,Smith,2018-02-30,,",
        "Jones,Sam Jones,not-an-email,,Oli,Jones,2017-01-01,Friday Sharks,",
        ",,,,,,,,",  # blank rows are skipped
        "Brown,Al Brown,al@example.com,,Bo,Brown,2017-01-01,,2026-01-01",
    )
    response = _upload(staff, content)
    assert response.status_code == 200
    assert _counts(world.company_a) == before
    summary = response.context["summary"]
    assert not summary.ok and summary.error_row_count == 3 and summary.total_rows == 4
    assert not response.context["can_confirm"]
    errors = {row.line: row.errors for row in summary.rows}
    assert set(errors) == {3, 4, 6}  # spreadsheet rows: the header is row 1
    assert errors[3] == [
        ("child_date_of_birth", "'2018-02-30' is not a date: write it as YYYY-MM-DD or DD/MM/YYYY.")
    ]
    assert dict(errors[4]) == {
        "parent_email": "'not-an-email' is not an e-mail address.",
        "class_name": "No class is called 'Friday Sharks'.",
    }
    assert errors[6] == [("enrolment_start", "An enrolment start needs a class_name.")]
    html = response.content.decode()
    assert "Nothing was saved" in html and "Confirm import" not in html
    assert "Friday Sharks" in html
    assert "Upload the corrected file" in html


def test_import_keeps_each_rows_errors_with_the_import(world, dolphins, staff):
    """The errors are stored with the import: its page shows them again later (the file
    itself is gone), and confirming is refused."""
    content = _csv(
        "Smith,Jo Smith,jo@example.com,,Ava,Smith,2018-02-30,,",
        "Jones,Sam Jones,not-an-email,,Oli,Jones,2017-01-01,,",
    )
    job = _upload(staff, content).context["job"]
    with scope(company=world.company_a):
        job.refresh_from_db()
    assert job.content == "" and job.state == FamilyImport.State.CHECKED
    assert [row["line"] for row in job.report["rows"]] == [2, 3]
    assert job.report["rows"][1]["errors"] == [
        ["parent_email", "'not-an-email' is not an e-mail address."]
    ]
    again = staff.get(reverse("manage:family_import_detail", args=[job.pk]))
    assert "&#x27;not-an-email&#x27; is not an e-mail address." in again.content.decode()
    refused = staff.post(reverse("manage:family_import_confirm", args=[job.pk]), follow=True)
    assert "Some rows have errors" in refused.content.decode()
    with scope(company=world.company_a):
        assert FamilyImport.objects.get().state == FamilyImport.State.CHECKED


def test_import_a_full_class_is_a_row_error_and_saves_nothing(world, dolphins, staff):
    dolphins.capacity = 1
    dolphins.save()
    before = _counts(world.company_a)
    content = _csv(
        "Nguyen,Linh Nguyen,linh@example.com,,Minh,Nguyen,2018-03-14,Tuesday Dolphins,",
        "Smith,Jo Smith,jo@example.com,,Ava,Smith,2018-02-03,Tuesday Dolphins,",
    )
    response = _upload(staff, content)
    summary = response.context["summary"]
    assert [(row.line, row.errors[0][0]) for row in summary.rows] == [(3, "class_name")]
    assert "Tuesday Dolphins is full" in summary.rows[0].errors[0][1]
    assert _counts(world.company_a) == before


def test_import_rerun_is_idempotent(world, dolphins, staff):
    _confirm(staff, _upload(staff, GOOD))
    after_first = _counts(world.company_a)
    preview = _upload(staff, GOOD)
    summary = preview.context["summary"]
    assert summary.ok
    assert summary.counts == {"families": 0, "parents": 0, "children": 0, "enrolments": 0}
    html = preview.content.decode()
    assert "existing family" in html and "existing child" in html and "already enrolled" in html
    _confirm(staff, preview)
    assert _counts(world.company_a) == after_first


def test_import_task_delivered_twice_imports_once(world, dolphins, staff):
    """The task is idempotent: a second delivery of the check or the import does nothing."""
    from bookings.services.imports import family_import_run

    preview = _upload(staff, GOOD)
    done = _confirm(staff, preview)
    job = done.context["job"]
    after = _counts(world.company_a)
    with scope(company=world.company_a):
        again = family_import_run(company=world.company_a, import_id=job.pk, now=timezone.now())
    assert again.state == FamilyImport.State.IMPORTED
    assert _counts(world.company_a) == after


def test_import_matches_families_made_on_the_pages_by_email_and_children_by_name_and_birth(
    world, dolphins, staff
):
    family = f.FamilyFactory(company=world.company_a, name="Nguyen")
    f.GuardianFactory(family=family, user=None, full_name="Linh", email="Linh@Example.com")
    f.StudentFactory(
        family=family, first_name="MINH", last_name="nguyen", date_of_birth=date(2018, 3, 14)
    )
    content = _csv(
        "Nguyen-Tran,Linh Nguyen,linh@example.com,,Minh,Nguyen,2018-03-14,,",
        "Nguyen-Tran,Linh Nguyen,linh@example.com,,Minh,Nguyen,2018-03-15,,",  # another Minh
    )
    preview = _upload(staff, content)
    summary = preview.context["summary"]
    assert summary.counts == {"families": 0, "parents": 0, "children": 1, "enrolments": 0}
    assert "is a parent of the Nguyen family already" in preview.content.decode()
    _confirm(staff, preview)
    with scopes_disabled():
        assert family.students.count() == 2
        assert (
            Family.objects.filter(company=world.company_a, name__startswith="Nguyen").count() == 1
        )


def test_import_stores_html_as_text_and_pages_escape_it(world, staff):
    content = _csv("<b>Bold</b>,<script>x</script>,b@example.com,,<i>Kid</i>,Bold,2018-01-01,,")
    preview = _upload(staff, content)
    html = preview.content.decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    _confirm(staff, preview)
    with scope(company=world.company_a):
        family = Family.objects.get(name="<b>Bold</b>")
        assert family.guardians.get().full_name == "<script>x</script>"
    page = staff.get(reverse("manage:family_detail", args=[family.pk])).content.decode()
    assert "<i>Kid</i>" not in page and "&lt;i&gt;Kid&lt;/i&gt;" in page


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("family_name;x\r\nA;b\r\n".encode("latin-1"), "f.csv", "Columns missing: parent_name"),
        (HEADER.encode() + "\r\nNgüyen".encode("latin-1"), "f.csv", "not UTF-8"),
        (b"PK\x03\x04\x00\x00binary", "f.csv", "not a CSV text file"),
        (b"", "f.csv", "empty"),
        (HEADER.encode() + b"\r\n", "f.csv", "no families"),  # found by the task
        (GOOD, "families.xlsx", "Upload a .csv file"),
        (b'family_name,"unterminated\r\n', "f.csv", "Columns missing"),
        (_csv("A,B,c@x.test,,D,E,2018-01-01,," + ",x" * 60), "f.csv", "Row 2 has 69 values"),
        (_csv("A,B,c@x.test,,D," + "E" * 1001 + ",2018-01-01,,"), "f.csv", "longer than 1,000"),
    ],
)
def test_import_refuses_files_it_cannot_read(world, staff, content, name, message):
    before = _counts(world.company_a)
    response = _upload(staff, content, name)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html, html
    assert "Nothing was saved" in html
    assert _counts(world.company_a) == before


def test_import_refuses_more_than_50000_rows_and_more_than_10_mb(world, staff):
    row = "Nguyen,Linh,l@x.test,,Minh,Nguyen,2018-03-14,,"
    response = _upload(staff, _csv(*[row] * (MAX_ROWS + 1)))
    assert "more than 50,000 rows" in response.content.decode()
    assert response.context["job"].state == FamilyImport.State.FAILED
    big = _csv(row + "," + "x" * (10 * 1024 * 1024))
    response = _upload(staff, big)
    assert "the limit is 10 MB" in response.content.decode()


def test_import_reads_semicolons_a_bom_and_header_variants():
    content = (
        "\ufeffFamily Name;Parent Name;Parent-Email;Child First Name;Child Last Name;"
        "Child Date of Birth;Notes\r\nA;B;c@x.test;D;E;2018-01-01;ignored\r\n"
    )
    parsed = read_csv(content.encode("utf-8"))
    assert parsed.ignored_columns == ["notes"]
    assert parsed.lines == [2]
    row = dict(zip(parsed.dataset.headers, parsed.dataset[0], strict=True))
    assert row["family_name"] == "A" and row["child_date_of_birth"] == "2018-01-01"
    assert row["class_name"] == ""


def test_ten_1_another_companys_import_is_404_and_cannot_be_confirmed(
    world, dolphins, client, login
):
    login(world.staff_a)
    job = _upload(client, GOOD).context["job"]
    login(world.owner_b)
    assert client.get(reverse("manage:family_import_detail", args=[job.pk])).status_code == 404
    assert client.post(reverse("manage:family_import_confirm", args=[job.pk])).status_code == 404
    assert "families.csv" not in client.get(reverse("manage:family_import")).content.decode()
    with scope(company=world.company_a):
        assert FamilyImport.objects.get().state == FamilyImport.State.CHECKED
    assert _counts(world.company_b) == (0, 0, 0, 0)


def test_import_confirm_is_refused_when_the_check_is_too_old(world, dolphins, staff):
    import time_machine

    preview = _upload(staff, GOOD)
    job = preview.context["job"]
    before = _counts(world.company_a)
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1)):
        page = staff.get(reverse("manage:family_import_detail", args=[job.pk]))
        assert "The check is too old" in page.content.decode()
        assert "Confirm import" not in page.content.decode()
        response = staff.post(reverse("manage:family_import_confirm", args=[job.pk]), follow=True)
    assert "The check is too old: upload the file again." in response.content.decode()
    assert _counts(world.company_a) == before


def test_import_confirm_checks_again_and_saves_nothing_if_a_class_filled_up(world, dolphins, staff):
    preview = _upload(staff, GOOD)
    dolphins.capacity = 1
    dolphins.save()
    f.EnrolmentFactory(klass=dolphins)
    before = _counts(world.company_a)
    response = _confirm(staff, preview)
    assert response.context["job"].state == FamilyImport.State.REFUSED
    assert "some rows can't be imported any more" in response.content.decode()
    assert "Tuesday Dolphins is full" in response.content.decode()
    assert _counts(world.company_a) == before


def test_import_sample_csv_downloads_and_imports(world, dolphins, staff):
    response = staff.get(reverse("manage:family_import_sample"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode() == SAMPLE_CSV
    preview = _upload(staff, response.content)
    assert preview.context["summary"].ok, preview.context["summary"].rows
    assert preview.context["summary"].counts["enrolments"] == 1


def test_import_page_links_the_sample_and_lists_recent_imports(staff, world, dolphins):
    html = staff.get(reverse("manage:family_import")).content.decode()
    assert reverse("manage:family_import_sample") in html
    job = _upload(staff, GOOD).context["job"]
    html = staff.get(reverse("manage:family_import")).content.decode()
    assert reverse("manage:family_import_detail", args=[job.pk]) in html and "Checked" in html
