"""The insights app's first state: empty, so its rollup and trend tables arrive as migrations of their own."""

from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations: list = []
