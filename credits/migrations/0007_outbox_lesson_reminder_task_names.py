"""The lesson reminder tasks moved from ``credits.reminders`` to ``credits.tasks``: messages
still waiting in the outbox under the old names are renamed, so the relay finds their task."""

from django.db import migrations

RENAMED = {
    "credits.reminders.send_lesson_reminder": "credits.tasks.send_lesson_reminder",
    "credits.reminders.send_lesson_reminders": "credits.tasks.send_lesson_reminders",
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
    dependencies = [
        ("credits", "0006_absenceclaim"),
        ("makeup", "0005_outbox_password_reset_by_address"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
