"""factory-boy factories. Tenant rows are created outside scopes (django-scopes lets
``create()`` through); reads in tests enter ``scope(company=…)``."""

from datetime import date

import factory
from django.utils import timezone

from bookings.models import Family, Guardian, Student
from makeup.models import Company, CompanySettings, Membership, Role, User

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
