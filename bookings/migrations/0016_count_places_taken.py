"""Count every existing session's places taken into the new column (MKP-7): regulars
enrolled that day, minus those who gave their place up, plus booked make-up guests."""

from django.db import migrations
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

FREEING = ["cancelled", "late_cancelled", "staff_cancelled"]


def _count(queryset, group):
    return Coalesce(
        Subquery(
            queryset.order_by().values(group).annotate(c=Count("pk")).values("c"),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def count(apps, schema_editor):
    Session = apps.get_model("programmes", "Session")
    Enrolment = apps.get_model("bookings", "Enrolment")
    Attendance = apps.get_model("bookings", "Attendance")
    MakeupBooking = apps.get_model("bookings", "MakeupBooking")
    regulars = Enrolment._base_manager.filter(
        klass=OuterRef("klass"), start_date__lte=OuterRef("local_date")
    ).filter(Q(withdrawn_from__isnull=True) | Q(withdrawn_from__gt=OuterRef("local_date")))
    freed = Attendance._base_manager.filter(session=OuterRef("pk"), state__in=FREEING)
    guests = MakeupBooking._base_manager.filter(session=OuterRef("pk"), state="booked")
    Session._base_manager.update(
        places_taken=_count(regulars, "klass") - _count(freed, "session") + _count(guests, "session")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0015_attendancechange_source_session_restore"),
        ("programmes", "0005_session_places_taken"),
    ]

    operations = [migrations.RunPython(count, migrations.RunPython.noop)]
