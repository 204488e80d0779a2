"""Demo programmes and classes (programmes part of ``seed_demo``): Swim Levels 1–4 at
Riverside with a term of weekly classes, and matching programmes at Lakeside."""

from datetime import date, time, timedelta
from decimal import Decimal

from django.utils import timezone
from django_scopes import scope

from makeup.holidays import public_holidays
from makeup.services import company_settings_update

from .models import Class, ExtraCapacityMode, Programme
from .services import (
    Slot,
    class_create,
    closures_add_holidays,
    programme_create,
    programme_update,
)

PROGRAMMES = [
    ("Swim Level 1 — Water confidence", "SWIM-L1", "Ages 3–5: floating, kicking, breath control."),
    ("Swim Level 2 — Beginner strokes", "SWIM-L2", "Ages 5–7: freestyle arms, back float."),
    ("Swim Level 3 — Stroke development", "SWIM-L3", "Ages 6–9: freestyle and backstroke."),
    ("Swim Level 4 — Squad prep", "SWIM-L4", "Ages 8–12: four strokes, tumble turns."),
]

# (code, name, weekday, start, minutes, capacity, min years, max years, location, extras)
RIVERSIDE_CLASSES = [
    ("SWIM-L1", "L1 Monday Starfish", 0, time(16, 0), 30, 6, 3, 5, "Learner pool", {}),
    ("SWIM-L1", "L1 Wednesday Starfish", 2, time(16, 0), 30, 6, 3, 5, "Learner pool", {}),
    ("SWIM-L1", "L1 Saturday Starfish", 5, time(9, 0), 30, 6, 3, 5, "Learner pool", {}),
    ("SWIM-L2", "L2 Monday Dolphins", 0, time(17, 0), 30, 8, 5, 7, "Main pool", {}),
    (
        "SWIM-L2",
        "L2 Tuesday Dolphins",
        1,
        time(17, 0),
        30,
        8,
        5,
        7,
        "Main pool",
        {"extra_makeup_capacity": 1},
    ),
    ("SWIM-L2", "L2 Thursday Dolphins", 3, time(16, 30), 30, 8, 5, 7, "Main pool", {}),
    ("SWIM-L2", "L2 Saturday Dolphins", 5, time(9, 30), 30, 8, 5, 7, "Main pool", {}),
    ("SWIM-L3", "L3 Tuesday Sharks", 1, time(17, 30), 45, 8, 6, 9, "Main pool", {}),
    (
        "SWIM-L3",
        "L3 Thursday Sharks",
        3,
        time(17, 15),
        45,
        8,
        6,
        9,
        "Main pool",
        {"extra_makeup_capacity": 0, "extra_capacity_mode": ExtraCapacityMode.REPLACE},
    ),
    ("SWIM-L3", "L3 Friday Sharks", 4, time(16, 0), 45, 8, 6, 9, "Main pool", {}),
    ("SWIM-L3", "L3 Saturday Sharks", 5, time(10, 15), 45, 8, 6, 9, "Main pool", {}),
    ("SWIM-L4", "L4 Wednesday Squad", 2, time(17, 0), 60, 10, 8, 12, "Main pool", {}),
    ("SWIM-L4", "L4 Monday Squad", 0, time(17, 30), 60, 10, 8, 12, "Main pool", {}),
    (
        "SWIM-L4",
        "L4 Friday Squad",
        4,
        time(17, 0),
        60,
        10,
        8,
        12,
        "Main pool",
        {"allow_makeups": False},
    ),
    (
        "SWIM-L4",
        "L4 Term Package Squad",
        5,
        time(11, 15),
        60,
        10,
        8,
        12,
        "Main pool",
        {"price_per_session": None, "course_price": Decimal("240.00")},
    ),
]

LAKESIDE_CLASSES = [
    ("SWIM-L2", "Lakeside L2 Wednesday", 2, time(17, 0), 30, 8, 5, 7, "Lake pool", {}),
    ("SWIM-L2", "Lakeside L2 Saturday", 5, time(10, 0), 30, 8, 5, 7, "Lake pool", {}),
    ("SWIM-L3", "Lakeside L3 Thursday", 3, time(17, 0), 45, 8, 6, 9, "Lake pool", {}),
]


def current_term(today: date) -> tuple[date, date]:
    """A ten-week term around today: from the Monday six weeks ago to four weeks ahead."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(weeks=6), monday + timedelta(weeks=4, days=5)


def _seed_company(company, instructor, classes, codes, term) -> list[Class]:
    with scope(company=company):
        programmes = {}
        for name, code, description in PROGRAMMES:
            if code not in codes:
                continue
            programme = Programme.objects.filter(company=company, code=code).first()
            if programme is None:
                programme = programme_create(
                    company=company,
                    name=name,
                    code=code,
                    description=description,
                    accept_partner_makeups=True,
                )
            programmes[code] = programme
        created = []
        for code, name, weekday, start, minutes, capacity, lo, hi, location, extra in classes:
            if Class.objects.filter(company=company, name=name).exists():
                continue
            values = {"price_per_session": Decimal("26.00"), **extra}
            klass, _ = class_create(
                company=company,
                programme=programmes[code],
                name=name,
                instructor=instructor,
                location=location,
                min_age_months=lo * 12,
                max_age_months=hi * 12 + 11,
                capacity=capacity,
                start_date=term[0],
                end_date=term[1],
                schedule=[Slot(weekday, start, minutes)],
                now=timezone.now(),
                **values,
            )
            created.append(klass)
        return created


# CLO-1: the public holidays Riverside observes (their next dates in the coming year).
RIVERSIDE_HOLIDAYS = ("Christmas Day", "Boxing Day", "New Year's Day")


def _observe_holidays(company, today: date) -> None:
    """Riverside takes public holidays from New South Wales and closes on three of them,
    before its classes are generated, so no lesson falls on them (CLO-2)."""
    with scope(company=company):
        company_settings_update(
            company=company, now=timezone.now(), holiday_country="AU", holiday_subdivision="NSW"
        )
        days = [
            (day, name)
            for day, name in public_holidays("AU", "NSW", today, today + timedelta(days=365))
            if name in RIVERSIDE_HOLIDAYS
        ]
        closures_add_holidays(company=company, days=days, now=timezone.now())


def seed(ctx) -> None:
    riverside, lakeside = ctx.companies["riverside"], ctx.companies["lakeside"]
    today = timezone.localdate(timezone=riverside.tzinfo)
    term = current_term(today)
    ctx.extra["term"] = term
    _observe_holidays(riverside, today)
    ctx.extra["new_classes"] = _seed_company(
        riverside,
        ctx.users["staff@riverside.example"],
        RIVERSIDE_CLASSES,
        {"SWIM-L1", "SWIM-L2", "SWIM-L3", "SWIM-L4"},
        term,
    )
    _seed_company(
        lakeside,
        ctx.users["staff@lakeside.example"],
        LAKESIDE_CLASSES,
        {"SWIM-L2", "SWIM-L3"},
        term,
    )
    _family_wallet(riverside)


# WAL-3: each Riverside level also takes credits of the level above (a child who missed a
# Level 3 lesson may make it up in Level 2).
LEVEL_BELOW = {"SWIM-L1": "SWIM-L2", "SWIM-L2": "SWIM-L3", "SWIM-L3": "SWIM-L4"}


def _family_wallet(company) -> None:
    """Riverside's family wallet: siblings may share credits (WAL-1) and each level accepts
    the credits of the level above (WAL-3). Through the programme service; run again, it sets
    the same."""
    with scope(company=company):
        programmes = {p.code: p for p in Programme.objects.filter(company=company)}
        for code, programme in sorted(programmes.items()):
            entry = programmes.get(LEVEL_BELOW.get(code, ""))
            programme_update(
                programme=programme,
                name=programme.name,
                code=programme.code,
                description=programme.description,
                makeups_enabled=programme.makeups_enabled,
                accept_partner_makeups=programme.accept_partner_makeups,
                credit_transfer_allowed=True,
                accepts_credits_from=[entry] if entry else [],
                now=timezone.now(),
            )
