from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        from . import company_panel, timeline
        from .intelligence import register_outcome_source

        register_outcome_source()  # the AI models page can train "Lead conversion" from closed leads
        # Leads, their stage changes and activities on customers' company and contact timelines.
        timeline.register()
        # The company's open leads on its page, read-only (customers imports no leads).
        company_panel.register()
        # Insights' rollups follow leads' creation, owner, value and stage (leads.contracts.leads_changed).
        from core.changes import changes_watch

        from .contracts import leads_changed
        from .models import Lead

        counted = ("owner", "source", "currency", "value", "stage", "won_at", "lost_at")
        changes_watch(Lead, leads_changed, fields=(*counted, "owner_id", "stage_id"))
