"""Drafts safe to send: a reply draft holds only customer-facing material (public help-center links, no ticket
numbers or internal notes, nobody else's names, sign-offs or contact details), internal sources are listed for
the agent only, and the reply box is filled only on Insert. Every rule is tested on a ticket whose best sources
are internal (an internal article and another customer's solved ticket)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from customers.models import Contact, Customer
from helpdesk.models import Article, HelpdeskSettings, TicketMessage
from helpdesk.reply_safety import draft_problems, reusable_answer
from helpdesk.services import kb as kb_services
from helpdesk.services import ticket_ai
from helpdesk.services.ticket_ai import auto_response

from .factories import ArticleFactory, TicketFactory
from .ticket_ai_support import analysed, solve_with_reply

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
QUESTION = "How do I reset my password? I forgot it and cannot sign in to the portal."
# The internal article: agents' steps, with what a customer must never read.
INTERNAL_BODY = (
    "When a customer forgot their portal password and cannot sign in, reset the password from the admin console "
    "under Users → Security. "
    "Verify the caller first and record the verification in an internal note. "
    "Escalate locked admin accounts to the security team on-call."
)
# Another customer's solved ticket: the agent's answer to Maria, signed by Priya, with the kinds of things the
# issue found in drafts (an agent link, an internal remark, contact details, a signature).
SOLVED_ANSWER = (
    "Hi Maria,\n\n"
    "I sent a new password reset link to your address; the link arrives within a few minutes. "
    "Maria, if it does not arrive please call me on +44 20 7946 0958 or write to maria.lopez@globex.test. "
    "Steps are in /kb/62/ (internal: check before sending).\n"
    "Open the link in a private browser window if the portal keeps the old session.\n\n"
    "Kind regards,\n"
    "Priya Shah\n"
    "Globex account team"
)
PUBLIC_BODY = (
    "Open the sign-in page of the portal and click **Forgot password**. "
    "We email you a link to choose a new password; it is valid for 24 hours."
)


@pytest.fixture
def other_customers_ticket(make_user):
    globex = Customer.objects.create(name="Globex", domain="globex.test")
    maria = Contact.objects.create(customer=globex, name="Maria Lopez", email="maria.lopez@globex.test")
    solved = TicketFactory(
        subject="Forgot my portal password",
        original_description="I forgot my portal password and cannot sign in.",
        requester=maria,
        customer=globex,
    )
    return solve_with_reply(solved, make_user("agent", name="Priya Shah"), SOLVED_ANSWER)


@pytest.fixture
def internal_article() -> Article:
    article = ArticleFactory(
        title="Reset a forgotten portal password (agents)",
        slug="reset-portal-password-agents",
        body=INTERNAL_BODY,
        visibility=Article.Visibility.INTERNAL,
    )
    kb_services.articles_reindex()
    return article


@pytest.fixture
def public_article() -> Article:
    article = ArticleFactory(title="Forgot your password?", slug="forgot-password", body=PUBLIC_BODY)
    kb_services.articles_reindex()
    return article


@pytest.fixture
def ticket():
    return TicketFactory(
        subject="Password reset for the portal", original_description=QUESTION, requester__name="Kim Novak"
    )


def _links(text: str) -> list[str]:
    return re.findall(r"https?://\S+|(?<![\w.])/[\w-]+/\S*", text)


def assert_customer_facing(text: str, *, public: list[Article]) -> None:
    """The rules of a draft, on its text."""
    help_center = {f"/help/articles/{article.slug}/" for article in public}
    for link in _links(text):
        assert link.startswith("http") and any(link.endswith(path) for path in help_center), link
    assert "/kb/" not in text and "/tickets/" not in text
    assert not re.search(r"#\s?\d", text) and "internal" not in text.lower() and "check before" not in text
    for other in ("Maria", "Lopez", "Globex", "globex", "Priya", "Shah", "7946", "@"):
        assert other not in text, other


# --- The composer ---------------------------------------------------------------------------------------


def test_a_draft_from_internal_sources_holds_only_customer_facing_material(
    ticket, other_customers_ticket, internal_article, public_article, make_user
):
    draft = ticket_ai.auto_response_generate(ticket, actor=make_user("agent", name="Sam Agent"))

    assert draft is not None and draft.problems == ()
    assert_customer_facing(draft.text, public=[public_article])
    # The solved ticket's answer is reused without its greeting, signature, names or contact details…
    assert "the link arrives within a few minutes" in draft.text
    assert "Open the link in a private browser window" in draft.text
    assert "Kind regards,\nSam Agent" in draft.text
    # …and the internal article is not quoted at all.
    assert not any(sentence in draft.text for sentence in INTERNAL_BODY.split(". "))
    # A public article is cited with its absolute help-center address.
    (cited,) = draft.public_sources
    assert cited.object_id == public_article.pk and cited.url.startswith("http")
    assert cited.url.endswith("/help/articles/forgot-password/") and cited.url in draft.text and "[1]" in draft.text


def test_the_internal_sources_are_on_the_draft_for_the_agent_with_links_they_can_follow(
    ticket, other_customers_ticket, internal_article, public_article, make_user
):
    draft = ticket_ai.auto_response_generate(ticket, actor=make_user("agent"))

    internal = {(source.kind, source.object_id): source for source in draft.internal_sources}
    solved = internal[("ticket", other_customers_ticket.pk)]
    article = internal[("article", internal_article.pk)]
    assert solved.url == f"/tickets/{other_customers_ticket.pk}/" and solved.in_reply
    assert article.url == f"/kb/{internal_article.pk}/" and not article.in_reply
    assert article.score > draft.public_sources[0].score  # the best match is internal
    assert all(source.internal for source in internal.values())
    data = {(row["kind"], row["object_id"]): row for row in draft.sources_data()}
    assert data[("article", internal_article.pk)]["internal"] and not data[("article", public_article.pk)]["internal"]


def test_when_only_internal_sources_match_the_draft_quotes_none_of_them(ticket, internal_article, make_user):
    draft = ticket_ai.auto_response_generate(ticket, actor=make_user("agent"))

    assert draft is not None and not draft.quotes_sources and draft.problems == ()
    assert [source.object_id for source in draft.internal_sources] == [internal_article.pk]
    assert auto_response.HOLDING in draft.text and auto_response.SOURCES_HEADING not in draft.text
    assert_customer_facing(draft.text, public=[])
    assert "admin console" not in draft.text


def test_the_external_model_sees_only_customer_facing_passages_and_an_unsafe_answer_is_replaced(
    ticket, other_customers_ticket, internal_article, public_article, make_user, monkeypatch
):
    seen = {}

    def generate(feature, context, **kwargs):
        seen["notes"] = context["notes"]
        text = f"Hi! See /kb/{internal_article.pk}/ and ticket #{other_customers_ticket.pk}, like Maria did."
        return SimpleNamespace(text=text, meta="external-meta")

    monkeypatch.setattr(auto_response.facade, "can_generate", lambda: True)
    monkeypatch.setattr(auto_response.facade, "generate", generate)

    draft = ticket_ai.auto_response_generate(ticket, actor=make_user("agent"))

    assert "[1] Forgot your password?" in seen["notes"] and "the link arrives within a few minutes" in seen["notes"]
    for hidden in ("admin console", "Maria", "Priya", "7946", "/kb/", f"#{other_customers_ticket.pk}"):
        assert hidden not in seen["notes"], hidden
    assert draft.meta != "external-meta" and draft.meta.model == "template"  # the model's text failed the check
    assert_customer_facing(draft.text, public=[public_article])


def test_a_safe_external_answer_is_kept_with_the_public_sources_appended(
    ticket, internal_article, public_article, make_user, monkeypatch
):
    monkeypatch.setattr(auto_response.facade, "can_generate", lambda: True)
    monkeypatch.setattr(
        auto_response.facade,
        "generate",
        lambda *args, **kwargs: SimpleNamespace(text="Click Forgot password on the sign-in page [1].", meta="m"),
    )

    draft = ticket_ai.auto_response_generate(ticket, actor=make_user("agent"))

    assert draft.meta == "m" and draft.text.startswith("Click Forgot password")
    assert draft.text.endswith(f"[1] Forgot your password? — {draft.public_sources[0].url}")


def test_a_customer_facing_draft_uses_public_articles_only_even_when_internal_ones_match_better(
    ticket, other_customers_ticket, internal_article, public_article
):
    draft = ticket_ai.auto_response_generate(ticket, customer_facing=True)

    assert [(s.kind, s.object_id) for s in draft.sources] == [("article", public_article.pk)]
    assert draft.customer_safe and draft.problems == ()
    assert_customer_facing(draft.text, public=[public_article])
    assert "the link arrives within a few minutes" not in draft.text  # solved tickets never go out unattended


def test_auto_response_sends_nothing_when_the_draft_fails_the_check(
    public_article, monkeypatch, django_capture_on_commit_callbacks
):
    ticket = analysed(TicketFactory(subject="Forgot password", original_description="How do I reset my password?"))
    HelpdeskSettings.objects.update_or_create(
        pk=1, defaults={"auto_response": True, "auto_close": True, "auto_response_confidence": 0.1}
    )
    unsafe = "Hello,\n\nSee https://acme.test/kb/62/ (internal: check before sending)."
    monkeypatch.setattr(auto_response, "template_draft", lambda *args, **kwargs: unsafe)

    assert ticket_ai.should_auto_close(ticket).ok
    assert ticket_ai.ticket_auto_respond(ticket.pk) is None
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


# --- Reusing another ticket's answer ----------------------------------------------------------------------


def test_a_reused_answer_loses_greeting_signature_names_contact_details_and_internal_remarks():
    people = ("Maria Lopez", "maria.lopez@globex.test", "Globex")

    answer = reusable_answer(SOLVED_ANSWER, people=people)

    assert answer == (
        "I sent a new password reset link to your address; the link arrives within a few minutes.\n"
        "Open the link in a private browser window if the portal keeps the old session."
    )


@pytest.mark.parametrize(
    ("written", "reusable"),
    [
        (
            "Hello Kim, thanks for reaching out.\n\nClear the cache and sign in again.\n\nBest,\nAda",
            "Clear the cache and sign in again.",
        ),
        ("Hi Kim, restart the sync from Settings.\nThanks,\nAda Agent", "Restart the sync from Settings."),
        ("Thanks for waiting. The export works again.\n\nAda Agent", "Thanks for waiting. The export works again."),
        (
            "Please update the app.\n1. Open Settings\n2. Tap Update\nCheers, Ada",
            "Please update the app.\n1. Open Settings\n2. Tap Update",
        ),
        (
            "Try again now.\n\nOn Mon, 3 Jun 2024 at 10:00 Kim Lee <kim@x.test> wrote:\n> it fails\n> Kim",
            "Try again now.",
        ),
        ("Your card 4111 1111 1111 1111 was charged twice. The refund is on its way.", "The refund is on its way."),
        ("Kim Lee asked the same. Restart the router.", "Restart the router."),
        ("Dear Kim,\n\nKind regards,\nAda", ""),
    ],
)
def test_reusable_answer_cases(written, reusable):
    assert reusable_answer(written, people=("Kim Lee", "kim@x.test")) == reusable


def test_the_check_names_what_must_not_reach_a_customer():
    allowed = ["https://acme.test/help/articles/forgot-password/"]

    assert draft_problems("See https://acme.test/help/articles/forgot-password/.", allowed_urls=allowed) == ()
    assert draft_problems("Error 500 means the server had a problem.", allowed_urls=allowed) == ()
    problems = draft_problems(
        "See /kb/62/ and https://acme.test/tickets/1253/ from ticket #1253 (internal: check before sending) "
        "or write to [EMAIL_1].",
        allowed_urls=allowed,
    )
    assert len(problems) == 5


# --- The AI panel and the composer's card --------------------------------------------------------------------


def test_the_draft_card_shows_the_draft_and_its_internal_sources_and_fills_nothing(
    login, client, ticket, other_customers_ticket, internal_article, public_article
):
    login("agent")

    response = client.post(f"/tickets/{ticket.pk}/ai/reply/draft/", **HX)

    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="composer-ai-draft-text"' in html
    assert "Internal sources: for you only, never sent" in html
    assert f'href="/tickets/{other_customers_ticket.pk}/"' in html and f'href="/kb/{internal_article.pk}/"' in html
    assert re.search(r'href="https?://[^"/]+/help/articles/forgot-password/"', html)
    assert 'data-ai-insert-draft="ai-text-' in html and ">Discard</button>" in html
    assert "data-ai-autofill" not in html  # nothing goes into the reply box by itself
    draft_text = re.search(r'id="ai-text-\d+" readonly>(.*?)</textarea>', html, re.S).group(1)
    assert "/kb/" not in draft_text and f"#{other_customers_ticket.pk}" not in draft_text and "Maria" not in draft_text


def test_the_panel_inserts_a_solved_tickets_answer_without_the_other_customers_details(
    login, client, other_customers_ticket
):
    login("agent")
    similar = analysed(TicketFactory(subject="Forgot my portal password", original_description=QUESTION))

    html = client.get(f"/tickets/{similar.pk}/ai/panel/", **HX).content.decode()

    (inserted,) = re.findall(r'data-ai-insert="([^"]*)" data-testid="ai-insert-solution"', html)
    assert "the link arrives within a few minutes" in inserted
    assert not any(other in inserted for other in ("Maria", "Priya", "7946", "globex", "/kb/", "internal"))


def test_the_facade_redacts_personal_data_as_the_safety_filters_do():
    from ai import facade

    assert facade.redact_personal_data("Write to kim@x.test or call +44 20 7946 0958.") == (
        "Write to [EMAIL_1] or call [PHONE_1].",
        2,
    )
    assert facade.redact_personal_data("Restart the router.") == ("Restart the router.", 0)


def test_the_customers_own_numbers_and_links_are_theirs_to_read(public_article, make_user):
    ticket = TicketFactory(
        subject="Order #12345: password reset",
        original_description=f"{QUESTION} My order page https://shop.example/orders/12345 says the same.",
        requester__name="Kim Novak",
    )

    draft = ticket_ai.auto_response_generate(ticket, actor=make_user("agent"))

    assert "#12345" in draft.text and draft.problems == ()
    assert draft_problems("About #12345 and #999.", allowed_urls=[], allowed_text=ticket.subject) == (
        "It names an internal ticket number.",
    )
    assert (
        draft_problems("See https://shop.example/orders/12345.", allowed_urls=[], allowed_text=ticket.description) == ()
    )
