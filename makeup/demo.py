"""Demo data, core part: two swim schools and their logins. Each app adds its own part in a
``demo.py`` of its own; ``manage.py seed_demo`` runs them in dependency order."""

from dataclasses import dataclass, field

from django.utils import timezone

from .models import Company, Membership, Role, User
from .services import company_create

DEMO_PASSWORD = "makeup-demo"  # noqa: S105 - printed on purpose: demo logins


@dataclass
class DemoContext:
    companies: dict[str, Company] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


COMPANIES = [
    {
        "slug": "riverside",
        "name": "Riverside Swim School",
        "timezone": "Australia/Sydney",
        "currency": "AUD",
        "address": "12 River Road\nParramatta NSW 2150",
        "contact_email": "hello@riverside.example",
    },
    {
        "slug": "lakeside",
        "name": "Lakeside Swim Club",
        "timezone": "Australia/Sydney",
        "currency": "AUD",
        "address": "3 Lake Parade\nPenrith NSW 2750",
        "contact_email": "hello@lakeside.example",
    },
]

USERS = [
    ("owner@riverside.example", "Olivia Owens", "riverside", Role.OWNER, "Owner, Riverside"),
    ("admin@riverside.example", "Adam Ashby", "riverside", Role.ADMIN, "Admin, Riverside"),
    (
        "staff@riverside.example",
        "Sam Stevens",
        "riverside",
        Role.STAFF,
        "Staff (instructor), Riverside",
    ),
    ("owner@lakeside.example", "Liam Lake", "lakeside", Role.OWNER, "Owner, Lakeside"),
    ("staff@lakeside.example", "Lucy Lane", "lakeside", Role.STAFF, "Staff (instructor), Lakeside"),
]


def _user(email: str, full_name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email,
            password=DEMO_PASSWORD,
            full_name=full_name,
            email_confirmed_at=timezone.now(),
        )
    return user


def seed(ctx: DemoContext) -> None:
    for data in COMPANIES:
        company = Company.objects.filter(slug=data["slug"]).first()
        if company is None:
            company = company_create(**data)
        ctx.companies[data["slug"]] = company
    for email, full_name, slug, role, label in USERS:
        user = _user(email, full_name)
        Membership.objects.get_or_create(
            user=user, company=ctx.companies[slug], defaults={"role": role}
        )
        ctx.users[email] = user
        ctx.logins.append((email, label))
    parent = _user("parent@riverside.example", "Emma Parker")
    ctx.users[parent.email] = parent
    ctx.logins.append((parent.email, "Parent (Parker family), Riverside portal"))
