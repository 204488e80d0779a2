"""Password-reset e-mails used to be rendered in the web process and stored whole in the
outbox (``makeup.tasks.send_rendered_email``: subject, text, HTML, recipients), so a working
reset link sat in the database and its backups. They are now made by the worker from the
address alone (``send_password_reset``). This migration empties the stored e-mails of rows
already sent, and turns rows not yet sent into the new task for their recipient (the link
is made afresh when it goes out)."""

from django.db import migrations

OLD = "makeup.tasks.send_rendered_email"
NEW = "makeup.tasks.send_password_reset"


def forwards(apps, schema_editor):
    OutboxMessage = apps.get_model("makeup", "OutboxMessage")
    OutboxMessage.objects.filter(task=OLD, done_at__isnull=False).update(args=[], kwargs={})
    for row in OutboxMessage.objects.filter(task=OLD, done_at__isnull=True):
        recipients = row.args[3] if len(row.args) > 3 and row.args[3] else []
        if not recipients:
            row.args, row.kwargs, row.done_at = [], {}, row.created_at
            row.last_error = "Emptied: a stored e-mail without a recipient."
        else:
            row.task, row.args, row.kwargs = NEW, [recipients[0], ""], {}
        row.save()


class Migration(migrations.Migration):
    dependencies = [("makeup", "0004_outbox")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
