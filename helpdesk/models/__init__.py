"""Helpdesk models, one module per area; import them from here."""

from .csat import SatisfactionSurvey
from .drafts import TicketDraft
from .help_center import DeflectionEvent, HelpSignInLink
from .kb import Article, ArticleCategory
from .macros import Macro, MacroUse
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
    "DeflectionEvent",
    "DeliveryStatus",
    "HelpSignInLink",
    "HelpdeskSettings",
    "Holiday",
    "Macro",
    "MacroUse",
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
