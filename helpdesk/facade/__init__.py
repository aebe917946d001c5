"""What other apps may ask of the helpdesk, one module per area; import it as a whole (`from helpdesk import facade`):

- tickets: open a ticket or add a customer's message from a channel (email, chat, SMS, API), look a ticket up for
  threading, report how a delivery went, screen inbound attachments; the public messages a customer must receive
  arrive through the `outgoing_message` signal (helpdesk.contracts) or `outgoing_collected`;
- chat: the web chat's article suggestions, public thread, agents online, typing;
- help_center: deflection records and counts;
- timeline: the helpdesk's entries on the customer timeline;
- health: batched reads for the customer health score;
- insights: batched reads for trend detection and churn signals;
- rollups: one flat fact per ticket for insights' rollups, and `tickets_changed` when one changes;
- actions: the ticket actions macros and automation rules apply (specs, validate, apply or dry run), and a ticket's
  placeholder values for workspace-written text.

Writes go through helpdesk.services, so validation, cache invalidation and live events always happen.
"""

from ..contracts import outgoing_message, tickets_changed
from ..outgoing import outgoing_collected
from .actions import (
    TICKET_ACTION_TYPES,
    TICKET_PLACEHOLDERS,
    ticket_action_specs,
    ticket_actions_apply,
    ticket_actions_validate,
    ticket_placeholder_context,
)
from .chat import (
    CHAT_AVAILABLE,
    CHAT_TYPING_SECONDS,
    chat_agents_online,
    help_articles_suggest,
    ticket_public_thread,
    ticket_typing_show,
)
from .health import (
    customer_csat,
    customer_last_contact,
    customer_open_urgent,
    customer_sentiment_counts,
    customer_sla_breaches,
    customer_ticket_volumes,
)
from .help_center import deflection_counts, deflection_record
from .insights import (
    TOPIC_SOURCE,
    customer_sentiment_sequences,
    ticket_brief_rows,
    ticket_category_counts,
    ticket_dimensions,
    ticket_ids_in_window,
    ticket_mentions,
    ticket_points,
    ticket_topic_texts,
)
from .rollups import ticket_rollup_facts
from .tickets import (
    DELIVERY_STATUSES,
    attachment_open,
    attachments_screen,
    message_delivery_set,
    message_external_id_set,
    message_for_external_id,
    message_receive,
    ticket_for_external_ids,
    ticket_open,
    ticket_summary,
)
from .timeline import TIMELINE_KINDS, TIMELINE_SOURCE, timeline_entries, timeline_provider_register

__all__ = [
    "CHAT_AVAILABLE",
    "CHAT_TYPING_SECONDS",
    "DELIVERY_STATUSES",
    "TICKET_ACTION_TYPES",
    "TICKET_PLACEHOLDERS",
    "TIMELINE_KINDS",
    "TIMELINE_SOURCE",
    "TOPIC_SOURCE",
    "attachment_open",
    "attachments_screen",
    "chat_agents_online",
    "customer_csat",
    "customer_last_contact",
    "customer_open_urgent",
    "customer_sentiment_counts",
    "customer_sentiment_sequences",
    "customer_sla_breaches",
    "customer_ticket_volumes",
    "deflection_counts",
    "deflection_record",
    "help_articles_suggest",
    "message_delivery_set",
    "message_external_id_set",
    "message_for_external_id",
    "message_receive",
    "outgoing_collected",
    "outgoing_message",
    "ticket_action_specs",
    "ticket_actions_apply",
    "ticket_actions_validate",
    "ticket_brief_rows",
    "ticket_category_counts",
    "ticket_dimensions",
    "ticket_for_external_ids",
    "ticket_ids_in_window",
    "ticket_mentions",
    "ticket_open",
    "ticket_placeholder_context",
    "ticket_points",
    "ticket_public_thread",
    "ticket_rollup_facts",
    "ticket_summary",
    "ticket_topic_texts",
    "ticket_typing_show",
    "tickets_changed",
    "timeline_entries",
    "timeline_provider_register",
]
