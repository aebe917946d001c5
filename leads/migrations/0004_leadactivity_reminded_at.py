"""Lead activity reminders are sent once each (LeadActivity.reminded_at); the reminder job's index reads only unsent
ones."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0003_capture_forms"),
    ]

    operations = [
        migrations.AddField(
            model_name="leadactivity",
            name="reminded_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RemoveIndex(
            model_name="leadactivity",
            name="leadactivity_remind_open",
        ),
        migrations.AddIndex(
            model_name="leadactivity",
            index=models.Index(
                condition=models.Q(("done", False), ("reminded_at__isnull", True)),
                fields=["remind_at"],
                name="leadactivity_remind_due",
            ),
        ),
    ]
