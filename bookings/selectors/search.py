"""Finding people (DAY-3): the back office's one search box (families, students and parents
by name, e-mail or phone number) and the searchable student picker of a class.

Every row keeps a folded ``search_text`` (``makeup.searchtext``: lower case, no accents, the
phone's digits) and its ``search_keys`` (each word with one letter left out). A query word
matches a row when the text contains it, or — for words of four letters or more — when a
word of the text is one typo away ("Jonh" finds "John"): the row shares a key with the word
(an exact look-up) and the exact typo expression confirms it. A phone number is matched on
its digits, by its last nine when longer. On PostgreSQL both columns have a GIN trigram
index (migration ``bookings.0013``), which answers these ``LIKE`` look-ups without reading
the table. Everything is filtered by the company; each read is one query per kind of row.
"""

import calendar
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from makeup.dbplans import planned_for_its_values
from makeup.models import Company
from makeup.searchtext import PHONE_TAIL, Query, is_fuzzy, parse, query_keys, typo_regex
from programmes.models import Class

from ..models import Family, Guardian, Student
from .families import age_in_years

#: How many rows of each kind the search page shows (the dropdown shows fewer).
RESULTS_PER_KIND = 20
DROPDOWN_PER_KIND = 5
#: How many students the enrol picker lists at once.
PICKER_SIZE = 20


def text_match(query: Query, field: str = "search_text") -> Q:
    """Rows whose ``field`` (a folded search column, through relations if need be) matches
    every word of ``query``, or its phone number. See the module's docstring."""
    if query.phone:
        condition = Q(**{f"{field}__contains": query.phone})
        if len(query.phone) > PHONE_TAIL:
            condition |= Q(**{f"{field}__contains": query.phone_tail})
        return condition
    keys_field = field.removesuffix("search_text") + "search_keys"
    condition = Q()
    for word in query.words:
        match = Q(**{f"{field}__contains": word})
        if is_fuzzy(word):
            shares_a_key = Q()
            for key in query_keys(word):
                shares_a_key |= Q(**{f"{keys_field}__contains": f" {key} "})
            match |= shares_a_key & Q(**{f"{field}__regex": typo_regex(word)})
        condition &= match
    return condition


def exact_first(query: Query, field: str = "search_text") -> Case | Value:
    """0 for rows that contain every word as typed (folded), 1 for matches with a typo
    (a phone number is always matched as typed)."""
    if not query.words:
        return Value(0, output_field=IntegerField())
    exact = Q()
    for word in query.words:
        exact &= Q(**{f"{field}__contains": word})
    return Case(When(exact, then=Value(0)), default=Value(1), output_field=IntegerField())


def matching(queryset: QuerySet, query: Query, *order: str, field: str = "search_text"):
    """``queryset`` narrowed to ``query``, exact matches first, then by ``order``."""
    return (
        queryset.filter(text_match(query, field))
        .annotate(search_rank=exact_first(query, field))
        .order_by("search_rank", *order)
    )


# --- the back office's search box -------------------------------------------------------


@dataclass
class SearchResults:
    q: str
    families: list[Family] = field(default_factory=list)
    students: list[Student] = field(default_factory=list)
    guardians: list[Guardian] = field(default_factory=list)
    more: bool = False  # some kind had more rows than shown

    @property
    def count(self) -> int:
        return len(self.families) + len(self.students) + len(self.guardians)


def search_people(
    *, company: Company, q: str, today: date, limit: int = RESULTS_PER_KIND
) -> SearchResults:
    """Families (by their name), students (by name, with their family and age) and parents
    (by name, e-mail or phone, with their family) of ``company`` matching ``q``, at most
    ``limit`` of each: three queries whatever the company's size."""
    query = parse(q)
    results = SearchResults(q=q)
    if not query:
        return results

    def first_rows(queryset: QuerySet, *order: str) -> list:
        return list(matching(queryset, query, *order)[: limit + 1])

    # How many rows a word matches decides the plan (the trigram index, or not): each
    # query is planned for its own words (makeup.dbplans).
    with planned_for_its_values():
        families = first_rows(Family.objects.filter(company=company), "name", "pk")
        students = first_rows(
            Student.objects.filter(company=company).select_related("family"),
            "first_name",
            "last_name",
            "pk",
        )
        guardians = first_rows(
            Guardian.objects.filter(company=company).select_related("family"), "full_name", "pk"
        )
    results.more = any(len(rows) > limit for rows in (families, students, guardians))
    results.families, results.students, results.guardians = (
        families[:limit],
        students[:limit],
        guardians[:limit],
    )
    for student in results.students:
        student.age = age_in_years(student.date_of_birth, today)
    return results


# --- the class page's student picker ----------------------------------------------------


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def age_fits(klass: Class, on: date, field: str = "date_of_birth") -> Q:
    """Students whose age in whole months on ``on`` is within ``klass``'s ages — the same
    rule as ``programmes.models.age_in_months`` (born on or before the day ``min`` months
    earlier, after the day ``max + 1`` months earlier)."""
    condition = Q()
    if klass.min_age_months is not None:
        condition &= Q(**{f"{field}__lte": months_before(on, klass.min_age_months)})
    if klass.max_age_months is not None:
        condition &= Q(**{f"{field}__gt": months_before(on, klass.max_age_months + 1)})
    return condition


@dataclass
class EnrolCandidates:
    students: list[Student]
    on: date
    more: bool
    any_age: bool


def enrol_candidates(
    *, klass: Class, q: str, today: date, any_age: bool = False, limit: int = PICKER_SIZE
) -> EnrolCandidates:
    """The students the class page offers to enrol: the company's students not already in
    ``klass``, of an age that fits it on the day the enrolment would start (unless
    ``any_age``), matching ``q`` when given; at most ``limit``, with their family. One
    query."""
    on = max(today, klass.start_date)
    query = parse(q)
    students = Student.objects.filter(company_id=klass.company_id).exclude(
        enrolments__klass=klass, enrolments__withdrawn_from__isnull=True
    )
    if not any_age:
        students = students.filter(age_fits(klass, on))
    students = students.select_related("family")
    if query:
        students = matching(students, query, "first_name", "last_name", "pk")
    else:
        students = students.order_by("first_name", "last_name", "pk")
    with planned_for_its_values():  # as search_people: planned for its own words
        rows = list(students[: limit + 1])
    for student in rows:
        student.age = age_in_years(student.date_of_birth, on)
    return EnrolCandidates(students=rows[:limit], on=on, more=len(rows) > limit, any_age=any_age)
