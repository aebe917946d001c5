"""Reply drafts grounded in the knowledge base and solved tickets, and the opted-in automatic answer-and-solve.

`auto_response_generate(ticket)` retrieves the best published articles (and, for an agent, the answer of the
most similar solved ticket), picks the passages closest to the ticket with the local embedding model and puts
them, word for word, into a fixed reply template. With an external provider configured, an agent's draft is
written by it from the same passages (`reply_draft` prompt); when it cannot answer, or what it wrote fails the
check below, the template draft is used.

A draft is text a customer may read, whoever sends it (helpdesk.reply_safety): it quotes and links only public
help-center articles (cited as [n] with their help-center address) and, for an agent, the reusable part of a
solved ticket's answer (no greeting, signature, names or personal data, no ticket number). Internal articles and
the solved tickets themselves are listed as the draft's internal sources, for the agent only, never in its text.
A reply that may go out without an agent is always the template draft from public articles only.

`should_auto_close(ticket)` decides whether a ticket is simple enough to answer that way; `ticket_auto_respond` (run
by the analysis task) does it only when the workspace turned auto-response on, at most once per ticket and
before any agent replied, leaving AUTO_RESPONDED (sources, confidence) and AUTO_CLOSED events. A customer who
answers reopens the ticket (helpdesk.services.tickets.customer_message_add).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from django.db import connection, transaction

from ai import facade
from core.markdown import markdown_to_text

from ...models import Ticket, TicketDraft, TicketEvent, TicketMessage
from ...reply_safety import draft_problems
from ...selectors import ticket_ai as selectors
from ...selectors.config import helpdesk_settings_get
from .. import tickets as ticket_services

MAX_ARTICLES = 2
MAX_TICKETS = 1
EXCERPT_SENTENCES = 3
MAX_CANDIDATE_SENTENCES = 40
MAX_AUTO_WORDS = 120
DRAFT_FEATURE = "helpdesk.reply_draft"
RETRIEVAL_FEATURE = "helpdesk.draft_retrieval"

# The template: the only words of a local draft that do not come from a source.
GREETING = "Hello {name},"
INTRO = "Thank you for getting in touch about “{subject}”."
ARTICLE_LEAD = "From our help article “{title}” [{number}]:"
TICKET_LEAD = "This has solved the same problem before:"
HOLDING = "We are looking into this and will get back to you as soon as we can."
SOURCES_HEADING = "Sources:"
ARTICLE_SOURCE = "[{number}] {title}"
OUTRO = "If this does not solve it, simply reply to this message and we will take it from there."
SIGN_OFF = "Kind regards,"
TEAM_SIGNATURE = "The {workspace} support team"
GENERATION_NOTES = (
    "Answer the customer using only these sources. Cite each numbered help article you use as [1], [2], …; the "
    "unnumbered past answers must not be cited or mentioned. Add no links, names or ticket numbers. If the "
    "sources do not answer the question, say that the team will look into it.\n\n{sources}"
)
PAST_ANSWER = "Past answer (do not cite):"

_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"(])")
_BOILERPLATE = re.compile(
    r"^(?:(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening))\b.{0,40}$"
    r"|(?:many\s+)?(?:thanks|thank\s+you|cheers|regards|best|kind\s+regards|sincerely)\b.{0,60}$"
    r"|(?:let\s+(?:us|me)\s+know|hope\s+(?:this|that)\s+helps|feel\s+free|(?:don['’]t|do\s+not)\s+hesitate)\b.*$)",
    re.IGNORECASE,
)
_PERSONAL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|\+?\d[\d\s().-]{7,}\d")
MULTIPLE_ISSUES = re.compile(
    r"\b(?:also|another\s+(?:issue|problem|question|thing)|secondly|in\s+addition|additionally|"
    r"(?:two|several|a\s+few)\s+(?:issues|problems|questions|things))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Source:
    number: int
    kind: str  # "article" | "ticket"
    object_id: int
    title: str
    # A public article: its help-center address (absolute: customers read it by email). Otherwise the agents'
    # page (/kb/…, /tickets/…), which a customer cannot open: shown to the agent, never put into the draft.
    url: str
    excerpt: tuple[str, ...]  # sentences (or list items) copied from the source, in its order
    score: float
    public: bool  # a published public article, which a customer may see; internal articles and tickets never are
    in_reply: bool = False  # its excerpt is in the draft's text

    @property
    def internal(self) -> bool:
        return not self.public


@dataclass(frozen=True)
class Draft:
    text: str
    sources: tuple[Source, ...]
    confidence: float  # how well the best source matches the ticket, 0–1
    meta: Any  # ai.contracts.RunMeta of the run to attach feedback to (ai_run_id of the reply)
    customer_safe: bool  # only public sources and no problem: may be sent without an agent
    problems: tuple[str, ...] = ()  # why the text must not reach a customer as it is (helpdesk.reply_safety)

    @property
    def public_sources(self) -> tuple[Source, ...]:
        return tuple(source for source in self.sources if source.public)

    @property
    def internal_sources(self) -> tuple[Source, ...]:
        """For the agent only: solved tickets and internal articles (their links open agents' pages)."""
        return tuple(source for source in self.sources if source.internal)

    @property
    def quotes_sources(self) -> bool:
        return any(source.in_reply for source in self.sources)

    def sources_data(self) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in asdict(source).items() if k != "excerpt"}
            | {"excerpt": " ".join(source.excerpt), "internal": source.internal}
            for source in self.sources
        ]


@dataclass(frozen=True)
class AutoCloseDecision:
    ok: bool
    confidence: float
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "confidence": self.confidence, "reasons": list(self.reasons)}


# --- Deciding --------------------------------------------------------------------------------------


def should_auto_close(ticket: Ticket, *, analysis: dict[str, Any] | None = None) -> AutoCloseDecision:
    """Low complexity and a confident public answer: short, a question, one issue, a calm customer, and a public
    article matching at least the workspace's `auto_response_confidence`. Every check is listed in `reasons`."""
    document = analysis if analysis is not None else ticket.ai_suggestions
    if not isinstance(document, dict) or not document.get("version"):
        return AutoCloseDecision(False, 0.0, ("The ticket has not been analysed yet.",))
    needed = helpdesk_settings_get().auto_response_confidence
    text = f"{ticket.subject}\n{ticket.description}"
    words = len(text.split())
    ticket_type = document["suggestions"]["type"]["value"]
    sentiment = document["suggestions"]["sentiment"]["value"]
    questions = text.count("?")
    public = sorted((a for a in document["kb_articles"] if a.get("public")), key=lambda a: -a["score"])
    top = public[0]["score"] if public else 0.0
    checks = [
        (words <= MAX_AUTO_WORDS, f"Short request ({words} words, at most {MAX_AUTO_WORDS})."),
        (ticket_type == "question", f"Looks like a {ticket_type}; only questions are answered automatically."),
        (questions <= 2 and not MULTIPLE_ISSUES.search(text), "A single issue."),
        (sentiment != "negative", f"The customer's tone is {sentiment}; upset customers get a person."),
        (
            top >= needed,
            f"Best public article “{public[0]['title']}” matches {top:.0%} (needed: {needed:.0%})."
            if public
            else "No public knowledge-base article matches.",
        ),
    ]
    reasons = tuple(("✓ " if passed else "✗ ") + reason for passed, reason in checks)
    return AutoCloseDecision(all(passed for passed, _ in checks), round(float(top), 3), reasons)


# --- Drafting --------------------------------------------------------------------------------------


def _first_name(ticket: Ticket) -> str:
    name = (ticket.requester.name or "").strip()
    return name.split()[0] if name else "there"


def _workspace_name() -> str:
    return getattr(getattr(connection, "tenant", None), "name", "") or "our"


def _candidate_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        pieces = [_LIST_ITEM.sub("", line).strip()] if _LIST_ITEM.match(line) else _SENTENCE_END.split(line)
        for piece in pieces:
            piece = piece.strip()
            if len(piece.split()) >= 3 and not _BOILERPLATE.match(piece) and not _PERSONAL.search(piece):
                sentences.append(piece)
    return sentences[:MAX_CANDIDATE_SENTENCES]


def _excerpts(query: str, documents: list[str]) -> list[tuple[str, ...]]:
    """For each document, the few sentences closest in meaning to `query`, in the document's own order.

    One embedding call for the query and every candidate sentence (local model, a few milliseconds each).
    """
    candidates = [_candidate_sentences(document) for document in documents]
    flat = [sentence for sentences in candidates for sentence in sentences]
    if not flat:
        return [() for _ in documents]
    vectors = facade.embed([query, *flat], feature=RETRIEVAL_FEATURE).vectors
    similarities = np.asarray(vectors[1:]) @ np.asarray(vectors[0])
    chosen, offset = [], 0
    for sentences in candidates:
        scores = similarities[offset : offset + len(sentences)]
        best = sorted(np.argsort(-scores)[:EXCERPT_SENTENCES].tolist())
        chosen.append(tuple(sentences[i] for i in best))
        offset += len(sentences)
    return chosen


def _article_matches(text: str, *, public_only: bool) -> tuple[list[Any], list[Any]]:
    """(public, internal) published articles for the text, at most MAX_ARTICLES of each, best first."""
    try:
        from ...selectors.kb import article_recommendations
    except ImportError:
        return [], []
    matches = article_recommendations(text=text, limit=MAX_ARTICLES * 3)
    public = [match for match in matches if match.article.is_public][:MAX_ARTICLES]
    internal = [] if public_only else [match for match in matches if not match.article.is_public][:MAX_ARTICLES]
    return public, internal


def _sources(ticket: Ticket, query: str, *, customer_facing: bool) -> list[Source]:
    """Public articles first (numbered as the draft cites them), then the agent-only ones: the solved ticket
    (whose reusable answer the draft may quote) and internal articles (never quoted)."""
    public, internal = _article_matches(query, public_only=customer_facing)
    solved = [] if customer_facing else selectors.similar_solved_tickets(ticket.pk, query, limit=MAX_TICKETS)
    documents = [markdown_to_text(match.article.body) for match in public]
    documents += [item.get("reply_text", "") for item in solved]
    documents += [markdown_to_text(match.article.body) for match in internal]
    excerpts = iter(_excerpts(query, documents))
    sources: list[Source] = []
    for match in public:
        article, excerpt = match.article, next(excerpts)
        if excerpt:  # nothing to quote: not a source of this draft
            url = selectors.absolute_url(selectors.article_url(article, public=True))
            number, score = len(sources) + 1, float(match.score)
            sources.append(Source(number, "article", article.pk, article.title, url, excerpt, score, True, True))
    for item in solved:
        excerpt, number, score = next(excerpts), len(sources) + 1, float(item["score"])
        title, url = item["subject"], item["url"]
        sources.append(Source(number, "ticket", item["ticket_id"], title, url, excerpt, score, False, bool(excerpt)))
    for match in internal:
        article, excerpt, number = match.article, next(excerpts), len(sources) + 1
        url = selectors.article_url(article)
        sources.append(Source(number, "article", article.pk, article.title, url, excerpt, float(match.score), False))
    return sources


def _source_line(source: Source) -> str:
    line = ARTICLE_SOURCE.format(number=source.number, title=source.title)
    return f"{line} — {source.url}" if source.url else line


def _passage(source: Source) -> str:
    lead = (ARTICLE_LEAD if source.kind == "article" else TICKET_LEAD).format(title=source.title, number=source.number)
    return lead + "\n" + "\n".join(source.excerpt)


def sources_block(sources: list[Source]) -> str:
    """The "Sources:" list a customer reads: the public help-center articles, whatever else is passed."""
    return SOURCES_HEADING + "\n" + "\n".join(_source_line(source) for source in sources if source.public)


def template_draft(ticket: Ticket, sources: list[Source], *, signature: str) -> str:
    """The local draft: template sentences around the customer-facing sources' own words, each article cited.
    When only internal sources match, it says the team is looking into it (the agent reads them in the panel)."""
    quoted = [source for source in sources if source.in_reply]
    blocks = [
        GREETING.format(name=_first_name(ticket)),
        INTRO.format(subject=ticket.subject),
        *([_passage(source) for source in quoted] or [HOLDING]),
        OUTRO,
        f"{SIGN_OFF}\n{signature}",
    ]
    if any(source.public for source in quoted):
        blocks.append(sources_block(quoted))
    return "\n\n".join(blocks)


def allowed_urls(sources: list[Source] | tuple[Source, ...]) -> list[str]:
    """Links a draft may carry: the public articles' help-center pages."""
    return [source.url for source in sources if source.public]


def _own_text(ticket: Ticket, sources: list[Source] | tuple[Source, ...]) -> str:
    """What the customer may read anyway, so its links and numbers are fine in a draft: their own message and
    the public articles it quotes."""
    quoted = " ".join(sentence for source in sources if source.public for sentence in source.excerpt)
    return f"{ticket.subject}\n{ticket.description}\n{quoted}"


def _generated(ticket: Ticket, sources: list[Source], *, signature: str, actor) -> tuple[str, Any] | None:
    """The external model's draft from the same customer-facing passages; None when no external provider can
    answer or its text fails the customer-facing check (the template draft is used then)."""
    quoted = [source for source in sources if source.in_reply]
    if not quoted or not facade.can_generate():
        return None
    numbered = "\n\n".join(
        (f"[{s.number}] {s.title}" if s.public else PAST_ANSWER) + "\n" + " ".join(s.excerpt) for s in quoted
    )
    context = {
        "customer_message": ticket.description,
        "customer_name": ticket.requester.name or "",
        "agent_name": signature,
        "workspace_name": _workspace_name(),
        "notes": GENERATION_NOTES.format(sources=numbered),
    }
    try:
        result = facade.generate("reply_draft", context, user=actor)
    except (facade.AIUnavailable, facade.AIInputError):
        return None
    text = result.text
    if SOURCES_HEADING not in text and any(source.public for source in quoted):
        text = f"{text}\n\n{sources_block(quoted)}"
    if draft_problems(text, allowed_urls=allowed_urls(quoted), allowed_text=_own_text(ticket, quoted)):
        return None
    return text, result.meta


def auto_response_generate(ticket: Ticket, *, actor=None, customer_facing: bool = False) -> Draft | None:
    """A reply drafted from the knowledge base (and, for an agent, similar solved tickets) with its sources;
    None when nothing matches well enough to draft from. The text holds customer-facing material only; the
    internal sources are listed on the draft for the agent. `customer_facing`: public articles only, template
    only (what may be sent without an agent)."""
    query = f"{ticket.subject}\n\n{ticket.description}"
    sources = _sources(ticket, query, customer_facing=customer_facing)
    if not sources:
        return None
    signature = (actor.get_full_name() if actor else "") or TEAM_SIGNATURE.format(workspace=_workspace_name())
    generated = None if customer_facing else _generated(ticket, sources, signature=signature, actor=actor)
    data = {"ticket_id": ticket.pk, "sources": [{"kind": s.kind, "id": s.object_id} for s in sources]}
    if generated is not None:
        text, meta = generated
    else:
        text = template_draft(ticket, sources, signature=signature)
        meta = facade.record_local_output(DRAFT_FEATURE, text, data=data, user=actor)
    problems = draft_problems(text, allowed_urls=allowed_urls(sources), allowed_text=_own_text(ticket, sources))
    confidence = round(max(source.score for source in sources), 3)
    safe = not problems and all(source.public for source in sources)
    return Draft(text, tuple(sources), confidence, meta, customer_safe=safe, problems=problems)


def reply_draft_request(ticket: Ticket, *, actor) -> Draft | None:
    """An agent asks for a draft: drafted as `auto_response_generate` does, and kept with its sources (the API
    lists a ticket's drafts). None when nothing matches well enough to draft from (nothing is kept)."""
    draft = auto_response_generate(ticket, actor=actor)
    if draft is not None:
        TicketDraft.objects.create(
            ticket=ticket,
            text=draft.text,
            sources=draft.sources_data(),
            confidence=draft.confidence,
            customer_safe=draft.customer_safe,
            problems=list(draft.problems),
            provider=draft.meta.provider or "",
            model=draft.meta.model or "",
            ai_run_id=draft.meta.run_id,
            requested_by=actor,
        )
    return draft


# --- Answering without an agent -------------------------------------------------------------------


def _may_auto_respond(ticket: Ticket) -> bool:
    """Only a fresh ticket nobody answered yet, and only once: a customer's reply goes to a person."""
    return (
        ticket.status in (Ticket.Status.NEW, Ticket.Status.OPEN)
        and ticket.first_responded_at is None
        and ticket.merged_into_id is None
        and not TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.AUTO_RESPONDED).exists()
    )


def ticket_auto_respond(ticket_id: int) -> TicketMessage | None:
    """Answers (and, if opted in, solves) the ticket from the knowledge base when the workspace enabled it and the
    ticket qualifies; returns the reply sent, or None."""
    settings = helpdesk_settings_get()
    if not settings.auto_response:
        return None
    ticket = Ticket.objects.select_related("requester", "customer").filter(pk=ticket_id).first()
    if ticket is None or not _may_auto_respond(ticket):
        return None
    decision = should_auto_close(ticket)
    if not decision.ok:
        return None
    draft = auto_response_generate(ticket, customer_facing=True)
    if draft is None or not draft.customer_safe or draft.confidence < settings.auto_response_confidence:
        return None
    return _send(ticket, draft, decision, close=settings.auto_close)


@transaction.atomic
def _send(ticket: Ticket, draft: Draft, decision: AutoCloseDecision, *, close: bool) -> TicketMessage | None:
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if not _may_auto_respond(ticket):  # someone answered while the draft was written
        return None
    message = ticket_services.message_add(ticket=ticket, actor=None, body=draft.text, ai_run_id=draft.meta.run_id)
    audit = {"confidence": draft.confidence, "reasons": list(decision.reasons), "run_id": draft.meta.run_id}
    TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.AUTO_RESPONDED,
        data={**audit, "message_id": message.pk, "sources": draft.sources_data()},
    )
    if close:
        Ticket.objects.filter(pk=ticket.pk).update(auto_closed=True)
        ticket_services.ticket_status_set(ticket=ticket, status=Ticket.Status.SOLVED, actor=None)
        TicketEvent.objects.create(
            ticket=ticket, kind=TicketEvent.Kind.AUTO_CLOSED, data={**audit, "message_id": message.pk}
        )
    else:
        ticket_services.ticket_status_set(ticket=ticket, status=Ticket.Status.PENDING, actor=None)
    return message
