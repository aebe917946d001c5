"""AI on tickets, all through ai.facade: background analysis, suggestions an agent applies or dismisses, the
composer (Improve, reply tone), reply drafts grounded in the knowledge base, and opted-in auto-response.

No ticket action ever waits for or depends on the AI: analysis runs in Celery after commit, failures are retried
there, and a broker outage keeps the queued analysis in core's outbox until the broker is back.

Modules: analysis (queueing, running and storing the analysis; the JSON shape of `Ticket.ai_suggestions`),
rules (transparent priority/type/question rules), suggestions (apply/dismiss), composer (Improve, tone),
auto_response (drafts, should_auto_close, ticket_auto_respond), indexing (solved tickets for similarity search),
classifier (the workspace's trained category classifier), catch_up (analyses that failed for good or wait too long).
"""

from .analysis import ANALYSIS_VERSION, analysis_queue, ticket_analyze
from .auto_response import (
    AutoCloseDecision,
    Draft,
    Source,
    auto_response_generate,
    reply_draft_request,
    should_auto_close,
    ticket_auto_respond,
)
from .catch_up import analysis_catch_up
from .classifier import category_classifier_train, ticket_classifiers_train
from .composer import (
    REPLY_STYLES,
    NothingToImprove,
    Suggestion,
    description_improve,
    improved_description_accept,
    improved_description_reject,
    reply_feedback_record,
    reply_rewrite,
    suggestion_feedback,
)
from .indexing import solved_ticket_index, solved_tickets_index_all, ticket_status_changed
from .suggestions import KINDS as SUGGESTION_KINDS
from .suggestions import suggestion_apply, suggestion_dismiss

__all__ = [
    "ANALYSIS_VERSION",
    "REPLY_STYLES",
    "SUGGESTION_KINDS",
    "AutoCloseDecision",
    "Draft",
    "NothingToImprove",
    "Source",
    "Suggestion",
    "analysis_catch_up",
    "analysis_queue",
    "auto_response_generate",
    "category_classifier_train",
    "description_improve",
    "improved_description_accept",
    "improved_description_reject",
    "reply_draft_request",
    "reply_feedback_record",
    "reply_rewrite",
    "should_auto_close",
    "solved_ticket_index",
    "solved_tickets_index_all",
    "suggestion_apply",
    "suggestion_dismiss",
    "suggestion_feedback",
    "ticket_analyze",
    "ticket_auto_respond",
    "ticket_classifiers_train",
    "ticket_status_changed",
]
