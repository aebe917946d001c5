"""Reply drafts grounded in the knowledge base and solved tickets, and the opted-in automatic answer-and-solve.

`auto_response_generate(ticket)` retrieves the best published articles (and, for an agent, the answer of the
most similar solved ticket), picks the passages closest to the ticket with the local embedding model and puts
them, word for word, into a fixed reply template that cites every source as [n]. With an external provider
configured, an agent's draft is written by it from the same numbered passages (`reply_draft` prompt); when it
cannot answer, the template draft is used. A reply that may go out without an agent is always the template
draft from public articles only: every sentence in it is either the template's or a source's.

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

from ...markdown import markdown_to_text
from ...models import Ticket, TicketEvent, TicketMessage
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
TICKET_LEAD = "A similar request was solved like this [{number}]:"
SOURCES_HEADING = "Sources:"
ARTICLE_SOURCE = "[{number}] {title}"
TICKET_SOURCE = "[{number}] Solved ticket #{ticket_id}: {subject} (internal: check before sending)"
OUTRO = "If this does not solve it, simply reply to this message and we will take it from there."
SIGN_OFF = "Kind regards,"
TEAM_SIGNATURE = "The {workspace} support team"
GENERATION_NOTES = (
    "Answer the customer using only these numbered sources, and cite each one you use as [1], [2], …. "
    "If they do not answer the question, say that the team will look into it.\n\n{sources}"
)

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
    url: str
    excerpt: tuple[str, ...]  # sentences (or list items) copied from the source, in its order
    score: float
    public: bool  # a customer may see it (a public article); solved tickets never are


@dataclass(frozen=True)
class Draft:
    text: str
    sources: tuple[Source, ...]
    confidence: float  # how well the best source matches the ticket, 0–1
    meta: Any  # ai.contracts.RunMeta of the run to attach feedback to (ai_run_id of the reply)
    customer_safe: bool  # only public sources: may be sent without an agent

    def sources_data(self) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in asdict(source).items() if k != "excerpt"} | {"excerpt": " ".join(source.excerpt)}
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


def _article_matches(text: str, *, public_only: bool) -> list[Any]:
    try:
        from ...selectors.kb import article_recommendations
    except ImportError:
        return []
    matches = article_recommendations(text=text, limit=MAX_ARTICLES * 3)
    return [match for match in matches if match.article.is_public or not public_only][:MAX_ARTICLES]


def _sources(ticket: Ticket, query: str, *, customer_facing: bool) -> list[Source]:
    articles = _article_matches(query, public_only=customer_facing)
    solved = [] if customer_facing else selectors.similar_solved_tickets(ticket.pk, query, limit=MAX_TICKETS)
    documents = [markdown_to_text(match.article.body) for match in articles]
    documents += [item["solution"] for item in solved]
    excerpts = _excerpts(query, documents)
    sources: list[Source] = []
    for match, excerpt in zip(articles, excerpts, strict=False):
        article = match.article
        url = selectors.article_url(article, public=customer_facing)
        url = selectors.absolute_url(url) if customer_facing else url
        number, score = len(sources) + 1, float(match.score)
        sources.append(Source(number, "article", article.pk, article.title, url, excerpt, score, article.is_public))
    for item, excerpt in zip(solved, excerpts[len(articles) :], strict=False):
        number, score = len(sources) + 1, float(item["score"])
        sources.append(Source(number, "ticket", item["ticket_id"], item["subject"], item["url"], excerpt, score, False))
    return [source for source in sources if source.excerpt]


def _source_line(source: Source) -> str:
    if source.kind == "ticket":
        return TICKET_SOURCE.format(number=source.number, ticket_id=source.object_id, subject=source.title)
    line = ARTICLE_SOURCE.format(number=source.number, title=source.title)
    return f"{line} — {source.url}" if source.url else line


def _passage(source: Source) -> str:
    lead = (ARTICLE_LEAD if source.kind == "article" else TICKET_LEAD).format(title=source.title, number=source.number)
    return lead + "\n" + "\n".join(source.excerpt)


def sources_block(sources: list[Source]) -> str:
    return SOURCES_HEADING + "\n" + "\n".join(_source_line(source) for source in sources)


def template_draft(ticket: Ticket, sources: list[Source], *, signature: str) -> str:
    """The local draft: template sentences around the sources' own words, every source cited."""
    blocks = [
        GREETING.format(name=_first_name(ticket)),
        INTRO.format(subject=ticket.subject),
        *(_passage(source) for source in sources),
        OUTRO,
        f"{SIGN_OFF}\n{signature}",
        sources_block(sources),
    ]
    return "\n\n".join(blocks)


def _generated(ticket: Ticket, sources: list[Source], *, signature: str, actor) -> tuple[str, Any] | None:
    """The external model's draft from the same passages; None when no external provider can answer."""
    if not facade.can_generate():
        return None
    numbered = "\n\n".join(f"[{s.number}] {s.title}\n" + " ".join(s.excerpt) for s in sources)
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
    if SOURCES_HEADING not in text:
        text = f"{text}\n\n{sources_block(sources)}"
    return text, result.meta


def auto_response_generate(ticket: Ticket, *, actor=None, customer_facing: bool = False) -> Draft | None:
    """A reply drafted from the knowledge base (and, for an agent, similar solved tickets) citing its sources;
    None when nothing matches well enough to draft from. `customer_facing`: public articles only, template only
    (what may be sent without an agent)."""
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
    confidence = round(max(source.score for source in sources), 3)
    return Draft(text, tuple(sources), confidence, meta, customer_safe=all(source.public for source in sources))


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
