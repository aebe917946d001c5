from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self) -> None:
        from .facade import timeline_provider_register
        from .selectors.config import helpdesk_config_watch
        from .services.sla.notifications import sla_event_types_register
        from .services.ticket_ai.classifier import training_sources_register

        helpdesk_config_watch()
        # The AI models page trains the ticket classifiers from the examples the helpdesk provides.
        training_sources_register()
        # Tickets, messages and CSAT answers on customers' company and contact timelines.
        timeline_provider_register()
        _rollup_changes_watch()
        # SLA warnings and breaches reach people through the notifications service (preferences, templates).
        sla_event_types_register()


def _rollup_changes_watch() -> None:
    """Tells insights (helpdesk.contracts.tickets_changed) when a ticket or its CSAT answer changes a figure."""
    from core.changes import changes_watch

    from .contracts import tickets_changed
    from .models import SatisfactionSurvey, Ticket

    counted = ("status", "priority", "channel", "category", "team", "assignee", "customer", "sla_policy")
    counted += ("sla_breached", "first_responded_at", "solved_at")
    changes_watch(Ticket, tickets_changed, fields=counted + tuple(f"{name}_id" for name in counted))
    changes_watch(
        SatisfactionSurvey,
        tickets_changed,
        fields=("rating", "answered_at"),
        id_of=lambda survey: survey.ticket_id,
    )
