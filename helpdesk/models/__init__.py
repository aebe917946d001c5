"""Helpdesk models, one module per area; import them from here."""

from .csat import SatisfactionSurvey
from .drafts import TicketDraft
from .kb import Article, ArticleCategory
from .settings import HelpdeskSettings
from .sla import SLAPolicy, SLARiskModel
from .teams import AgentProfile, BusinessCalendar, BusinessHours, Holiday, Skill, Team
from .tickets import Attachment, Category, DeliveryStatus, Ticket, TicketEvent, TicketMessage
from .views import SavedView

__all__ = [
    "AgentProfile",
    "Article",
    "ArticleCategory",
    "Attachment",
    "BusinessCalendar",
    "BusinessHours",
    "Category",
    "DeliveryStatus",
    "HelpdeskSettings",
    "Holiday",
    "SLAPolicy",
    "SLARiskModel",
    "SatisfactionSurvey",
    "SavedView",
    "Skill",
    "Team",
    "Ticket",
    "TicketDraft",
    "TicketEvent",
    "TicketMessage",
]
