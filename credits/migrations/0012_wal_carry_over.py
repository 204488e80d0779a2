"""WAL-4: what a policy does with unused credits when a class's term ends (expire as issued,
or carry them into the next term with extra days and at most M per receiving enrolment), and
the "carried" history entry. A carry-over moves the credit's holder, so the holder's help text
names the next class too; the entry names the old and the new holder in ``from_enrolment`` /
``to_enrolment``, the pair WAL-1's transfers added (0010)."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('credits', '0011_creditevent_kinds_moved_and_transferred'),
    ]

    operations = [
        migrations.AddField(
            model_name='cancellationpolicy',
            name='carry_extra_days',
            field=models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(3650)]),
        ),
        migrations.AddField(
            model_name='cancellationpolicy',
            name='carry_max_credits',
            field=models.PositiveSmallIntegerField(blank=True, null=True, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(1000)]),
        ),
        migrations.AddField(
            model_name='cancellationpolicy',
            name='term_end_credits',
            field=models.CharField(choices=[('expire', 'keep their own expiry and run out as issued'), ('carry', "move to the student's next class in this programme, with extra days")], default='expire', max_length=10),
        ),
        migrations.AlterField(
            model_name='creditevent',
            name='kind',
            field=models.CharField(choices=[('issued', 'Issued'), ('used', 'Used for a make-up'), ('returned', 'Returned (make-up cancelled on time)'), ('expired', 'Expired'), ('revoked', 'Revoked'), ('reviewed', 'Conflict reviewed'), ('moved', 'Make-up moved to another session'), ('transferred', 'Given to a sibling'), ('carried', 'Moved to the next term')], max_length=20),
        ),
        migrations.AlterField(
            model_name='makeupcredit',
            name='holder',
            field=models.ForeignKey(help_text="The enrolment whose student may spend it: its own, a sibling's it was given to, or the next class's it was carried into.", on_delete=django.db.models.deletion.PROTECT, related_name='held_credits', to='bookings.enrolment'),
        ),
        migrations.AddIndex(
            model_name='creditevent',
            index=models.Index(condition=models.Q(('kind', 'carried')), fields=['to_enrolment'], name='credit_event_carried_into'),
        ),
        migrations.AddConstraint(
            model_name='cancellationpolicy',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('term_end_credits', 'carry'), _negated=True), ('carry_extra_days__isnull', False), _connector='OR'), name='policy_carry_has_extra_days'),
        ),
        migrations.AddConstraint(
            model_name='creditevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'carried'), _negated=True), models.Q(('from_enrolment__isnull', False), ('to_enrolment__isnull', False)), _connector='OR'), name='credit_event_carry_has_both_sides'),
        ),
    ]
