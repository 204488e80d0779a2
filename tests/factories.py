"""factory-boy factories. Tenant rows are created outside scopes (django-scopes lets
``create()`` through); reads in tests enter ``scope(company=…)``."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from django_scopes import scopes_disabled

from bookings.models import Attendance, Enrolment, Family, FamilyImport, Guardian, Student
from makeup.models import Company, CompanySettings, Membership, Role, User
from programmes import hooks as programme_hooks
from programmes.models import Class, ClassSchedule, Programme, Session

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    email_confirmed_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Swim School {n}")
    slug = factory.Sequence(lambda n: f"school-{n}")
    timezone = "Australia/Sydney"
    currency = "AUD"
    contact_email = factory.LazyAttribute(lambda o: f"hello@{o.slug}.example")
    settings = factory.RelatedFactory(
        "tests.factories.CompanySettingsFactory", factory_related_name="company"
    )


class CompanySettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompanySettings

    company = factory.SubFactory(CompanyFactory, settings=None)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory)
    role = Role.STAFF


class FamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Family

    company = factory.SubFactory(CompanyFactory)
    name = factory.Faker("last_name")


class GuardianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardian

    family = factory.SubFactory(FamilyFactory)
    company = factory.SelfAttribute("family.company")
    user = factory.SubFactory(UserFactory)
    full_name = factory.LazyAttribute(lambda o: o.user.full_name if o.user else "Pat Parent")
    email = factory.LazyAttribute(lambda o: o.user.email if o.user else "")


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    family = factory.SubFactory(FamilyFactory)
    company = factory.SelfAttribute("family.company")
    first_name = factory.Faker("first_name")
    last_name = factory.SelfAttribute("family.name")
    date_of_birth = date(2018, 5, 1)


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        skip_postgeneration_save = True

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"Swim Level {n}")
    code = factory.Sequence(lambda n: f"SWIM-L{n}")

    @factory.post_generation
    def created(obj, create, extracted, **kwargs):
        """What ``programme_create`` runs for a new programme (the apps registered with
        ``programmes.hooks``: credits adds the default cancellation policy)."""
        if create:
            with scopes_disabled():  # factories build outside any company's scope
                programme_hooks.programme_created(programme=obj)


class ClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Class

    programme = factory.SubFactory(ProgrammeFactory)
    company = factory.SelfAttribute("programme.company")
    name = factory.Sequence(lambda n: f"Tuesday Dolphins {n}")
    capacity = 8
    min_age_months = 48
    max_age_months = 96
    start_date = date(2026, 10, 6)
    end_date = date(2026, 12, 15)
    price_per_session = Decimal("25.00")


class ClassScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClassSchedule

    klass = factory.SubFactory(ClassFactory)
    company = factory.SelfAttribute("klass.company")
    weekday = 1
    start_time = time(17, 0)
    duration_minutes = 30


class SessionFactory(factory.django.DjangoModelFactory):
    """A session of the class at ``local_date`` ``local_time`` in the company's zone."""

    class Meta:
        model = Session
        exclude = ["local_time", "minutes"]

    klass = factory.SubFactory(ClassFactory)
    company = factory.SelfAttribute("klass.company")
    local_date = date(2026, 11, 24)
    local_time = time(17, 0)
    minutes = 30
    starts_at = factory.LazyAttribute(
        lambda o: datetime.combine(o.local_date, o.local_time, tzinfo=o.klass.company.tzinfo)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=o.minutes))


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    klass = factory.SubFactory(ClassFactory)
    company = factory.SelfAttribute("klass.company")
    student = factory.SubFactory(
        StudentFactory, family__company=factory.SelfAttribute("...klass.company")
    )
    start_date = factory.SelfAttribute("klass.start_date")


class AttendanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attendance

    enrolment = factory.SubFactory(EnrolmentFactory)
    company = factory.SelfAttribute("enrolment.company")
    session = factory.SubFactory(
        SessionFactory,
        klass=factory.SelfAttribute("..enrolment.klass"),
        local_date=factory.SelfAttribute("..enrolment.start_date"),
    )
    state = "no_show"


def parent_of(obj) -> User:
    """A parent login of the family of ``obj`` (a family, student, enrolment or credit), with
    a confirmed e-mail address: who may book a make-up or watch a session for the family in
    the portal (MKP-9). The family's first parent with a login, else a new one."""
    family = obj
    for step in ("enrolment", "student", "family"):
        if not isinstance(family, Family) and hasattr(family, step):
            family = getattr(family, step)
    with scopes_disabled():
        guardian = (
            Guardian.objects.filter(family=family, user__isnull=False)
            .select_related("user")
            .order_by("pk")
            .first()
        )
    if guardian is None:
        guardian = GuardianFactory(family=family)
    user = guardian.user
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
    return user


class FamilyImportFactory(factory.django.DjangoModelFactory):
    """An uploaded CSV waiting for its check (the task has not run)."""

    class Meta:
        model = FamilyImport

    company = factory.SubFactory(CompanyFactory)
    file_name = "families.csv"
    language = "en"
    content = "family_name,parent_name\r\n"
    state = FamilyImport.State.CHECKING
    created_at = factory.LazyFunction(timezone.now)
