"""Reading the knowledge base: the agents' article list, hybrid search, recommendations, the public help center.

Hybrid search merges two signals about each article:

* keyword: PostgreSQL full text over `Article.search_vector` (title A, tags B, body C; English stemming).
  A typed query needs every word, the last one as a prefix (results as you type); a long text (a ticket)
  needs any of its words. The raw rank `r` (ts_rank, weights D .1, C .2, B .4, A 1) becomes
  keyword = 1 − exp(−r / 0.2): a single body hit (r ≈ 0.1) gives ≈ 0.4, a title hit (r ≈ 0.6) ≈ 0.95.
* semantic: cosine similarity of the local embedding model (ai.facade.search_similar over the source
  "helpdesk.article"), clamped to 0…1. Related texts land around 0.3–0.6, unrelated ones under 0.1.

    score = 0.7 × semantic + 0.3 × keyword          (0…1)

Meaning weighs more because a ticket rarely uses the article's words; keywords lift exact title hits. The
`reason` of a match is the component that contributed more. Search lists show keyword hits and semantic hits
of at least 0.3; recommendations keep published articles scoring at least the workspace's threshold
(HelpdeskSettings.kb_recommendation_threshold). When the vector search fails (model missing, database
error), search carries on with keywords alone: looking things up must never break.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Func, Q, QuerySet

from ai import facade as ai

from ..models import Article, ArticleCategory, Ticket
from .config import helpdesk_settings_get

logger = logging.getLogger(__name__)

SOURCE = "helpdesk.article"
SEMANTIC_WEIGHT = 0.7
KEYWORD_WEIGHT = 0.3
KEYWORD_SCALE = 0.2  # ts_rank at which the keyword component reaches 1 − 1/e ≈ 0.63
SEMANTIC_MIN = 0.3  # a search list shows meaning-only matches from this similarity on
SEMANTIC_CANDIDATES = 200
KEYWORD_CANDIDATES = 200
MAX_QUERY_WORDS = 12
MAX_TEXT_WORDS = 48
MAX_RECOMMENDATIONS = 50
_WORD = re.compile(r"[^\W_]+")

SORTS = {
    "relevance": None,
    "title": ("title", "id"),
    "-updated": ("-updated", "-id"),
    "-created": ("-created", "-id"),
    "-helpful": ("-helpful_yes", "helpful_no", "title"),
    "-views": ("-view_count", "title"),
}


@dataclass(frozen=True)
class ArticleMatch:
    """An article found for a text. `reason` is "semantic" or "keyword"; `semantic`/`keyword` are the parts."""

    article: Article
    score: float
    reason: str
    semantic: float = 0.0
    keyword: float = 0.0

    @property
    def matched(self) -> tuple[str, ...]:
        """Which searches found it, for the "matched by" badges."""
        found = []
        if self.keyword > 0:
            found.append("keyword")
        if self.semantic >= SEMANTIC_MIN:
            found.append("semantic")
        return tuple(found)


@dataclass(frozen=True)
class ArticleFilters:
    q: str = ""
    status: str = ""
    visibility: str = ""
    category_id: int | None = None
    tag: str = ""
    needs_review: bool = False

    @property
    def active(self) -> bool:
        return bool(self.q or self.status or self.visibility or self.category_id or self.tag or self.needs_review)


# --- Scoring ------------------------------------------------------------------------------------


def keyword_component(rank: float) -> float:
    return 1.0 - math.exp(-max(rank, 0.0) / KEYWORD_SCALE)


def blend(semantic: float, keyword: float) -> tuple[float, str]:
    """(score 0…1, reason) from a cosine similarity and a keyword component."""
    semantic = min(max(semantic, 0.0), 1.0)
    weighted_semantic, weighted_keyword = SEMANTIC_WEIGHT * semantic, KEYWORD_WEIGHT * keyword
    reason = "semantic" if weighted_semantic >= weighted_keyword else "keyword"
    return round(weighted_semantic + weighted_keyword, 4), reason


def _words(text: str) -> list[str]:
    seen: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word not in seen:
            seen.append(word)
    return seen


def keyword_query(text: str, *, any_word: bool = False) -> SearchQuery | None:
    """A tsquery built from the words only (no operators from the input reach PostgreSQL's parser)."""
    words = _words(text)[: MAX_TEXT_WORDS if any_word else MAX_QUERY_WORDS]
    if not words:
        return None
    raw = " | ".join(words) if any_word else " & ".join([*words[:-1], f"{words[-1]}:*"])
    return SearchQuery(raw, search_type="raw", config="english")


def _semantic_scores(text: str, k: int = SEMANTIC_CANDIDATES) -> dict[int, float]:
    try:
        found = ai.search_similar(source=SOURCE, text=text, k=k)
    except Exception:  # the vector search is an extra: keywords still answer (see the module docstring)
        logger.warning("semantic article search failed; keyword search only", exc_info=True)
        return {}
    return {int(object_id): similarity for object_id, similarity in found if object_id.isdigit()}


def _keyword_ranks(queryset: QuerySet, query: SearchQuery | None) -> dict[int, float]:
    if query is None:
        return {}
    rows = (
        queryset.filter(search_vector=query)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "id")
        .values_list("id", "rank")[:KEYWORD_CANDIDATES]
    )
    return dict(rows)


def hybrid_search(
    queryset: QuerySet, text: str, *, any_word: bool = False, semantic_min: float = SEMANTIC_MIN
) -> list[ArticleMatch]:
    """Articles of `queryset` matching `text` by keywords or meaning, best first (see the module docstring)."""
    text = (text or "").strip()
    if not text:
        return []
    ranks = _keyword_ranks(queryset, keyword_query(text, any_word=any_word))
    similarities = _semantic_scores(text)
    wanted = set(ranks) | {pk for pk, similarity in similarities.items() if similarity >= semantic_min}
    articles = queryset.filter(pk__in=wanted).select_related("category") if wanted else []
    matches = []
    for article in articles:
        semantic, keyword = similarities.get(article.pk, 0.0), keyword_component(ranks.get(article.pk, 0.0))
        score, reason = blend(semantic, keyword)
        matches.append(ArticleMatch(article, score, reason, semantic=max(semantic, 0.0), keyword=keyword))
    matches.sort(key=lambda match: (-match.score, match.article.title, match.article.pk))
    return matches


# --- Agents' knowledge base ---------------------------------------------------------------------


def _filtered(filters: ArticleFilters) -> QuerySet:
    articles = Article.objects.all()
    if filters.status:
        articles = articles.filter(status=filters.status)
    if filters.visibility:
        articles = articles.filter(visibility=filters.visibility)
    if filters.category_id:
        articles = articles.filter(category_id=filters.category_id)
    if filters.tag:
        articles = articles.filter(tags__contains=[filters.tag])
    if filters.needs_review:
        articles = articles.filter(ai_generated=True)
    return articles


def article_list(*, filters: ArticleFilters, sort: str = "", page: int | str = 1, page_size: int = 25) -> Page:
    """One page of articles; each item carries `.match` (an ArticleMatch when searching, else None).

    Page numbers rather than keyset cursors: a knowledge base holds hundreds of articles, not millions, and a
    ranked search result (two merged searches) has no stable sort key to seek on.
    """
    articles = _filtered(filters)
    if filters.q:
        matches = hybrid_search(articles, filters.q)
        if SORTS.get(sort):
            matches = _sorted_matches(matches, sort)
        paginator = Paginator(matches, page_size)
        current = paginator.get_page(page)
        current.object_list = [_with_match(match) for match in current.object_list]
        return current
    order = SORTS.get(sort) or SORTS["title"]
    paginator = Paginator(articles.select_related("category", "author").order_by(*order), page_size)
    current = paginator.get_page(page)
    current.object_list = [_with_match(None, article) for article in current.object_list]
    return current


def _sorted_matches(matches: list[ArticleMatch], sort: str) -> list[ArticleMatch]:
    key, *_ = SORTS[sort]
    name, descending = key.lstrip("-"), key.startswith("-")
    return sorted(matches, key=lambda match: getattr(match.article, name), reverse=descending)


def _with_match(match: ArticleMatch | None, article: Article | None = None) -> Article:
    article = match.article if match is not None else article
    article.match = match
    return article


def article_get(*, article_id: int) -> Article:
    return Article.objects.select_related("category", "author", "reviewed_by", "source_ticket").get(pk=article_id)


def article_tags() -> list[str]:
    """Every tag in use, for the filter menu."""
    rows = Article.objects.annotate(tag=Func(F("tags"), function="unnest")).values_list("tag", flat=True)
    return sorted(set(rows))


def article_category_list() -> list[ArticleCategory]:
    """Categories with `article_count` (all articles) and `public_count` (shown in the help center)."""
    public = Q(articles__status=Article.Status.PUBLISHED, articles__visibility=Article.Visibility.PUBLIC)
    return list(
        ArticleCategory.objects.annotate(article_count=Count("articles"), public_count=Count("articles", filter=public))
    )


def article_category_get(*, category_id: int) -> ArticleCategory:
    return ArticleCategory.objects.get(pk=category_id)


def articles_needing_review_count() -> int:
    return Article.objects.filter(ai_generated=True).count()


def ticket_get_for_article(*, ticket_id: int) -> Ticket:
    """The ticket an article is drafted from (with what the draft reads besides its messages)."""
    return Ticket.objects.select_related("category", "requester").get(pk=ticket_id)


# --- Recommendations (the AI panel, auto-responses) ---------------------------------------------


def article_recommendations(*, text: str, limit: int = 5, threshold: float | None = None) -> list[ArticleMatch]:
    """Published articles (internal and public) relevant to `text`, best first, scoring at least `threshold`.

    `threshold` defaults to the workspace's `kb_recommendation_threshold`; the score is the blend described in
    the module docstring. An empty text recommends nothing.
    """
    limit = max(1, min(int(limit), MAX_RECOMMENDATIONS))
    if threshold is None:
        threshold = helpdesk_settings_get().kb_recommendation_threshold
    published = Article.objects.filter(status=Article.Status.PUBLISHED)
    matches = hybrid_search(published, text, any_word=True, semantic_min=0.0)
    return [match for match in matches if match.score >= threshold][:limit]


# --- Public help center -------------------------------------------------------------------------


def help_articles() -> QuerySet:
    """What anonymous visitors may read: published and public, nothing else."""
    return Article.objects.filter(status=Article.Status.PUBLISHED, visibility=Article.Visibility.PUBLIC)


def help_article_get(*, slug: str) -> Article:
    return help_articles().select_related("category").get(slug=slug)


def help_category_list() -> list[ArticleCategory]:
    """Categories with at least one public article, each with `public_count`."""
    public = Q(articles__status=Article.Status.PUBLISHED, articles__visibility=Article.Visibility.PUBLIC)
    categories = ArticleCategory.objects.annotate(public_count=Count("articles", filter=public))
    return [category for category in categories if category.public_count]


def help_category_get(*, slug: str) -> ArticleCategory:
    return ArticleCategory.objects.get(slug=slug)


def help_category_articles(*, category: ArticleCategory) -> list[Article]:
    return list(help_articles().filter(category=category).order_by("title", "id"))


def help_popular_articles(*, limit: int = 8) -> list[Article]:
    return list(help_articles().select_related("category").order_by("-view_count", "-helpful_yes", "title")[:limit])


def help_search(*, query: str, limit: int = 20) -> list[ArticleMatch]:
    return hybrid_search(help_articles(), query)[:limit]


def help_related_articles(*, article: Article, limit: int = 4) -> list[Article]:
    """Other public articles of the same category, most viewed first."""
    if article.category_id is None:
        return []
    others = help_articles().filter(category_id=article.category_id).exclude(pk=article.pk)
    return list(others.order_by("-view_count", "title")[:limit])
