from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ai", "0003_trained_classifiers"),
    ]

    operations = [
        migrations.AddField(
            model_name="providerconfig",
            name="oauth_token_cache_encrypted",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="providerconfig",
            name="oauth_connection",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
    ]
