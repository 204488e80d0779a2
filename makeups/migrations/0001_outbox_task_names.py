"""The make-up e-mail tasks moved from ``credits.tasks`` to ``makeups.tasks``: messages still
waiting in the outbox under the old names are renamed, so the relay finds their task."""

from django.db import migrations

RENAMED = {
    "credits.tasks.send_makeup_booked": "makeups.tasks.send_makeup_booked",
    "credits.tasks.send_watch_skipped_for_balance": "makeups.tasks.send_watch_skipped_for_balance",
}


def forwards(apps, schema_editor):
    outbox = apps.get_model("makeup", "OutboxMessage")
    for old, new in RENAMED.items():
        outbox.objects.filter(task=old).update(task=new)


def backwards(apps, schema_editor):
    outbox = apps.get_model("makeup", "OutboxMessage")
    for old, new in RENAMED.items():
        outbox.objects.filter(task=new).update(task=old)


class Migration(migrations.Migration):
    dependencies = [("makeup", "0005_outbox_password_reset_by_address")]

    operations = [migrations.RunPython(forwards, backwards)]
