"""Quote.expiry_reminded_at and the two partial indexes the expiry beat jobs read (quotes.services, quotes.reminders)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("quotes", "0002_acceptance"),
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
