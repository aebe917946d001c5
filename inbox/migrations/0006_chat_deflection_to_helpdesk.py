"""The chat widget's deflection answers move to the helpdesk's DeflectionEvent (source "chat"), which counts the
help center's too; the inbox's own ChatDeflection goes."""

from django.db import migrations


def copy_to_helpdesk(apps, schema_editor):
    ChatDeflection = apps.get_model("inbox", "ChatDeflection")
    DeflectionEvent = apps.get_model("helpdesk", "DeflectionEvent")
    Article = apps.get_model("helpdesk", "Article")
    Ticket = apps.get_model("helpdesk", "Ticket")
    rows = list(ChatDeflection.objects.select_related("conversation").order_by("id"))
    articles = set(
        Article.objects.filter(pk__in={r.article_ids[0] for r in rows if r.article_ids}).values_list("pk", flat=True)
    )
    tickets = set(
        Ticket.objects.filter(
            pk__in={r.conversation.ticket_id for r in rows if r.conversation and r.conversation.ticket_id}
        ).values_list("pk", flat=True)
    )
    DeflectionEvent.objects.bulk_create(
        DeflectionEvent(
            source="chat",
            outcome="helped" if row.helped else "not_helped",
            article_id=row.article_ids[0] if row.article_ids and row.article_ids[0] in articles else None,
            ticket_id=(
                row.conversation.ticket_id if row.conversation and row.conversation.ticket_id in tickets else None
            ),
            suggested=min(len(row.article_ids or []), 50),
            created=row.created,
        )
        for row in rows
    )


def copy_back(apps, schema_editor):
    """Nothing to bring back: the events stay with the helpdesk (the chat's answers are counted there)."""


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0005_webhooks"),
        ("helpdesk", "0011_help_center_deflection"),
    ]

    operations = [
        migrations.RunPython(copy_to_helpdesk, copy_back),
        migrations.DeleteModel(name="ChatDeflection"),
    ]
