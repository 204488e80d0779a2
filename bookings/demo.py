"""Demo families (bookings part of ``seed_demo``)."""

from datetime import date

from django_scopes import scope

from .models import Family, Guardian, Student


def seed(ctx) -> None:
    riverside = ctx.companies["riverside"]
    parent = ctx.users["parent@riverside.example"]
    with scope(company=riverside):
        guardian = Guardian.objects.filter(company=riverside, user=parent).first()
        if guardian is None:
            family = Family.objects.create(company=riverside, name="Parker")
            Guardian.objects.create(
                company=riverside,
                family=family,
                user=parent,
                full_name=parent.full_name,
                email=parent.email,
                phone="0400 111 222",
            )
            Student.objects.create(
                company=riverside,
                family=family,
                first_name="Mia",
                last_name="Parker",
                date_of_birth=date(2018, 3, 14),
            )
            Student.objects.create(
                company=riverside,
                family=family,
                first_name="Noah",
                last_name="Parker",
                date_of_birth=date(2020, 9, 2),
            )
