"""REST endpoints of the helpdesk under /api/v1/: tickets (list, create, read, edit, status, assign), their
messages and attachments, their AI results (analysis, suggestions, drafts, improved description), knowledge-base
articles and SLA policies. Parse, call a selector or service, serialize.

Conventions are customers/api's: `HasCapability` with the view's read/write capabilities, keyset cursors for
lists, one error body (core/api/errors.py). Edits carry the `version` the client read: a change based on an
older version is refused with 409 Conflict and nothing is saved (no lost update).
"""

from .kb import ArticleDetailApi, ArticleListApi
from .messages import AttachmentDownloadApi, TicketMessageListApi
from .sla import SLAPolicyDetailApi, SLAPolicyListApi
from .ticket_ai import TicketAISuggestionListApi, TicketAnalysisApi, TicketDraftApi, TicketImprovedDescriptionApi
from .tickets import TicketAssignmentApi, TicketDetailApi, TicketListApi, TicketStatusApi

__all__ = [
    "ArticleDetailApi",
    "ArticleListApi",
    "AttachmentDownloadApi",
    "SLAPolicyDetailApi",
    "SLAPolicyListApi",
    "TicketAISuggestionListApi",
    "TicketAnalysisApi",
    "TicketAssignmentApi",
    "TicketDetailApi",
    "TicketDraftApi",
    "TicketImprovedDescriptionApi",
    "TicketListApi",
    "TicketMessageListApi",
    "TicketStatusApi",
]
