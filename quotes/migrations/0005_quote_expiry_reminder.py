"""Quote.expiry_reminded_at and the two partial indexes the expiry beat jobs read (quotes.services, quotes.reminders).

Numbered 0005 and depending on 0001 for now: 0002–0004 come from other branches, and this one is rechained after
them at merge."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("quotes", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="quote",
            name="expiry_reminded_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="quote",
            index=models.Index(
                condition=models.Q(("status__in", ("sent", "viewed"))),
                fields=["valid_until", "id"],
                name="quote_out_valid_until",
            ),
        ),
        migrations.AddIndex(
            model_name="quote",
            index=models.Index(
                condition=models.Q(("expiry_reminded_at__isnull", True), ("status__in", ("sent", "viewed"))),
                fields=["valid_until", "id"],
                name="quote_expiry_unreminded",
            ),
        ),
    ]
