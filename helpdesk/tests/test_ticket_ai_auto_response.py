"""Reply drafts grounded in the knowledge base, and auto-response / auto-close only when the workspace opted in."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from ai import facade
from core.markdown import markdown_to_text
from helpdesk.models import Article, HelpdeskSettings, Ticket, TicketEvent, TicketMessage
from helpdesk.services import kb as kb_services
from helpdesk.services import ticket_ai
from helpdesk.services.ticket_ai import auto_response
from helpdesk.services.tickets import customer_message_add, ticket_create

from .factories import ArticleFactory, TicketFactory
from .ticket_ai_support import analysed, solve_with_reply

pytestmark = pytest.mark.django_db

RESET_BODY = (
    "If you forgot your password, open the sign-in page and click **Forgot password**. "
    "Enter the email address of your account and we send you a reset link. "
    "The link is valid for 24 hours. "
    "If no email arrives, check your spam folder.\n\n"
    "Our offices are closed on public holidays."
)
QUESTION = "How do I reset my password? I forgot it and cannot sign in."


@pytest.fixture
def reset_article() -> Article:
    article = ArticleFactory(title="Reset a forgotten password", body=RESET_BODY, slug="reset-password")
    ArticleFactory(title="Change your invoice address", body="Billing settings hold the invoice address.")
    kb_services.articles_reindex()
    return article


@pytest.fixture
def opted_in():
    def opt_in(*, auto_close: bool, confidence: float = 0.5) -> HelpdeskSettings:
        settings, _ = HelpdeskSettings.objects.update_or_create(
            pk=1, defaults={"auto_response": True, "auto_close": auto_close, "auto_response_confidence": confidence}
        )
        return settings

    return opt_in


def _untraceable(draft: auto_response.Draft, ticket: Ticket, signature: str) -> str:
    """What is left of the draft after removing the template's sentences and every source's words."""
    rest = draft.text
    fixed = [
        auto_response.GREETING.format(name=ticket.requester.name.split()[0]),
        auto_response.INTRO.format(subject=ticket.subject),
        auto_response.OUTRO,
        auto_response.SIGN_OFF,
        signature,
        auto_response.SOURCES_HEADING,
    ]
    for source in draft.sources:
        lead = auto_response.ARTICLE_LEAD if source.kind == "article" else auto_response.TICKET_LEAD
        fixed.append(lead.format(title=source.title, number=source.number))
        fixed.append(auto_response._source_line(source))
        fixed.extend(source.excerpt)
    for piece in sorted(fixed, key=len, reverse=True):
        rest = rest.replace(piece, " ")
    return rest.strip()


def test_the_draft_cites_its_sources_and_every_word_comes_from_them_or_the_template(reset_article, make_user):
    agent = make_user("agent", name="Sam Agent")
    ticket = TicketFactory(subject="Password reset", original_description=QUESTION)

    draft = ticket_ai.auto_response_generate(ticket, actor=agent)

    assert draft is not None and draft.customer_safe
    (source,) = [s for s in draft.sources if s.object_id == reset_article.pk]
    assert source.number == 1 and source.kind == "article"
    assert "[1]" in draft.text and "Reset a forgotten password" in draft.text
    plain = markdown_to_text(reset_article.body)
    assert all(sentence in plain for sentence in source.excerpt)  # copied word for word
    assert "Our offices are closed on public holidays." not in draft.text  # the passages that answer, not all
    assert _untraceable(draft, ticket, "Sam Agent") == ""
    assert draft.meta.is_local and draft.meta.model == "template" and draft.meta.run_id
    assert 0 < draft.confidence <= 1


def test_an_agents_draft_reuses_a_similar_solved_answer_but_a_customer_facing_one_never(reset_article, make_user):
    agent = make_user("agent")
    solved = TicketFactory(subject="Forgot my password", original_description="I forgot my password and cannot log in.")
    solve_with_reply(solved, agent, "Hello Kim,\nI sent you a new reset link; it arrived after a few minutes.\nBest")
    ticket = TicketFactory(subject="Password reset", original_description=QUESTION)

    for_agent = ticket_ai.auto_response_generate(ticket, actor=agent)
    for_customer = ticket_ai.auto_response_generate(ticket, customer_facing=True)

    kinds = {source.kind: source for source in for_agent.sources}
    assert kinds["ticket"].object_id == solved.pk and not kinds["ticket"].public
    assert kinds["ticket"].in_reply and kinds["ticket"] in for_agent.internal_sources
    assert "it arrived after a few minutes" in for_agent.text  # the answer is reused…
    assert f"#{solved.pk}" not in for_agent.text and "internal" not in for_agent.text  # …never the ticket itself
    assert "Kim" not in for_agent.text and "Best" not in for_agent.text  # greeting and sign-off of the old reply
    assert not for_agent.customer_safe and not for_agent.problems
    assert {source.kind for source in for_customer.sources} == {"article"} and for_customer.customer_safe
    # A customer reads the reply by email: the help-center link is absolute.
    assert f"/help/articles/{reset_article.slug}/" in for_customer.sources[0].url
    assert for_customer.sources[0].url.startswith("http") and for_customer.sources[0].url in for_customer.text


def test_internal_articles_are_never_cited_to_a_customer(make_user):
    ArticleFactory(title="Reset passwords (agents only)", body=RESET_BODY, visibility=Article.Visibility.INTERNAL)
    kb_services.articles_reindex()
    ticket = TicketFactory(subject="Password reset", original_description=QUESTION)

    assert ticket_ai.auto_response_generate(ticket, customer_facing=True) is None
    assert ticket_ai.auto_response_generate(ticket, actor=make_user("agent")) is not None


def test_nothing_to_draft_from_is_none():
    ticket = TicketFactory(subject="Password reset", original_description=QUESTION)

    assert ticket_ai.auto_response_generate(ticket) is None


def test_with_an_external_provider_the_model_writes_from_the_same_passages(reset_article, make_user, monkeypatch):
    seen = {}

    def generate(feature, context, **kwargs):
        seen.update(feature=feature, notes=context["notes"])
        return SimpleNamespace(text="Hi! Use Forgot password on the sign-in page [1].", meta="external-meta")

    monkeypatch.setattr(auto_response.facade, "can_generate", lambda: True)
    monkeypatch.setattr(auto_response.facade, "generate", generate)
    ticket = TicketFactory(subject="Password reset", original_description=QUESTION)

    draft = ticket_ai.auto_response_generate(ticket, actor=make_user("agent"))

    assert seen["feature"] == "reply_draft" and "[1] Reset a forgotten password" in seen["notes"]
    assert draft.text.startswith("Hi! Use Forgot password") and "Sources:\n[1] Reset a forgotten password" in draft.text
    assert draft.meta == "external-meta"


def test_when_the_external_provider_fails_the_local_template_draft_is_used(reset_article, make_user, monkeypatch):
    def unavailable(*args, **kwargs):
        raise facade.AIUnavailable("all providers failed")

    monkeypatch.setattr(auto_response.facade, "can_generate", lambda: True)
    monkeypatch.setattr(auto_response.facade, "generate", unavailable)
    ticket = TicketFactory(subject="Password reset", original_description=QUESTION)

    draft = ticket_ai.auto_response_generate(ticket, actor=make_user("agent"))

    assert draft.meta.model == "template" and auto_response.OUTRO in draft.text


# --- Deciding ---------------------------------------------------------------------------------------


def test_a_short_calm_question_answered_by_a_public_article_may_be_auto_closed(reset_article, opted_in):
    opted_in(auto_close=True)
    ticket = analysed(TicketFactory(subject="Password reset", original_description=QUESTION))

    decision = ticket_ai.should_auto_close(ticket)

    assert decision.ok, decision.reasons
    assert decision.confidence >= 0.5
    assert all(reason.startswith("✓") for reason in decision.reasons)


@pytest.mark.parametrize(
    ("description", "failing"),
    [
        ("The export crashes with error 500 every time I click it. " * 3, "only questions"),
        ("How do I reset my password? This is ridiculous, your product is terrible and useless!", "tone"),
        ("How do I reset my password? Also, how do I change my invoice address and delete a user?", "single issue"),
    ],
)
def test_complex_upset_or_multi_issue_tickets_are_left_to_a_person(reset_article, opted_in, description, failing):
    opted_in(auto_close=True)
    ticket = analysed(TicketFactory(subject="Password reset", original_description=description))

    decision = ticket_ai.should_auto_close(ticket)

    assert not decision.ok
    assert any(reason.startswith("✗") and failing in reason for reason in decision.reasons), decision.reasons


def test_without_an_analysis_nothing_is_auto_closed():
    decision = ticket_ai.should_auto_close(TicketFactory())

    assert (decision.ok, decision.reasons) == (False, ("The ticket has not been analysed yet.",))


# --- Answering without an agent -----------------------------------------------------------------------


def _create_question(callbacks_fixture) -> Ticket:
    with callbacks_fixture(execute=True):
        ticket = ticket_create(subject="Password reset", description=QUESTION, requester_email="kim@acme.test")
    ticket.refresh_from_db()
    return ticket


def test_nothing_is_sent_without_an_agent_unless_the_workspace_opted_in(
    reset_article, django_capture_on_commit_callbacks
):
    HelpdeskSettings.objects.update_or_create(pk=1, defaults={"auto_response": False, "auto_response_confidence": 0.5})

    ticket = _create_question(django_capture_on_commit_callbacks)

    assert ticket.ai_suggestions["auto_response"]["ok"]  # it would qualify…
    assert not TicketMessage.objects.filter(ticket=ticket).exists()  # …but auto-response is off
    assert ticket.status in (Ticket.Status.NEW, Ticket.Status.OPEN)


def test_opted_in_auto_response_answers_solves_and_leaves_a_full_audit_trail(
    reset_article, opted_in, django_capture_on_commit_callbacks
):
    opted_in(auto_close=True)

    ticket = _create_question(django_capture_on_commit_callbacks)

    (message,) = TicketMessage.objects.filter(ticket=ticket)
    assert message.author_id is None and message.author_contact_id is None and message.kind == "reply"
    assert "[1]" in message.body and "Reset a forgotten password" in message.body
    assert (ticket.status, ticket.auto_closed) == (Ticket.Status.SOLVED, True)
    responded = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.AUTO_RESPONDED)
    assert responded.actor_id is None and responded.data["message_id"] == message.pk
    assert responded.data["sources"][0]["title"] == "Reset a forgotten password"
    assert responded.data["sources"][0]["object_id"] == reset_article.pk
    assert responded.data["confidence"] >= 0.5 and responded.data["reasons"]
    closed = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.AUTO_CLOSED)
    assert closed.data["message_id"] == message.pk
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds.index("ai_analysed") < kinds.index("auto_responded") < kinds.index("auto_closed")


def test_a_customer_reply_reopens_an_auto_closed_ticket_and_it_is_not_answered_again(
    reset_article, opted_in, django_capture_on_commit_callbacks
):
    opted_in(auto_close=True)
    ticket = _create_question(django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        customer_message_add(ticket=ticket, body="That did not help: no email arrives, even in spam.")

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and not ticket.auto_closed
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.AUTO_CLOSED).exists()
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.REOPENED).exists()
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.AUTO_RESPONDED).count() == 1
    assert TicketMessage.objects.filter(ticket=ticket, author__isnull=True, author_contact__isnull=True).count() == 1


def test_auto_response_without_auto_close_answers_and_waits_for_the_customer(
    reset_article, opted_in, django_capture_on_commit_callbacks
):
    opted_in(auto_close=False)

    ticket = _create_question(django_capture_on_commit_callbacks)

    assert ticket.status == Ticket.Status.PENDING and not ticket.auto_closed
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.AUTO_RESPONDED).exists()
    assert not TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.AUTO_CLOSED).exists()


def test_a_ticket_an_agent_already_answered_is_never_auto_answered(reset_article, opted_in, make_user):
    ticket = analysed(TicketFactory(subject="Password reset", original_description=QUESTION))
    Ticket.objects.filter(pk=ticket.pk).update(first_responded_at=ticket.created)
    opted_in(auto_close=True)

    assert ticket_ai.ticket_auto_respond(ticket.pk) is None
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_a_confidence_bar_above_the_match_stops_auto_response(
    reset_article, opted_in, django_capture_on_commit_callbacks
):
    opted_in(auto_close=True, confidence=0.99)

    ticket = _create_question(django_capture_on_commit_callbacks)

    assert not TicketMessage.objects.filter(ticket=ticket).exists()
    reasons = ticket.ai_suggestions["auto_response"]["reasons"]
    assert any(reason.startswith("✗ Best public article") and "99%" in reason for reason in reasons)
    assert re.search(r"matches \d+%", reasons[-1])
