"""Test data for the helpdesk: one factory per model (the isolation suite builds one row of each)."""

from datetime import time

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from customers.tests.factories import ContactFactory
from helpdesk.models import (
    AgentProfile,
    Article,
    ArticleCategory,
    Attachment,
    BusinessCalendar,
    BusinessHours,
    Category,
    DeflectionEvent,
    HelpdeskSettings,
    HelpSignInLink,
    Holiday,
    Macro,
    MacroUse,
    SatisfactionSurvey,
    SavedView,
    Skill,
    SLAPolicy,
    SLARiskModel,
    Team,
    Ticket,
    TicketDraft,
    TicketEvent,
    TicketMessage,
)


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar

    name = factory.Sequence(lambda n: f"Calendar {n}")
    timezone = "Europe/London"


class BusinessHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessHours

    calendar = factory.SubFactory(BusinessCalendarFactory)
    weekday = 0
    opens = time(9)
    closes = time(17)


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday

    calendar = factory.SubFactory(BusinessCalendarFactory)
    date = factory.Sequence(lambda n: timezone.now().date().replace(month=12, day=1 + n % 28))
    name = "Company day"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill

    name = factory.Sequence(lambda n: f"skill-{n}")


class AgentProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentProfile

    user = factory.SubFactory("accounts.tests.factories.UserFactory")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    description = "Questions about something specific."


class SLAPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SLAPolicy

    name = factory.Sequence(lambda n: f"SLA {n}")
    first_response_minutes = 60
    next_response_minutes = 240
    resolution_minutes = 8 * 60


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    subject = factory.Sequence(lambda n: f"Printer {n} does not print")
    original_description = "Since this morning nothing comes out of the printer on the second floor."
    requester = factory.SubFactory(ContactFactory)
    customer = factory.SelfAttribute("requester.customer")


class TicketMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketMessage

    ticket = factory.SubFactory(TicketFactory)
    body = "Have you tried turning it off and on again?"
    author = factory.SubFactory("accounts.tests.factories.UserFactory")


class TicketDraftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketDraft

    ticket = factory.SubFactory(TicketFactory)
    text = "Hello, you can reset your password from the sign-in page."
    provider = "local"
    model = "template"


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    message = factory.SubFactory(TicketMessageFactory)
    filename = "screenshot.txt"
    file = factory.LazyAttribute(lambda attachment: ContentFile(b"error 42", name=attachment.filename))
    content_type = "text/plain"
    size = 8


class TicketEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketEvent

    ticket = factory.SubFactory(TicketFactory)
    kind = TicketEvent.Kind.CREATED


class ArticleCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ArticleCategory

    name = factory.Sequence(lambda n: f"Section {n}")
    slug = factory.Sequence(lambda n: f"section-{n}")


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"How to reset your password ({n})")
    slug = factory.Sequence(lambda n: f"reset-password-{n}")
    body = "Open **Settings → Security**, choose *Reset password* and follow the link we email you."
    status = Article.Status.PUBLISHED
    category = factory.SubFactory(ArticleCategoryFactory)


class SatisfactionSurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SatisfactionSurvey

    ticket = factory.SubFactory(TicketFactory, status=Ticket.Status.SOLVED)


class SavedViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedView

    name = factory.Sequence(lambda n: f"View {n}")
    filters = factory.LazyFunction(lambda: {"status": "open"})
    shared = True


class HelpdeskSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HelpdeskSettings
        django_get_or_create = ("id",)

    id = 1


class SLARiskModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SLARiskModel

    samples = 400
    breached_share = 0.2
    parameters = factory.LazyFunction(
        lambda: {"features": ["time_pressure"], "mean": [0.0], "scale": [1.0], "coef": [1.0], "intercept": 0.0}
    )


def ticket_create_with_intake(**values) -> Ticket:
    """`ticket_create` as a committed request would see it: the intake that follows the commit (assignment, live
    notice, analysis queued; helpdesk.services.intake) has run, and the ticket is read back."""
    from django.test import TestCase

    from helpdesk.services.tickets import ticket_create

    with TestCase.captureOnCommitCallbacks(execute=True):
        ticket = ticket_create(**values)
    ticket.refresh_from_db()
    return ticket


class DeflectionEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeflectionEvent

    outcome = DeflectionEvent.Outcome.HELPED
    article = factory.SubFactory(ArticleFactory)
    suggested = 3


class HelpSignInLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HelpSignInLink

    contact = factory.SubFactory(ContactFactory)
    digest = factory.Sequence(lambda n: f"{n:064x}")


class MacroFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Macro

    name = factory.Sequence(lambda n: f"Macro {n}")
    reply_text = "Hi {{ ticket.requester.first_name }},\n\nThanks for waiting."
    actions = factory.LazyFunction(lambda: [{"type": "set_status", "value": "pending"}])
    visibility = Macro.Visibility.SHARED


class MacroUseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MacroUse

    macro = factory.SubFactory(MacroFactory)
    ticket = factory.SubFactory(TicketFactory)
