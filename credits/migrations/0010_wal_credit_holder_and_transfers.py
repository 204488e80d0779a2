"""WAL-1: a credit's holder (the enrolment whose student may spend it; until a transfer, the
one it was earned on — every existing credit), when it was last given to a sibling, and the
"transferred" history entry with both sides."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bookings', '0014_search_text'),
        ('credits', '0009_creditevent_kind_moved'),
        ('makeup', '0006_closures'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='creditevent',
            name='from_enrolment',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='bookings.enrolment'),
        ),
        migrations.AddField(
            model_name='creditevent',
            name='to_enrolment',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='bookings.enrolment'),
        ),
        migrations.AddField(
            model_name='makeupcredit',
            name='holder',
            field=models.ForeignKey(help_text="The enrolment whose student may spend it: its own, or a sibling's it was given to.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='held_credits', to='bookings.enrolment'),
        ),
        migrations.RunSQL(
            "UPDATE credits_makeupcredit SET holder_id = enrolment_id",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name='makeupcredit',
            name='holder',
            field=models.ForeignKey(help_text="The enrolment whose student may spend it: its own, or a sibling's it was given to.", on_delete=django.db.models.deletion.PROTECT, related_name='held_credits', to='bookings.enrolment'),
        ),
        migrations.AddField(
            model_name='makeupcredit',
            name='transferred_at',
            field=models.DateTimeField(blank=True, help_text='When it was last given to a sibling.', null=True),
        ),
        migrations.AlterField(
            model_name='creditevent',
            name='kind',
            field=models.CharField(choices=[('issued', 'Issued'), ('used', 'Used for a make-up'), ('returned', 'Returned (make-up cancelled on time)'), ('expired', 'Expired'), ('revoked', 'Revoked'), ('reviewed', 'Conflict reviewed'), ('transferred', 'Given to a sibling')], max_length=20),
        ),
        migrations.AlterField(
            model_name='makeupcredit',
            name='enrolment',
            field=models.ForeignKey(help_text='The enrolment it was earned on.', on_delete=django.db.models.deletion.PROTECT, related_name='credits', to='bookings.enrolment'),
        ),
        migrations.AddIndex(
            model_name='makeupcredit',
            index=models.Index(fields=['holder', 'state'], name='credits_mak_holder__6ae83f_idx'),
        ),
        migrations.AddConstraint(
            model_name='creditevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'transferred'), _negated=True), models.Q(('from_enrolment__isnull', False), ('to_enrolment__isnull', False)), _connector='OR'), name='credit_event_transfer_has_both_sides'),
        ),
    ]
