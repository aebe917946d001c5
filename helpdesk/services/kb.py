"""Writing the knowledge base: articles (slugs, publishing, review), categories, votes, drafts from solved tickets.

Embeddings follow the articles: a save queues `article_index_task` after commit (Celery), so a slow model never
holds up the editor; a delete forgets the vector in the same transaction. A queue that cannot be reached is
logged and caught up by the periodic `kb_reindex_fanout_task` (unchanged texts cost nothing there).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from ai import facade as ai
from core.markdown import markdown_to_text
from core.outbox import enqueue_on_commit
from core.validation import required_text, valid_choice

from ..models import Article, ArticleCategory, Ticket, TicketMessage
from ..selectors.kb import SOURCE
from ..validators import normalize_tags

MAX_TITLE = 200
MAX_BODY = 100_000
MAX_SLUG = 220
ARTICLE_FIELDS = frozenset({"title", "slug", "body", "status", "visibility", "category", "tags"})
CATEGORY_FIELDS = frozenset({"name", "slug", "description", "position"})


# --- Helpers ------------------------------------------------------------------------------------


def unique_slug(text: str, *, model: type = Article, exclude_pk: int | None = None, limit: int = MAX_SLUG) -> str:
    """A slug from `text` not used by another row: "reset-password", then "reset-password-2"…"""
    base = slugify(text)[: limit - 4].strip("-") or "article"
    taken = set(model.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def _chosen_slug(raw: str, *, title: str, model: type, exclude_pk: int | None, limit: int) -> str:
    """The editor's slug when given (must be valid and free), else one made from the title."""
    raw = (raw or "").strip()
    if not raw:
        return unique_slug(title, model=model, exclude_pk=exclude_pk, limit=limit)
    slug = slugify(raw)[:limit]
    if slug != raw.lower():
        raise ValidationError({"slug": "Use lower-case letters, digits and hyphens only, e.g. “reset-your-password”."})
    if model.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        raise ValidationError({"slug": ValidationError(f"“{slug}” is already used; choose another.", code="unique")})
    return slug


def _queue_index(article_id: int) -> None:
    """After commit, (re)embed the article on Celery (an unreachable broker keeps it in the outbox until it is back)."""
    from ..tasks.kb import article_index_task  # tasks import this module

    enqueue_on_commit(article_index_task, article_id)


def article_embedding_text(article: Article) -> str:
    parts = [article.title, " ".join(article.tags), markdown_to_text(article.body)]
    return "\n".join(part for part in parts if part)


# --- Articles -----------------------------------------------------------------------------------


@transaction.atomic
def article_create(
    *,
    actor,
    title: str,
    body: str,
    slug: str = "",
    status: str = Article.Status.DRAFT,
    visibility: str = Article.Visibility.PUBLIC,
    category: ArticleCategory | None = None,
    tags: Iterable[str] | str = (),
) -> Article:
    values = _clean_article({"title": title, "body": body, "status": status, "visibility": visibility, "tags": tags})
    article = Article(author=actor, category=category, **values)
    article.slug = _chosen_slug(slug, title=article.title, model=Article, exclude_pk=None, limit=MAX_SLUG)
    if article.status == Article.Status.PUBLISHED:
        article.published_at = timezone.now()
    article.save()
    _queue_index(article.pk)
    return article


@transaction.atomic
def article_update(*, article: Article, actor, data: Mapping[str, Any]) -> Article:
    """Changes the given fields (of ARTICLE_FIELDS). Publishing for the first time stamps `published_at`."""
    unknown = set(data) - ARTICLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    values = _clean_article(data)
    for name, value in values.items():
        setattr(article, name, value)
    if "category" in data:
        article.category = data["category"]
    if "slug" in data or "title" in data:
        article.slug = _chosen_slug(
            data.get("slug", article.slug), title=article.title, model=Article, exclude_pk=article.pk, limit=MAX_SLUG
        )
    if article.status == Article.Status.PUBLISHED and article.published_at is None:
        article.published_at = timezone.now()
    article.save()
    _queue_index(article.pk)
    return article


def _clean_article(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    checks = {
        "title": lambda v: required_text(v, field="title", label="The title", limit=MAX_TITLE),
        "body": lambda v: required_text(v, field="body", label="The article", limit=MAX_BODY),
        "status": lambda v: valid_choice(v, Article.Status, "status"),
        "visibility": lambda v: valid_choice(v, Article.Visibility, "visibility"),
        "tags": normalize_tags,
    }
    for name, check in checks.items():
        if name not in data:
            continue
        try:
            values[name] = check(data[name])
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def article_delete(*, article: Article, actor) -> None:
    article_id = article.pk
    article.delete()
    ai.forget_text(source=SOURCE, object_id=article_id)


@transaction.atomic
def article_review(*, article: Article, actor) -> Article:
    """A person checked an AI-drafted article: it loses the AI-generated mark and remembers who checked it."""
    article.ai_generated = False
    article.reviewed_by = actor
    article.save(update_fields=["ai_generated", "reviewed_by", "updated"])
    return article


def article_vote(*, article: Article, helpful: bool) -> None:
    """ "Was this helpful?" from the help center (rate-limited by the view)."""
    counter = "helpful_yes" if helpful else "helpful_no"
    Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})


def article_view_record(*, article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


# --- Embeddings ---------------------------------------------------------------------------------


def article_index(*, article_id: int) -> bool:
    """Embeds the article's current text (False when unchanged); an article deleted meanwhile is forgotten."""
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        ai.forget_text(source=SOURCE, object_id=article_id)
        return False
    return ai.index_text(source=SOURCE, object_id=article.pk, text=article_embedding_text(article))


def articles_reindex() -> int:
    """Embeds every article whose text changed since it was last embedded (e.g. demo data, a missed queue)."""
    items = ((article.pk, article_embedding_text(article)) for article in Article.objects.order_by("pk").iterator())
    return ai.index_texts(source=SOURCE, items=items)


# --- Categories ---------------------------------------------------------------------------------


def _clean_category(data: Mapping[str, Any], *, exclude_pk: int | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = required_text(data["name"], field="name", label="The name", limit=100)
        if ArticleCategory.objects.filter(name__iexact=values["name"]).exclude(pk=exclude_pk).exists():
            raise ValidationError({"name": f"There is already a category called “{values['name']}”."})
    if "description" in data:
        values["description"] = (data["description"] or "").strip()[:300]
    if "position" in data:
        values["position"] = int(data["position"] or 0)
    return values


@transaction.atomic
def article_category_create(*, name: str, slug: str = "", description: str = "", position: int = 100):
    values = _clean_category({"name": name, "description": description, "position": position}, exclude_pk=None)
    values["slug"] = _chosen_slug(slug, title=values["name"], model=ArticleCategory, exclude_pk=None, limit=100)
    return ArticleCategory.objects.create(**values)


@transaction.atomic
def article_category_update(*, category: ArticleCategory, data: Mapping[str, Any]) -> ArticleCategory:
    unknown = set(data) - CATEGORY_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    for name, value in _clean_category(data, exclude_pk=category.pk).items():
        setattr(category, name, value)
    if "slug" in data or "name" in data:
        raw = data.get("slug", category.slug)
        category.slug = _chosen_slug(raw, title=category.name, model=ArticleCategory, exclude_pk=category.pk, limit=100)
    category.save()
    return category


@transaction.atomic
def article_category_delete(*, category: ArticleCategory) -> int:
    """Deletes the category; its articles stay, uncategorised. Returns how many articles it held."""
    count = category.articles.count()
    category.delete()
    return count


# --- Drafting an article from a solved ticket ---------------------------------------------------
#
# Extractive only: every sentence of the draft is copied from the ticket (its description and the agents'
# public replies), never written by a model. The AI (ai.facade.summarize) only *chooses* sentences when a text is
# long, and whatever it returns is checked against the source: a sentence that is not in the ticket word for
# word (an external model paraphrasing) is dropped, and the choice falls back to the first sentences. Internal
# notes are never read: the article may end up in the public help center.

PROBLEM_SENTENCES = 3
SOLUTION_SENTENCES = 8
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“(\[]?[A-Z0-9])")
_CAUSE = re.compile(
    r"\b(?:because|caused\s+by|due\s+to|the\s+(?:root\s+)?cause|the\s+reason|this\s+happen(?:s|ed)\s+(?:when|if)|"
    r"(?:was|were|is|are)\s+triggered\s+by|results?\s+from|stems?\s+from)\b",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(
    r"^(?:(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening))\b.{0,40}$"
    r"|(?:many\s+)?(?:thanks|thank\s+you|cheers|regards|best|kind\s+regards|sincerely)\b.{0,60}$"
    r"|(?:let\s+(?:us|me)\s+know|hope\s+(?:this|that)\s+helps|feel\s+free|(?:don['’]t|do\s+not)\s+hesitate"
    r"|is\s+there\s+anything\s+else|sorry\s+for\s+the)\b.*$)",
    re.IGNORECASE,
)
# Sentences with an email address or a phone number are about one person, not the problem: left out.
_PERSONAL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|\+?\d[\d\s().-]{7,}\d")
_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw)\s*:\s*)+", re.IGNORECASE)


def _normalise(text: str) -> str:
    return " ".join(text.split()).lower()


def ticket_sentences(text: str) -> list[tuple[str, bool]]:
    """(sentence, is_list_item) in reading order; list items stay whole."""
    found: list[tuple[str, bool]] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        if _LIST_ITEM.match(line):
            found.append((_LIST_ITEM.sub("", line).strip(), True))
            continue
        found.extend((sentence.strip(), False) for sentence in _SENTENCE_END.split(line.strip()) if sentence.strip())
    return found


def _usable(sentence: str, is_item: bool) -> bool:
    if _BOILERPLATE.match(sentence) or _PERSONAL.search(sentence):
        return False
    return is_item or len(sentence.split()) >= 3


def _chosen(sentences: list[str], *, limit: int, actor) -> list[str]:
    """Up to `limit` of `sentences`, in order. With more, the summarizer picks; only sentences found word for word
    in its answer are kept (an external model that paraphrases picks nothing, and the first ones are used)."""
    if len(sentences) <= limit:
        return sentences
    try:
        summary = ai.summarize(" ".join(sentences), feature="kb_from_ticket", user=actor, max_sentences=limit)
    except (ai.AIUnavailable, ai.AIInputError):
        return sentences[:limit]
    answer = _normalise(summary.text)
    picked = [sentence for sentence in sentences if _normalise(sentence) in answer]
    return picked[:limit] or sentences[:limit]


def _agent_replies(ticket: Ticket) -> list[str]:
    replies = ticket.messages.filter(kind=TicketMessage.Kind.REPLY, author__isnull=False, author_contact__isnull=True)
    return list(replies.order_by("created", "id").values_list("body", flat=True))


def _section(title: str, lines: list[str]) -> str:
    return f"## {title}\n\n" + " ".join(lines)


def article_draft_from_ticket(ticket: Ticket, *, actor=None) -> tuple[str, str]:
    """(title, Markdown body) with Problem / Cause (when an agent stated one) / Solution, copied from the ticket."""
    replies = _agent_replies(ticket)
    if not replies:
        raise ValidationError(
            {"ticket": "This ticket has no public reply from an agent, so there is no solution to write up."}
        )
    description = ticket.original_description
    problem = [text for text, item in ticket_sentences(description) if _usable(text, item)]
    problem = _chosen(problem, limit=PROBLEM_SENTENCES, actor=actor) or [ticket.subject]
    cause: list[str] = []
    solution: list[tuple[str, bool]] = []
    for text, item in ticket_sentences("\n".join(replies)):
        if not _usable(text, item) or (text.endswith("?") and not item):
            continue  # questions asked along the way are not the answer
        if _CAUSE.search(text) and not item:
            cause.append(text)
        else:
            solution.append((text, item))
    blocks = [_section("Problem", problem)]
    if cause:
        blocks.append(_section("Cause", cause))
    blocks.append(_solution_block(solution, actor=actor))
    title = _PREFIX.sub("", ticket.subject).strip() or ticket.subject
    return title[:MAX_TITLE], "\n\n".join(blocks) + "\n"


def _solution_block(solution: list[tuple[str, bool]], *, actor) -> str:
    if not solution:
        raise ValidationError({"ticket": "The agents' replies hold no solution to copy (only greetings or questions)."})
    steps = [text for text, item in solution if item]
    prose = [text for text, item in solution if not item]
    if steps:
        intro = _chosen(prose, limit=2, actor=actor)
        block = _section("Solution", intro) + "\n\n" if intro else "## Solution\n\n"
        return block + "\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1))
    return _section("Solution", _chosen(prose, limit=SOLUTION_SENTENCES, actor=actor))


@transaction.atomic
def article_create_from_ticket(*, ticket: Ticket, actor) -> Article:
    """An AI-generated internal draft from a solved (or closed) ticket; a person reviews it before it is used."""
    if ticket.status not in Ticket.DONE_STATUSES:
        raise ValidationError({"ticket": "Only a solved ticket can become an article: solve it first."})
    title, body = article_draft_from_ticket(ticket, actor=actor)
    category = ArticleCategory.objects.filter(name__iexact=getattr(ticket.category, "name", "")).first()
    article = Article.objects.create(
        title=title,
        slug=unique_slug(title),
        body=body,
        status=Article.Status.DRAFT,
        # Internal until reviewed: the text comes from one customer's ticket.
        visibility=Article.Visibility.INTERNAL,
        category=category,
        tags=list(ticket.tags),
        author=actor,
        ai_generated=True,
        source_ticket=ticket,
    )
    _queue_index(article.pk)
    return article
