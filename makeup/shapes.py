"""Busy reads compiled to SQL once per worker, not on every request (issue 20).

Django turns a queryset into SQL on every evaluation: building the query tree, resolving
every lookup and join, then compiling it. For the pages a parent or a member of staff opens
all day that was a third of a request's time (the portal home: some 9 ms of 28 for its 19
queries), more than PostgreSQL took to plan and run them. A :class:`Shape` wraps a function
that builds one such queryset from named values; the first call builds and compiles it
(twice, see below) and keeps the SQL, and every later call only puts its own values into
the kept parameters and reads the rows through Django's own iterables (model instances,
``select_related`` objects, annotations, ``values_list`` rows alike).

Only a value's *place* in the SQL is kept, never the value, and nothing is trusted to the
author of a shape: the first call builds it twice with two sets of stand-in values that
differ in every part (and under two different time zones and two different companies in
scope), and refuses the shape with :class:`ShapeError` unless both give the same SQL and
every parameter that differs is exactly one of the values given (as the database receives
it). So a value computed inside the build (``now + 4 weeks``), the request's time zone, the
company in scope, a list whose length changes the SQL, a flag that changes it
(``field=True`` becomes ``WHERE field``): each is refused the first time it runs — in the
tests — instead of being frozen into the SQL. Pass such things in ``fixed`` (part of the
key, a shape of its own per value) or compute them before and pass them as values.

The tenant scope (django-scopes, TEN-1) is a value like the others: a scoped model's
manager filters by the company in scope, so the company is put in place on every call;
with scopes disabled the shape is compiled without it; with no scope active it is compiled
as it is (a scoped model raises django-scopes' ScopeError, as it would); with a scope of
several companies the queryset is simply built as before.

What a shape returns is a list: nothing can filter or count the kept query again (it
holds the stand-in values). ``prefetch_related`` can't be part of it (a prefetch's own
queryset would be kept with the stand-ins too): prefetch on the list with
:func:`django.db.models.prefetch_related_objects`.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Hashable
from contextlib import nullcontext
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Model, QuerySet
from django.db.models.sql import UpdateQuery
from django.db.models.sql.constants import ROW_COUNT
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from django_scopes.state import get_scope

__all__ = ["Shape", "ShapeError", "UpdateShape"]

_SCOPE = "company"  # the one scope dimension (makeup.tenancy)
_IN_SCOPE = "__company_in_scope__"  # the company in scope, as a value of the shape


class ShapeError(Exception):
    """A shape whose SQL depends on more than the places of its values (a programming
    error: it is raised on the shape's first call, so by the tests)."""


def _kind(value: Any) -> str | None:
    """The kind of a value a shape can take as a parameter, or ``None``."""
    if isinstance(value, bool):
        return None  # Django writes a flag into the SQL (``WHERE field``), not as a parameter
    if isinstance(value, int):
        # Beyond 64 bits no database takes it as a parameter; Django leaves such a comparison
        # out of the SQL (no rows, or all): built the ordinary way.
        return "int" if -(2**63) <= value < 2**63 else None
    if isinstance(value, str):
        return "str"
    if isinstance(value, datetime):
        return "datetime" if timezone.is_aware(value) else None
    if isinstance(value, date):
        return "date"
    if isinstance(value, time):
        return "time"
    return None


def _stand_in(kind: str, n: int, second: bool) -> Any:
    """The ``n``-th stand-in of ``kind``; the two sets differ in every part (years, days,
    hours, minutes, seconds, microseconds, digits) so a value derived from one is seen."""
    if kind == "int":
        # Within a small integer's range: Django drops a comparison with a value out of a
        # column's range from the SQL (and every value must be seen in it, see below).
        return (31_019 if second else 20_011) + 97 * n
    if kind == "str":
        return f"{'zz' if second else 'aa'}-stand-in-{n}"
    if kind == "date":
        return (date(2093, 8, 22) if second else date(2091, 3, 7)) + timedelta(days=3 * n)
    if kind == "datetime":
        first = datetime(2091, 3, 7, 5, 11, 13, 123457, tzinfo=UTC)
        other = datetime(2093, 8, 22, 19, 47, 29, 654321, tzinfo=UTC)
        return (other if second else first) + timedelta(days=3 * n, minutes=7 * n)
    if kind == "time":
        return time(19, 47 - n, 29, 654321) if second else time(5, 11 + n, 13, 123457)
    raise AssertionError(kind)


# The forms a value can take on its way to the database driver (SQLite receives dates and
# times as text, PostgreSQL as they are).
def _adapters(connection) -> tuple[Callable[[Any], Any], ...]:
    ops = connection.ops

    def sized(internal_type: str) -> Callable[[Any], Any]:
        # psycopg 3: Django sends an integer compared with a column as that column's size
        # (``Int2`` for a small integer), so the plan can use the column's index.
        low, high = ops.integer_field_range(internal_type)

        def adapt(value):
            if not low <= value <= high:
                raise _OutOfRange  # Django leaves such a comparison out of the SQL
            return ops.adapt_integerfield_value(value, internal_type)

        return adapt

    return (
        lambda v: v,
        ops.adapt_datetimefield_value,
        ops.adapt_datefield_value,
        ops.adapt_timefield_value,
        sized("SmallIntegerField"),
        sized("IntegerField"),
        sized("BigIntegerField"),
        str,
    )


class _OutOfRange(ValueError):
    """A value beyond its column's integers: the call is built the ordinary way."""


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


class _Compiled:
    """One compiled form: the SQL, the constant parameters, where each value goes, and the
    compiler (its select list and converters) and queryset to read rows through."""

    def __init__(self, queryset: QuerySet, compiler, sql: str, params: list, slots) -> None:
        self.queryset = queryset
        self.compiler = compiler
        self.sql = sql
        self.params = params
        self.slots = slots  # [(position, name, adapter)]
        self.alias = compiler.using

    def fetch(self, values: dict[str, Any]) -> list:
        compiler, queryset = self._bound(values)
        return list(queryset._iterable_class(queryset))

    def update(self, values: dict[str, Any]) -> int:
        compiler, _ = self._bound(values)
        with transaction.mark_for_rollback_on_error(using=self.alias):  # as QuerySet.update
            return compiler.execute_sql(ROW_COUNT)

    def _bound(self, values: dict[str, Any]):
        params = list(self.params)
        for position, name, adapter in self.slots:
            params[position] = adapter(values[name])
        connection = connections[self.alias]  # this thread's connection
        if self.queryset.query.select_for_update and connection.get_autocommit():
            # As Django's compiler would: a lock outside a transaction holds nothing.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        compiler = _shallow(self.compiler)
        compiler.connection = connection
        sql, bound = self.sql, tuple(params)
        compiler.as_sql = lambda *args, **kwargs: (sql, bound)
        query = _shallow(self.queryset.query)
        query.get_compiler = lambda *args, **kwargs: compiler
        queryset = _shallow(self.queryset)
        queryset._query = query
        queryset._result_cache = None
        return compiler, queryset


class Shape:
    """A queryset built by ``build(**values)``, compiled once per kind of values and scope.

    ``fixed``: names of arguments that decide the SQL itself (a slice's size, a choice of
    ordering): each value of them is a shape of its own, passed to ``build`` as it is.
    """

    def __init__(self, build: Callable[..., QuerySet], *, fixed: tuple[str, ...] = ()) -> None:
        self.build = build
        self.fixed = frozenset(fixed)
        self.name = f"{build.__module__}.{build.__qualname__}"
        self._compiled: dict[Hashable, _Compiled] = {}

    def __call__(self, **values: Any) -> list:
        fixed = {name: values.pop(name) for name in self.fixed if name in values}
        current = get_scope()
        kinds = {name: _kind(value) for name, value in values.items()}
        if None in kinds.values():
            return self._plain(self.build(**fixed, **values))  # a kind that shapes the SQL
        in_scope = None
        if not current.get("_enabled", True):
            mode = "off"  # scopes disabled: no company filter
        elif _SCOPE not in current:
            mode = "none"  # no scope: a scoped model raises ScopeError, as it would
        else:
            company = current[_SCOPE]
            in_scope = company.pk if isinstance(company, Model) else company
            if not isinstance(in_scope, int) or isinstance(in_scope, bool):
                return self._plain(self.build(**fixed, **values))  # several companies
            mode = "in"
        key = (tuple(sorted(fixed.items())), tuple(sorted(kinds.items())), mode)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(fixed, kinds, mode=mode)
        if in_scope is not None:
            values[_IN_SCOPE] = in_scope
        try:
            return self._run(compiled, values)
        except _OutOfRange:
            values.pop(_IN_SCOPE, None)
            return self._plain(self.build(**fixed, **values))

    # What a call builds, runs and returns: a queryset's rows (an UpdateShape: rows updated).
    def _plain(self, built) -> list:
        return list(built)

    def _run(self, compiled: _Compiled, values: dict[str, Any]) -> list:
        return compiled.fetch(values)

    def _queryset(self, built) -> QuerySet:
        return built

    def _compiler(self, built):
        return built.query.get_compiler(using=built.db)

    def first(self, **values: Any):
        """The first row, or ``None``."""
        rows = self(**values)
        return rows[0] if rows else None

    def get(self, **values: Any):
        """The one row, as :meth:`QuerySet.get`: ``DoesNotExist`` when there is none,
        ``MultipleObjectsReturned`` when there are more (raised by the queryset itself)."""
        rows = self(**dict(values))
        if len(rows) == 1:
            return rows[0]
        return self._queryset(self.build(**values)).get()

    def _build(self, fixed: dict, kinds: dict[str, str], second: bool, mode: str):
        if len(kinds) > 15:
            raise ShapeError(f"{self.name}: more values than stand-ins")
        stand_ins = {
            name: _stand_in(kind, n, second) for n, (name, kind) in enumerate(sorted(kinds.items()))
        }
        zone = zoneinfo.ZoneInfo("America/St_Johns" if second else "Pacific/Chatham")
        company = _stand_in("int", len(kinds) + 1, second)
        scoping = {"in": lambda: scope(company=company), "off": scopes_disabled}.get(
            mode, nullcontext
        )
        with timezone.override(zone), scoping():
            built = self.build(**fixed, **stand_ins)
            queryset = self._queryset(built)
            if not isinstance(queryset, QuerySet):
                raise ShapeError(f"{self.name}: build() must return a queryset")
            if queryset._prefetch_related_lookups or queryset._known_related_objects:
                raise ShapeError(
                    f"{self.name}: prefetch on the list (prefetch_related_objects), and "
                    "build from a model's manager, not a related one"
                )
            compiler = self._compiler(built)
            sql, params = compiler.as_sql()
        if mode == "in":
            stand_ins[_IN_SCOPE] = company
        return queryset, compiler, sql, list(params), stand_ins

    def _compile(self, fixed: dict, kinds: dict[str, str], *, mode: str) -> _Compiled:
        queryset, compiler, sql, params, first = self._build(fixed, kinds, False, mode)
        _, _, other_sql, other_params, second = self._build(fixed, kinds, True, mode)
        if sql != other_sql or len(params) != len(other_params):
            raise ShapeError(f"{self.name}: its SQL changes with its values")
        adapters = _adapters(connections[queryset.db])
        slots = []
        for position, (a, b) in enumerate(zip(params, other_params, strict=True)):
            if _same(a, b):
                continue  # a constant of the query (a state, a literal)
            found = next(
                (
                    (position, name, adapter)
                    for name in first
                    for adapter in adapters
                    if _safe(adapter, first[name], a) and _safe(adapter, second[name], b)
                ),
                None,
            )
            if found is None:
                raise ShapeError(
                    f"{self.name}: parameter {position + 1} depends on a value without being "
                    "one (computed inside the build, the time zone, a pattern): pass it in"
                )
            slots.append(found)
        unused = set(kinds) - {name for _, name, _ in slots}
        if unused:
            # Not in the SQL at all: dropped by Django for its value (out of a column's
            # range), or not a value of this query: either way not safe to keep.
            raise ShapeError(f"{self.name}: {', '.join(sorted(unused))} not found in its SQL")
        return _Compiled(queryset, compiler, sql, params, slots)


class UpdateShape(Shape):
    """An UPDATE compiled once: ``build(**values)`` returns the queryset to update and the
    fields to set (``{field: value or expression}``, as :meth:`QuerySet.update` takes
    them); a call returns the number of rows updated. Checked like a :class:`Shape`."""

    def _plain(self, built) -> int:
        queryset, fields = built
        return queryset.update(**fields)

    def _run(self, compiled: _Compiled, values: dict[str, Any]) -> int:
        return compiled.update(values)

    def _queryset(self, built) -> QuerySet:
        return built[0]

    def _compiler(self, built):
        queryset, fields = built
        if queryset.query.is_sliced or queryset.query.distinct_fields or queryset.query.combinator:
            raise ShapeError(f"{self.name}: not a queryset to update")
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(fields)
        query.annotations = {}  # as QuerySet.update: the SET list and WHERE only
        if query.related_updates:
            raise ShapeError(f"{self.name}: updates a parent model's table too")
        return query.get_compiler(using=router.db_for_write(queryset.model))


def _shallow(obj: Any) -> Any:
    """A shallow copy without ``copy.copy`` (which would make a queryset run its query)."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


def _safe(adapter: Callable[[Any], Any], value: Any, expected: Any) -> bool:
    try:
        return _same(adapter(value), expected)
    except (TypeError, ValueError, AttributeError):
        return False
