"""CSV import of families, parents, children and enrolments (back office).

One row is one parent and one child of a family, optionally enrolled in a class:

    family_name, parent_name, parent_email, parent_phone, child_first_name,
    child_last_name, child_date_of_birth, class_name, enrolment_start

An upload never holds a web worker: the page checks the file's size, encoding and header row
(:func:`check_upload`, milliseconds whatever the file) and stores it; a Celery task
(:mod:`bookings.services.imports`) parses every row (:func:`read_csv`, linear in the file's
size, with caps on columns, values and rows) and runs the import with its progress.

django-import-export runs the import: its ``Resource.import_data`` gives the dry run (the
real import, rolled back), one transaction for the whole file with a savepoint per row,
per-column errors from its widgets, and rolls everything back when any row fails. Its
per-model ``ModelResource`` does not fit a row that makes up to four objects, so
:class:`FamilyRowResource` is a plain ``Resource`` whose "instance" is the parsed row and
whose ``save_instance`` calls the services (``family_create``, ``guardian_create``,
``student_create``, ``enrolment_create``), so an import obeys the same rules as the pages.

Matching, so that importing the same file twice changes nothing the second time:

- a family is the family of the company's parent with that ``parent_email`` (any case);
- a child is the family's child with the same first and last name (any case) and date of
  birth;
- an enrolment the child already has in that class (not withdrawn) is left as it is.
"""

import csv
import io
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from import_export import fields, resources, widgets
from import_export.instance_loaders import BaseInstanceLoader

from makeup.errors import DomainError
from makeup.models import Company
from programmes.models import Class

from ..models import Enrolment, Family, Guardian, Student
from .enrolments import enrolment_create
from .families import (
    check_date_of_birth,
    family_create,
    guardian_create,
    student_create,
)

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
#: Columns of the header (and values of a row): the import reads 9; spreadsheets add a few.
MAX_COLUMNS = 50
#: Characters in one value: names and e-mails are far shorter (at most 254).
MAX_CELL_CHARS = 1_000

COLUMNS = [
    "family_name",
    "parent_name",
    "parent_email",
    "parent_phone",
    "child_first_name",
    "child_last_name",
    "child_date_of_birth",
    "class_name",
    "enrolment_start",
]
REQUIRED_COLUMNS = [
    "family_name",
    "parent_name",
    "parent_email",
    "child_first_name",
    "child_last_name",
    "child_date_of_birth",
]
OPTIONAL_COLUMNS = [c for c in COLUMNS if c not in REQUIRED_COLUMNS]
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
_EXTRA = "_extra_values"  # how many values a row has beyond the header's columns

SAMPLE_CSV = (
    ",".join(COLUMNS) + "\r\n"
    "Nguyen,Linh Nguyen,linh.nguyen@example.com,0412 345 678,Minh,Nguyen,2018-03-14,"
    "Tuesday Dolphins,2026-10-06\r\n"
    "Nguyen,Linh Nguyen,linh.nguyen@example.com,0412 345 678,An,Nguyen,02/09/2020,,\r\n"
    "O'Brien,Siobhan O'Brien,siobhan@example.com,,Liam,O'Brien,21/11/2017,,\r\n"
)


class ImportFileError(DomainError):
    """The file as a whole can't be read (not CSV, not UTF-8, too big, columns missing)."""


@dataclass
class ParsedFile:
    dataset: tablib.Dataset
    lines: list[int]  # the spreadsheet row number of each dataset row (the header is row 1)
    ignored_columns: list[str]


def _normalise_header(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def _delimiter(first_line: str) -> str:
    """Excel saves CSV with ';' in some locales: take whichever separator the header uses."""
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _decode(data: bytes | str) -> str:
    """The file as text: not too large, not binary, UTF-8 (a byte-order mark is dropped)."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than {megabytes} MB: split it.").format(
                megabytes=MAX_FILE_BYTES // (1024 * 1024)
            )
        )
    if isinstance(data, str):
        text = data.removeprefix("\ufeff")
    else:
        if b"\x00" in data:
            raise ImportFileError(
                _("This is not a CSV text file. In Excel or Numbers, export it as CSV (UTF-8).")
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ImportFileError(
                _(
                    "The file is not UTF-8 text. In Excel choose Save As → 'CSV UTF-8 (comma "
                    "delimited)'; in Google Sheets, File → Download → CSV."
                )
            ) from error
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    return text


def _reader(text: str):
    newline = text.find("\n")
    first_line = text if newline == -1 else text[:newline]
    return csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))


def _next_record(reader) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error as error:
        raise ImportFileError(
            _("The file is not valid CSV near line {line}: {error}.").format(
                line=reader.line_num, error=error
            )
        ) from error


def _header(record: list[str]) -> list[str]:
    """The header row's column names, checked in time linear in its length: at most
    :data:`MAX_COLUMNS`, none twice, the required ones present."""
    if len(record) > MAX_COLUMNS:
        raise ImportFileError(
            _(
                "The first row has {count} columns; an import reads at most {limit}. Keep the "
                "columns listed on this page and remove the others."
            ).format(count=f"{len(record):,}", limit=MAX_COLUMNS)
        )
    header = [_normalise_header(h) for h in record]
    duplicates = sorted(name for name, n in Counter(h for h in header if h).items() if n > 1)
    if duplicates:
        raise ImportFileError(
            _("These columns appear twice: {columns}.").format(columns=", ".join(duplicates))
        )
    present = set(header)
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        raise ImportFileError(
            _(
                "Columns missing: {missing}. The first row must name the columns: {columns} "
                "(the last three may be left out)."
            ).format(missing=", ".join(missing), columns=", ".join(COLUMNS))
        )
    return header


def check_upload(data: bytes) -> str:
    """The checks an upload gets before it is stored, in milliseconds whatever the file:
    size, encoding and the header row. Returns the file's text; raises
    :class:`ImportFileError` with a message for the person who uploaded it."""
    text = _decode(data)
    _header(_next_record(_reader(text)) or [])
    return text


def read_csv(data: bytes | str) -> ParsedFile:
    """Check and parse a whole file in one pass (time linear in its size); raises
    :class:`ImportFileError` with a message for the person who uploaded it."""
    text = _decode(data)
    reader = _reader(text)
    header = _header(_next_record(reader) or [])
    index = {name: i for i, name in enumerate(header) if name in COLUMNS}
    width = len(header)
    dataset = tablib.Dataset(headers=[*COLUMNS, _EXTRA])
    lines = []
    line = 1
    while (record := _next_record(reader)) is not None:
        line += 1
        if len(record) > MAX_COLUMNS:
            raise ImportFileError(
                _("Row {line} has {count} values; a row has at most {limit}.").format(
                    line=line, count=f"{len(record):,}", limit=MAX_COLUMNS
                )
            )
        if any(len(cell) > MAX_CELL_CHARS for cell in record):
            raise ImportFileError(
                _(
                    "Row {line} has a value longer than {limit} characters: is this the right file?"
                ).format(line=line, limit=f"{MAX_CELL_CHARS:,}")
            )
        if not any(cell.strip() for cell in record):
            continue  # a blank line
        if len(lines) == MAX_ROWS:
            raise ImportFileError(
                _("The file has more than {rows} rows: split it into several files.").format(
                    rows=f"{MAX_ROWS:,}"
                )
            )
        extra = sum(1 for cell in record[width:] if cell.strip())
        values = [
            record[index[c]] if c in index and index[c] < len(record) else "" for c in COLUMNS
        ]
        dataset.append([*values, extra])
        lines.append(line)
    if not lines:
        raise ImportFileError(_("The file has a header row but no families in it."))
    ignored = [h for h in header if h and h not in COLUMNS]
    return ParsedFile(dataset=dataset, lines=lines, ignored_columns=ignored)


# --- the import ---------------------------------------------------------------------------


class TextWidget(widgets.Widget):
    """Text with surrounding and repeated white space removed. HTML stays text: pages
    escape it when they show it."""

    def clean(self, value, row=None, **kwargs) -> str:
        return " ".join(str(value or "").split())


class FlexibleDateWidget(widgets.Widget):
    """YYYY-MM-DD or DD/MM/YYYY; empty is ``None``."""

    def clean(self, value, row=None, **kwargs) -> date | None:
        value = str(value or "").strip()
        if not value:
            return None
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(value, fmt).date()
            except ValueError:
                continue
        raise ValueError(
            _("'{value}' is not a date: write it as YYYY-MM-DD or DD/MM/YYYY.").format(value=value)
        )


class ParsedRow:
    """What import-export fills from a CSV row (its "instance")."""


@dataclass
class RowPlan:
    """What a row did (or, in a dry run, would do)."""

    family: str
    family_new: bool
    family_first_row: int | None  # created by an earlier row of the same file
    parent_new: bool
    child: str
    child_new: bool
    child_first_row: int | None
    class_name: str = ""
    enrol: str = ""  # "new", "already" or ""
    enrol_from: date | None = None
    notes: list[str] = field(default_factory=list)


def _column(name: str) -> fields.Field:
    widget = FlexibleDateWidget() if name in ("child_date_of_birth", "enrolment_start") else None
    return fields.Field(attribute=name, column_name=name, widget=widget or TextWidget())


_MAX_LENGTHS = {
    "family_name": Family._meta.get_field("name").max_length,
    "parent_name": Guardian._meta.get_field("full_name").max_length,
    "parent_email": Guardian._meta.get_field("email").max_length,
    "parent_phone": Guardian._meta.get_field("phone").max_length,
    "child_first_name": Student._meta.get_field("first_name").max_length,
    "child_last_name": Student._meta.get_field("last_name").max_length,
}


def _in_column(column: str, fn, **kwargs):
    """Call a service; its refusal becomes the row's error in ``column``."""
    try:
        return fn(**kwargs)
    except DomainError as error:
        raise ValidationError({column: [error.message]}) from error


class FamilyRowResource(resources.Resource):
    """One CSV row → family (found or new), parent, child (found or new), enrolment."""

    family_name = _column("family_name")
    parent_name = _column("parent_name")
    parent_email = _column("parent_email")
    parent_phone = _column("parent_phone")
    child_first_name = _column("child_first_name")
    child_last_name = _column("child_last_name")
    child_date_of_birth = _column("child_date_of_birth")
    class_name = _column("class_name")
    enrolment_start = _column("enrolment_start")

    class Meta:
        instance_loader_class = BaseInstanceLoader
        force_init_instance = True  # rows are matched in save_instance, not by an id column
        skip_diff = True
        use_transactions = True
        using_db = DEFAULT_DB_ALIAS
        import_order = COLUMNS

    def __init__(
        self,
        *,
        company: Company,
        actor,
        lines: list[int],
        now: datetime,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self.company = company
        self.actor = actor
        self.lines = lines
        self.now = now
        self.today = timezone.localtime(now, company.tzinfo).date()
        self.plans: dict[int, RowPlan] = {}
        self.progress = progress

    def import_row(self, row, instance_loader, **kwargs):
        """Each row, then its progress (every row is counted, with or without errors)."""
        result = super().import_row(row, instance_loader, **kwargs)
        if self.progress is not None:
            self.progress(kwargs["row_number"])
        return result

    def init_instance(self, row=None) -> ParsedRow:
        return ParsedRow()

    def before_import(self, dataset, **kwargs) -> None:
        """Load what rows are matched against in 4 queries, whatever the file's size."""
        company = self.company
        # email -> (family, spreadsheet row that created it or None)
        self.families: dict[str, tuple[Family, int | None]] = {}
        for guardian in (
            Guardian.objects.filter(company=company).exclude(email="").select_related("family")
        ):
            guardian.family.company = company
            self.families.setdefault(guardian.email.lower(), (guardian.family, None))
        # (family id, first, last, born) -> (student, row that created it or None)
        self.students: dict[tuple, tuple[Student, int | None]] = {}
        for student in Student.objects.filter(company=company):
            key = self._student_key(
                student.family_id, student.first_name, student.last_name, student.date_of_birth
            )
            self.students[key] = (student, None)
        self.classes: dict[str, list[Class]] = {}
        for klass in Class.objects.filter(company=company).order_by("pk"):
            self.classes.setdefault(klass.name, []).append(klass)
        self.enrolled: set[tuple[int, int]] = set(
            Enrolment.objects.filter(company=company)
            .filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=self.today))
            .values_list("student_id", "klass_id")
        )

    @staticmethod
    def _student_key(family_id: int, first: str, last: str, born: date) -> tuple:
        return (family_id, first.casefold(), last.casefold(), born)

    def _find_class(self, *, name: str) -> Class:
        candidates = self.classes.get(name, [])
        current = [c for c in candidates if c.archived_at is None]
        if len(current) > 1:
            raise DomainError(
                _("Several classes are called '{name}': rename one of them first.").format(
                    name=name
                )
            )
        if current or candidates:
            return (current or candidates)[0]
        close = sorted(n for n in self.classes if n.casefold() == name.casefold())
        if close:
            raise DomainError(
                _("No class is called '{name}'. Did you mean '{close}'?").format(
                    name=name, close=close[0]
                )
            )
        raise DomainError(_("No class is called '{name}'.").format(name=name))

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """Row checks before anything is written; errors are per column."""
        errors: dict[str, list] = dict(import_validation_errors or {})

        def add(column: str, message: str) -> None:
            errors.setdefault(column, []).append(ValidationError(message))

        def value(column: str):
            return getattr(instance, column, None)

        for column in REQUIRED_COLUMNS:
            if column not in errors and not value(column):
                add(column, _("Required."))
        for column, limit in _MAX_LENGTHS.items():
            if len(value(column) or "") > limit:
                add(
                    column,
                    ngettext(
                        "Too long: at most {limit} characters.",
                        "Too long: at most {limit} characters.",
                        limit,
                    ).format(limit=limit),
                )
        email = value("parent_email")
        if email and "parent_email" not in errors:
            try:
                validate_email(email)
            except ValidationError:
                add("parent_email", _("'{email}' is not an e-mail address.").format(email=email))
        born = value("child_date_of_birth")
        if born and "child_date_of_birth" not in errors:
            try:
                check_date_of_birth(date_of_birth=born, today=self.today)
            except DomainError as error:
                add("child_date_of_birth", error.message)
        if value("class_name"):
            try:
                self._find_class(name=value("class_name"))
            except DomainError as error:
                add("class_name", error.message)
        elif value("enrolment_start"):
            add("enrolment_start", _("An enrolment start needs a class_name."))
        if getattr(instance, "_extra", 0):
            add(NON_FIELD_ERRORS, _("This row has more values than the header has columns."))
        if errors:
            raise ValidationError(errors)

    def import_instance(self, instance, row, **kwargs) -> None:
        instance._extra = int(row.get(_EXTRA) or 0)
        super().import_instance(instance, row, **kwargs)

    def save_instance(self, instance, is_create, row, **kwargs) -> None:
        """Write the row through the services, in a savepoint: a refused enrolment (full
        class…) undoes the row's family and child too, and becomes that column's error."""
        line = self.lines[kwargs["row_number"] - 1]
        with transaction.atomic():
            plan, remember = self._save(instance, line)
        for apply in remember:  # only once the savepoint holds
            apply()
        self.plans[kwargs["row_number"]] = plan

    def _save(self, r: ParsedRow, line: int):
        remember = []
        email = r.parent_email.lower()
        found = self.families.get(email)
        notes = []
        if found is None:
            family = _in_column(
                "family_name",
                family_create,
                company=self.company,
                name=r.family_name,
                actor=self.actor,
            )
            family.company = self.company
            _in_column(
                "parent_email",
                guardian_create,
                family=family,
                full_name=r.parent_name,
                email=email,
                phone=r.parent_phone,
                actor=self.actor,
                email_checked=True,  # against every parent's address, loaded in before_import
            )
            first_row = line
            remember.append(lambda: self.families.__setitem__(email, (family, line)))
        else:
            family, first_row = found
            if family.name.casefold() != r.family_name.casefold():
                notes.append(
                    _("{email} is a parent of the {family} family already.").format(
                        email=email, family=family.name
                    )
                )
        key = self._student_key(
            family.pk, r.child_first_name, r.child_last_name, r.child_date_of_birth
        )
        known = self.students.get(key)
        if known is None:
            student = _in_column(
                "child_date_of_birth",
                student_create,
                family=family,
                first_name=r.child_first_name,
                last_name=r.child_last_name,
                date_of_birth=r.child_date_of_birth,
                actor=self.actor,
                now=self.now,
            )
            child_first_row = line
            remember.append(lambda: self.students.__setitem__(key, (student, line)))
        else:
            student, child_first_row = known
        plan = RowPlan(
            family=family.name,
            family_new=first_row is not None,
            family_first_row=first_row if first_row != line else None,
            parent_new=found is None,
            child=f"{student.first_name} {student.last_name}",
            child_new=child_first_row is not None,
            child_first_row=child_first_row if child_first_row != line else None,
            notes=notes,
        )
        if r.class_name:
            klass = _in_column("class_name", self._find_class, name=r.class_name)
            plan.class_name = klass.name
            if (student.pk, klass.pk) in self.enrolled:
                plan.enrol = "already"
            else:
                enrolment = _in_column(
                    "class_name",
                    enrolment_create,
                    klass=klass,
                    student=student,
                    start_date=r.enrolment_start or self.today,
                    actor=self.actor,
                    confirm_age=True,
                )
                plan.enrol, plan.enrol_from = "new", enrolment.start_date
                remember.append(lambda: self.enrolled.add((student.pk, klass.pk)))
        return plan, remember


# --- the report the pages show ------------------------------------------------------------


@dataclass
class ReportRow:
    line: int
    values: dict[str, str]
    plan: RowPlan | None
    errors: list[tuple[str, str]]  # (column or "", message)

    def to_json(self) -> dict:
        plan = None
        if self.plan is not None:
            plan = asdict(self.plan)
            plan["enrol_from"] = self.plan.enrol_from.isoformat() if self.plan.enrol_from else None
        return {
            "line": self.line,
            "values": self.values,
            "plan": plan,
            "errors": [list(error) for error in self.errors],
        }

    @classmethod
    def from_json(cls, data: dict) -> "ReportRow":
        plan = data.get("plan")
        if plan is not None:
            enrol_from = plan.get("enrol_from")
            plan = RowPlan(
                **{**plan, "enrol_from": date.fromisoformat(enrol_from) if enrol_from else None}
            )
        return cls(
            line=data["line"],
            values=data["values"],
            plan=plan,
            errors=[tuple(error) for error in data["errors"]],
        )


@dataclass
class ImportReport:
    rows: list[ReportRow]
    ignored_columns: list[str]
    saved: bool

    @property
    def error_rows(self) -> list[ReportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def ok(self) -> bool:
        return not self.error_rows

    def count(self, what: str) -> int:
        plans = [row.plan for row in self.rows if row.plan is not None]
        return {
            "families": sum(1 for p in plans if p.family_new and p.family_first_row is None),
            "parents": sum(1 for p in plans if p.parent_new),
            "children": sum(1 for p in plans if p.child_new and p.child_first_row is None),
            "enrolments": sum(1 for p in plans if p.enrol == "new"),
        }[what]

    @property
    def counts(self) -> dict[str, int]:
        return {k: self.count(k) for k in ("families", "parents", "children", "enrolments")}

    def summary(self, *, preview_rows: int, error_rows: int) -> "ImportSummary":
        """What is kept for the pages: the counts, every error row up to ``error_rows`` (or,
        without errors, the first ``preview_rows`` rows)."""
        errors = self.error_rows
        shown = errors[:error_rows] if errors else self.rows[:preview_rows]
        return ImportSummary(
            total_rows=len(self.rows),
            error_row_count=len(errors),
            counts=self.counts,
            ignored_columns=self.ignored_columns,
            rows=shown,
            saved=self.saved,
        )


@dataclass
class ImportSummary:
    """An import's outcome as stored with it (JSON) and shown by the pages."""

    total_rows: int
    error_row_count: int
    counts: dict[str, int]
    ignored_columns: list[str]
    rows: list[ReportRow]  # the rows shown: the error rows, else the first ones
    saved: bool = False

    @property
    def ok(self) -> bool:
        return self.error_row_count == 0

    @property
    def hidden_rows(self) -> int:
        shown = len(self.rows)
        return (self.total_rows if self.ok else self.error_row_count) - shown

    def to_json(self) -> dict:
        return {
            "total_rows": self.total_rows,
            "error_row_count": self.error_row_count,
            "counts": self.counts,
            "ignored_columns": self.ignored_columns,
            "rows": [row.to_json() for row in self.rows],
            "saved": self.saved,
        }

    @classmethod
    def from_json(cls, data: dict) -> "ImportSummary":
        return cls(
            total_rows=data["total_rows"],
            error_row_count=data["error_row_count"],
            counts=data["counts"],
            ignored_columns=data["ignored_columns"],
            rows=[ReportRow.from_json(row) for row in data["rows"]],
            saved=data.get("saved", False),
        )


def family_import(
    *,
    company: Company,
    actor,
    parsed: ParsedFile,
    dry_run: bool,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import (or with ``dry_run``, try and roll back) a parsed CSV file in one transaction.
    If any row has an error, nothing is saved; the report has every row's outcome and every
    row's errors, with its spreadsheet row number and column. ``progress`` is called with
    the number of rows done after each row."""
    resource = FamilyRowResource(
        company=company, actor=actor, lines=parsed.lines, now=now, progress=progress
    )
    result = resource.import_data(
        parsed.dataset,
        dry_run=dry_run,
        use_transactions=True,
        rollback_on_validation_errors=True,
        raise_errors=False,
    )
    errors: dict[int, list[tuple[str, str]]] = {}
    for invalid in result.invalid_rows:
        for column, messages in invalid.error_dict.items():
            column = "" if column == NON_FIELD_ERRORS else column
            errors.setdefault(invalid.number, []).extend((column, m) for m in messages)
    for error_row in result.error_rows:
        for error in error_row.errors:
            logger.error("CSV import: row %s failed: %s", error_row.number, error.traceback)
            errors.setdefault(error_row.number, []).append(
                ("", _("Unexpected error on this row: nothing was saved."))
            )
    base_errors = [str(e.error) for e in result.base_errors]
    if base_errors:
        logger.error("CSV import failed: %s", base_errors)
        raise ImportFileError(_("The import failed unexpectedly: nothing was saved."))
    rows = [
        ReportRow(
            line=parsed.lines[number - 1],
            values=dict(zip(COLUMNS, values[: len(COLUMNS)], strict=True)),
            plan=None if number in errors else resource.plans.get(number),
            errors=errors.get(number, []),
        )
        for number, values in enumerate(parsed.dataset, start=1)
    ]
    report = ImportReport(rows=rows, ignored_columns=parsed.ignored_columns, saved=False)
    report.saved = not dry_run and report.ok
    return report
