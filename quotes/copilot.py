"""The quote copilot: a quote's scope and risks, questions for the customer, upsells and cross-sells, each with the
rule and the figure behind it. Reads only (quotes.selectors, leads.facade); every item is recorded as an AI run
through ai.facade (`record_local_output`), so accepting or dismissing it in the builder is AI feedback. The
executive summary and the email copy are written by quotes.copilot_writing.

The rules, as the panel states them:
- Missing line: an association rule of the accepted quotes (quotes.recommend) whose products are all on the quote
  and whose consequent is not, with confidence of at least MISSING_CONFIDENCE.
- Discount: a line's discount above the 90th percentile (nearest rank) of the accepted quotes' line discounts,
  once there are MIN_DISCOUNTS of them; before that, above FALLBACK_MAX_DISCOUNT.
- Margin (only for people with `quotes.margin`): the quote's margin under MIN_MARGIN_PERCENT, or a line sold
  under its cost.
- Validity (open quotes): no date; fewer than MIN_VALIDITY_DAYS days left; or fewer than LARGE_VALIDITY_DAYS for a
  large quote, one whose total reaches the 75th percentile of the accepted totals in its currency (once there are
  MIN_TOTALS of them; before that LARGE_FALLBACK).
- Vague description: a line made only of generic words ("misc", "services"…), or a free line (no catalog
  product) with fewer than VAGUE_MIN_WORDS words that are not generic.

Upsells stay in the categories already on the quote and cost more than what the quote has there (a higher tier, a
bigger plan); cross-sells come from the other categories. Both are ranked by association rules first, then by
catalog similarity (upsells), then by popularity (quotes.recommend.upsell_suggestions).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from ai import facade as ai
from leads import facade as leads

from . import recommend, selectors
from .models import Product, Quote, QuoteStatus

logger = logging.getLogger(__name__)

MISSING_CONFIDENCE = 0.6
MIN_DISCOUNTS = 20
DISCOUNT_PERCENTILE = 90
FALLBACK_MAX_DISCOUNT = Decimal(20)
MIN_MARGIN_PERCENT = Decimal(20)
MIN_VALIDITY_DAYS = 7
LARGE_VALIDITY_DAYS = 30
MIN_TOTALS = 10
TOTAL_PERCENTILE = 75
LARGE_FALLBACK = Decimal(10_000)
VAGUE_MIN_WORDS = 2
GENERIC_WORDS = frozenset(
    re.findall(
        r"\S+",
        "misc miscellaneous various other others item items stuff service services work works fee fees tbd tba na n a "
        "product products consulting support extra extras line lines etc and the of for an to see below as agreed "
        "cost costs charge charges general",
    )
)
SUGGESTIONS = 3
MAX_RISKS_PER_RULE = 5
SIMILAR_CANDIDATES = 60
FEATURES = {
    "risk": "quote_scope",
    "question": "quote_questions",
    "upsell": "quote_upsell",
    "cross_sell": "quote_cross_sell",
}


# --- What the copilot returns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Risk:
    code: str  # missing_line, discount_high, margin_low, below_cost, validity_missing, validity_short, vague
    message: str
    rule: str  # the rule that fired, in words
    figure: str  # the figure behind it
    line_id: int | None = None
    product_id: int | None = None  # a missing line: "Add" puts it on the quote
    run_id: int | None = None


@dataclass(frozen=True)
class Question:
    text: str
    because: str
    run_id: int | None = None


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "upsell" or "cross_sell"
    product_id: int
    sku: str
    name: str
    category: str
    unit_price: str | None  # in the quote's currency; None when the product has no price in it
    source: str  # "rules", "similar" or "popular"
    reason: str
    confidence: float | None = None  # rules only
    lift: float | None = None  # rules only
    run_id: int | None = None


@dataclass(frozen=True)
class Scope:
    summary: str
    risks: list[Risk] = field(default_factory=list)


# --- Everything the rules look at, read once ------------------------------------------------------------------


@dataclass
class QuoteFacts:
    """A quote with its lines, the catalog, the accepted history and the lead's notes: what every part reads."""

    quote: Quote
    sheet: selectors.QuoteSheet
    products: dict[int, Product]  # the active catalog, each with `.price` in the quote's currency
    history: selectors.AcceptedHistory
    rules: tuple[recommend.Rule, ...]
    popular: tuple[tuple[int, float], ...]
    notes: list[Any]  # leads.contracts.LeadNote, newest first
    today: date

    @property
    def items(self) -> list:
        return [line for line in self.sheet.lines if not line.is_section]

    @property
    def basket(self) -> frozenset[int]:
        return frozenset(line.product_id for line in self.items if line.product_id)

    def name(self, product_id: int) -> str:
        product = self.products.get(product_id)
        return product.name if product else f"product #{product_id}"


def quote_facts(quote: Quote, *, today: date | None = None) -> QuoteFacts:
    """Reads what the copilot needs (a fixed number of queries, whatever the history's size)."""
    history = selectors.accepted_history(currency=quote.currency, exclude_quote_id=quote.pk)
    return QuoteFacts(
        quote=quote,
        sheet=selectors.quote_sheet(quote=quote),
        products={product.pk: product for product in selectors.copilot_products(currency=quote.currency)},
        history=history,
        rules=recommend.association_rules(history.baskets),
        popular=recommend.popular_products(history.baskets) if history.baskets else (),
        notes=leads.lead_notes(lead_id=quote.lead_id) if quote.lead_id else [],
        today=today or timezone.localdate(),
    )


def _record(kind: str, facts: QuoteFacts, text: str, user: Any, **data: Any) -> int | None:
    """The item as a local AI run (model "rules"), so feedback on it is measured; None if the ledger refuses."""
    try:
        meta = ai.record_local_output(
            FEATURES[kind], text, data={"quote_id": facts.quote.pk, "kind": kind, **data}, model="rules", user=user
        )
    except ai.AIInputError:
        logger.warning("copilot %s of quote %s not recorded", kind, facts.quote.pk)
        return None
    return meta.run_id


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}" if amount == amount.quantize(Decimal("0.01")) else f"{amount:,f} {currency}"


def _percent(value: Decimal | float) -> str:
    return f"{Decimal(str(value)).normalize():f} %"


def nearest_rank(values: Sequence[Decimal], percentile: int) -> Decimal:
    """The nearest-rank percentile: the smallest value with at least `percentile` % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percentile / 100 * len(ordered)) - 1)]


# --- Scope and risks --------------------------------------------------------------------------------------------


def _scope_summary(facts: QuoteFacts) -> str:
    quote, items, totals = facts.quote, facts.items, facts.sheet.totals
    if not items:
        return f"{quote.reference} has no lines yet."
    optional = sum(line.optional for line in items)
    categories = sorted({facts.products[p].category for p in facts.basket if p in facts.products} - {""})
    largest = max(items, key=lambda line: line.net)
    optional_text = f" ({optional} optional)" if optional else ""
    in_categories = f" in {', '.join(categories)}" if categories else ""
    text = (
        f"{quote.reference} “{quote.title}”: {len(items)} line{'s' * (len(items) != 1)}{optional_text}{in_categories}, "
        f"{_money(totals.subtotal, quote.currency)} before tax, {_money(totals.total, quote.currency)} with tax. "
        f"Largest line: {largest.description.splitlines()[0][:80] if largest.description else 'unnamed'} "
        f"({_money(largest.net, quote.currency)})."
    )
    if quote.valid_until:
        text += f" Valid until {quote.valid_until:%B %-d, %Y}."
    return text


def missing_line_risks(facts: QuoteFacts) -> list[Risk]:
    basket, risks, seen = facts.basket, [], set()
    for rule in facts.rules:
        product = rule.consequent
        if rule.confidence < MISSING_CONFIDENCE or product in basket or product in seen:
            continue
        if product not in facts.products or not rule.antecedent <= basket:
            continue
        seen.add(product)
        having = " and ".join(sorted(facts.name(p) for p in rule.antecedent))
        risks.append(
            Risk(
                "missing_line",
                f"{facts.name(product)} is missing: accepted quotes with {having} usually include it.",
                f"An accepted-quote pattern with confidence of at least {MISSING_CONFIDENCE:.0%}.",
                f"In {rule.confidence:.0%} of accepted quotes with {having} ({rule.count} of "
                f"{rule.antecedent_count}), {rule.lift:.1f}× as often as in all accepted quotes.",
                product_id=product,
            )
        )
    return risks[:MAX_RISKS_PER_RULE]


def discount_limit(discounts: Sequence[Decimal]) -> tuple[Decimal, str]:
    """The highest usual discount and the rule that set it."""
    if len(discounts) >= MIN_DISCOUNTS:
        limit = nearest_rank(discounts, DISCOUNT_PERCENTILE)
        return limit, (
            f"Above the {DISCOUNT_PERCENTILE}th percentile of the {len(discounts)} line discounts in accepted quotes "
            f"({_percent(limit)})."
        )
    return FALLBACK_MAX_DISCOUNT, (
        f"Above {_percent(FALLBACK_MAX_DISCOUNT)} (fewer than {MIN_DISCOUNTS} accepted lines to learn the usual "
        f"discount from: {len(discounts)})."
    )


def discount_risks(facts: QuoteFacts) -> list[Risk]:
    limit, rule = discount_limit(facts.history.discounts)
    risks = [
        Risk(
            "discount_high",
            f"“{_line_name(line)}” has a {_percent(line.discount)} discount, above the workspace's usual.",
            rule,
            f"{_percent(line.discount)} against a usual maximum of {_percent(limit)}.",
            line_id=line.pk,
        )
        for line in facts.items
        if line.discount > limit
    ]
    return risks[:MAX_RISKS_PER_RULE]


def margin_risks(facts: QuoteFacts) -> list[Risk]:
    currency, margin, risks = facts.quote.currency, facts.sheet.margin, []
    if margin.percent is not None and margin.percent < MIN_MARGIN_PERCENT:
        risks.append(
            Risk(
                "margin_low",
                f"The margin is {_percent(margin.percent)}, under the {_percent(MIN_MARGIN_PERCENT)} threshold.",
                f"A quote's margin (net amount less cost, over the net amount) under {_percent(MIN_MARGIN_PERCENT)}.",
                f"{_money(margin.amount, currency)} on {_money(margin.revenue, currency)} of lines with a known cost"
                + (f"; {margin.lines_without_cost} without a cost left out." if margin.lines_without_cost else "."),
            )
        )
    for line in facts.items:
        if line.unit_cost is None or line.quantity == 0:
            continue
        cost = line.quantity * line.unit_cost
        if line.net < cost:
            risks.append(
                Risk(
                    "below_cost",
                    f"“{_line_name(line)}” is sold under its cost.",
                    "A line whose net amount is under its quantity × unit cost.",
                    f"{_money(line.net, currency)} for a cost of {_money(cost.quantize(Decimal('0.01')), currency)}.",
                    line_id=line.pk,
                )
            )
    return risks[: MAX_RISKS_PER_RULE + 1]


def large_quote_threshold(totals: Sequence[Decimal], currency: str) -> tuple[Decimal, str]:
    if len(totals) >= MIN_TOTALS:
        threshold = nearest_rank(totals, TOTAL_PERCENTILE)
        how = f"the {TOTAL_PERCENTILE}th percentile of {len(totals)} accepted {currency} quotes"
        return threshold, how
    return LARGE_FALLBACK, f"{_money(LARGE_FALLBACK, currency)} (fewer than {MIN_TOTALS} accepted {currency} quotes)"


def validity_risks(facts: QuoteFacts) -> list[Risk]:
    quote = facts.quote
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.VIEWED) or not facts.items:
        return []
    if quote.valid_until is None:
        return [Risk("validity_missing", "The quote has no validity date.", "Every open quote needs one.", "None set.")]
    days = (quote.valid_until - facts.today).days
    threshold, how = large_quote_threshold(facts.history.totals, quote.currency)
    needed, rule = MIN_VALIDITY_DAYS, f"At least {MIN_VALIDITY_DAYS} days left on any quote"
    if quote.total >= threshold:
        needed, rule = LARGE_VALIDITY_DAYS, f"At least {LARGE_VALIDITY_DAYS} days for a quote of {how} or more"
        rule += f" ({_money(threshold, quote.currency)})" if len(facts.history.totals) >= MIN_TOTALS else ""
    if days >= needed:
        return []
    left = "expired" if days < 0 else f"{days} day{'s' * (days != 1)} left"
    return [
        Risk(
            "validity_short",
            f"The validity is too short for {_money(quote.total, quote.currency)}: {left}.",
            rule + ".",
            f"Valid until {quote.valid_until:%B %-d, %Y}: {left}, {needed} needed.",
        )
    ]


def _line_name(line: Any) -> str:
    return (line.description or "").splitlines()[0][:60] if line.description else f"Line {line.position + 1}"


def is_vague(description: str, *, has_product: bool) -> bool:
    words = re.findall(r"[a-z0-9]+", description.lower())
    meaningful = [word for word in words if word not in GENERIC_WORDS and not word.isdigit()]
    return not meaningful or (not has_product and len(meaningful) < VAGUE_MIN_WORDS)


def vague_risks(facts: QuoteFacts) -> list[Risk]:
    risks = [
        Risk(
            "vague",
            f"“{_line_name(line) or 'An empty line'}” does not say what the customer gets.",
            f"A line made only of generic words, or a free line with fewer than {VAGUE_MIN_WORDS} specific words.",
            f"{len((line.description or '').split())} word(s): “{(line.description or '').strip()[:60]}”.",
            line_id=line.pk,
        )
        for line in facts.items
        if is_vague(line.description or "", has_product=line.product_id is not None)
    ]
    return risks[:MAX_RISKS_PER_RULE]


def quote_scope_analyze(
    quote: Quote, *, user: Any = None, show_margin: bool = False, facts: QuoteFacts | None = None
) -> Scope:
    """The scope in one paragraph and every risk that fires, each recorded as a run. Margin risks only with
    `show_margin` (people with `quotes.margin`)."""
    facts = facts or quote_facts(quote)
    risks = [
        replace(risk, run_id=_record("risk", facts, f"{risk.message} {risk.figure}", user,
                                     code=risk.code, line_id=risk.line_id, product_id=risk.product_id))
        for risk in _risks(facts, show_margin=show_margin)
    ]  # fmt: skip
    return Scope(_scope_summary(facts), risks)


def _risks(facts: QuoteFacts, *, show_margin: bool) -> list[Risk]:
    found = [*missing_line_risks(facts), *discount_risks(facts)]
    if show_margin:
        found += margin_risks(facts)
    return [*found, *validity_risks(facts), *vague_risks(facts)]


# --- Questions for the customer -----------------------------------------------------------------------------------

QUESTION_BY_RISK = {
    "missing_line": "Do you also need {product}? Most customers with a similar setup include it.",
    "validity_missing": "When do you expect to make a decision, so we can keep the offer open until then?",
    "validity_short": "When do you expect to make a decision, so we can keep the offer open until then?",
    "vague": "What exactly should “{line}” cover?",
}


def _note_mentions(facts: QuoteFacts) -> list[Question]:
    """Catalog products the lead's notes name that the quote does not have."""
    text = " ".join(f"{note.subject} {note.notes}" for note in facts.notes).lower()
    found = []
    for product in facts.products.values():
        if product.pk in facts.basket or len(product.name) < 4:
            continue
        if re.search(rf"\b{re.escape(product.name.lower())}\b", text):
            note = next(n for n in facts.notes if product.name.lower() in f"{n.subject} {n.notes}".lower())
            found.append(
                Question(
                    f"You mentioned {product.name}: should we add it to the quote?",
                    f"The lead's {note.kind_label.lower()} “{note.subject}” names it; the quote does not have it.",
                )
            )
    return found[:2]


def _history_questions(facts: QuoteFacts) -> list[Question]:
    if not facts.quote.lead_id:
        return []
    if not facts.notes:
        return [
            Question(
                "Who else takes part in the decision, and what would make it easy for them to say yes?",
                "No call, email or meeting is logged on the lead yet.",
            )
        ]
    questions = _note_mentions(facts)
    open_points = [
        (note, sentence.strip())
        for note in facts.notes
        for sentence in re.split(r"(?<=[.?!])\s+", note.notes)
        if sentence.strip().endswith("?")
    ]
    for note, sentence in open_points[:2]:
        questions.append(
            Question(
                f"Following up on “{sentence[:160]}”: is this settled for you?",
                f"An open question in the lead's {note.kind_label.lower()} “{note.subject}”.",
            )
        )
    return questions


def quote_clarifying_questions(
    quote: Quote, *, user: Any = None, scope: Scope | None = None, facts: QuoteFacts | None = None
) -> list[Question]:
    """Questions to ask the customer: from the gaps the scope analysis found and from the lead's history."""
    facts = facts or quote_facts(quote)
    questions = clarifying_questions(facts, risks=scope.risks if scope is not None else None)
    return [Question(q.text, q.because, _record("question", facts, q.text, user, because=q.because)) for q in questions]


def clarifying_questions(facts: QuoteFacts, *, risks: Sequence[Risk] | None = None) -> list[Question]:
    """The questions of quote_clarifying_questions, not recorded as AI runs."""
    risks = _risks(facts, show_margin=False) if risks is None else risks
    lines = {line.pk: line for line in facts.items}
    questions, asked = [], set()
    for risk in risks:
        template = QUESTION_BY_RISK.get(risk.code)
        if template is None:
            continue
        line = lines.get(risk.line_id)
        text = template.format(
            product=facts.name(risk.product_id) if risk.product_id else "",
            line=_line_name(line) if line is not None else "",
        )
        if text not in asked:
            asked.add(text)
            questions.append(Question(text, f"{risk.message} {risk.figure}"))
    if facts.items and not facts.quote.payment_terms:
        questions.append(Question("Which payment terms suit you?", "The quote has no payment terms yet."))
    if facts.items and not facts.quote.contact_id:
        questions.append(Question("Who should receive and sign the quote?", "The quote names no contact."))
    return questions + _history_questions(facts)


def open_quotes_questions(*, since: datetime, limit: int = 300) -> list[tuple[Quote, list[Question]]]:
    """The clarifying questions of each open quote (draft, sent or viewed) created or sent since `since`, newest
    first, for reports. Not recorded: a report shows no seller a suggestion to accept or dismiss, and runs without
    feedback would lower the copilot's measured acceptance. The catalog and the accepted history are read once per
    currency (open quotes are never part of the accepted history), then two queries a quote (lines, lead notes)."""
    quotes = list(
        Quote.objects.open().filter(Q(created__gte=since) | Q(sent_at__gte=since)).order_by("-created", "-id")[:limit]
    )
    shared: dict[str, tuple] = {}
    today = timezone.localdate()
    found = []
    for quote in quotes:
        if quote.currency not in shared:
            history = selectors.accepted_history(currency=quote.currency)
            shared[quote.currency] = (
                {product.pk: product for product in selectors.copilot_products(currency=quote.currency)},
                history,
                recommend.association_rules(history.baskets),
                recommend.popular_products(history.baskets) if history.baskets else (),
            )
        products, history, rules, popular = shared[quote.currency]
        notes = leads.lead_notes(lead_id=quote.lead_id) if quote.lead_id else []
        facts = QuoteFacts(quote, selectors.quote_sheet(quote=quote), products, history, rules, popular, notes, today)
        found.append((quote, clarifying_questions(facts)))
    return found


# --- Upsells and cross-sells --------------------------------------------------------------------------------------


def rank_cross_sells(
    basket: Iterable[Any],
    rules: Sequence[recommend.Rule],
    popular: Sequence[tuple[Any, float]],
    category: Mapping[Any, str],
    *,
    k: int = SUGGESTIONS,
    names: Mapping[Any, str] | None = None,
    exclude: Iterable[Any] = (),
) -> list[recommend.Suggestion]:
    """Products of the categories the basket does not have: rules, then popularity."""
    basket = frozenset(basket)
    inside = {category.get(product) for product in basket}
    return recommend.upsell_suggestions(
        basket, rules, k, popular=popular, names=names, exclude=exclude,
        keep=lambda product: product in category and category[product] not in inside,
    )  # fmt: skip


def rank_upsells(
    basket: Iterable[Any],
    rules: Sequence[recommend.Rule],
    popular: Sequence[tuple[Any, float]],
    category: Mapping[Any, str],
    price: Mapping[Any, Decimal | None],
    *,
    k: int = SUGGESTIONS,
    names: Mapping[Any, str] | None = None,
    vectors: Mapping[Any, Sequence[float]] | None = None,
    exclude: Iterable[Any] = (),
) -> list[recommend.Suggestion]:
    """Products of the basket's categories priced above the dearest one the basket has there: rules, then
    catalog similarity (with `vectors`), then popularity."""
    basket = frozenset(basket)
    top: dict[str, Decimal] = {}
    for product in basket:
        if product in category and price.get(product) is not None:
            top[category[product]] = max(top.get(category[product], Decimal(0)), price[product])

    def keep(product: Any) -> bool:
        group = category.get(product)
        return group in top and price.get(product) is not None and price[product] > top[group]

    return recommend.upsell_suggestions(
        basket, rules, k, vectors=vectors, popular=popular, names=names, exclude=exclude, keep=keep
    )


def _product_text(product: Product) -> str:
    return f"{product.name}. {product.category}. {product.description}"[:500]


def _vectors(facts: QuoteFacts, candidates: Iterable[int]) -> dict[int, Sequence[float]] | None:
    """Embeddings (the local model, through ai.facade) of the basket's products and the candidates."""
    ids = sorted(set(candidates) | set(facts.basket))[:SIMILAR_CANDIDATES]
    ids = [product_id for product_id in ids if product_id in facts.products]
    if len(ids) < 2:
        return None
    try:
        result = ai.embed([_product_text(facts.products[product_id]) for product_id in ids], feature="quote_upsell")
    except (ai.AIUnavailable, ai.AIInputError):
        logger.info("quote %s: no catalog vectors, upsells without similarity", facts.quote.pk)
        return None
    return dict(zip(ids, result.vectors, strict=True))


def _suggestions(kind: str, ranked: list[recommend.Suggestion], facts: QuoteFacts, user: Any) -> list[Suggestion]:
    currency, out = facts.quote.currency, []
    for item in ranked:
        product = facts.products[item.product]
        reason = item.reason
        if kind == "upsell":
            on_quote = [
                p for p in facts.basket if p in facts.products and facts.products[p].category == product.category
            ]
            dearest = max(on_quote, key=lambda p: facts.products[p].price or 0)
            reason = (
                f"A step up in {product.category}: {_money(product.price, currency)} a {product.unit} against "
                f"{_money(facts.products[dearest].price, currency)} for {facts.products[dearest].name}. {reason}"
            )
        rule = item.rule
        text = f"{product.name}: {reason}"
        run_id = _record(kind, facts, text, user, product_id=product.pk, source=item.source)
        out.append(
            Suggestion(
                kind, product.pk, product.sku, product.name, product.category,
                None if product.price is None else f"{product.price:f}", item.source, reason,
                round(rule.confidence, 4) if rule else None, round(rule.lift, 3) if rule else None, run_id,
            )
        )  # fmt: skip
    return out


def _catalog_maps(facts: QuoteFacts) -> tuple[dict[int, str], dict[int, Decimal | None], dict[int, str]]:
    products = facts.products.values()
    category = {p.pk: p.category for p in products}
    # A product without a price in the quote's currency cannot be added: never offered, never a tier anchor.
    price = {p.pk: p.price for p in products}
    return category, price, {p.pk: p.name for p in products}


def quote_upsells(quote: Quote, *, user: Any = None, facts: QuoteFacts | None = None) -> list[Suggestion]:
    facts = facts or quote_facts(quote)
    category, price, names = _catalog_maps(facts)
    unpriced = {product_id for product_id, value in price.items() if value is None}
    in_categories = {p for p, group in category.items() if group in {category.get(b) for b in facts.basket}}
    vectors = _vectors(facts, in_categories - unpriced) if in_categories - facts.basket else None
    ranked = rank_upsells(
        facts.basket, facts.rules, facts.popular, category, price, names=names, vectors=vectors, exclude=unpriced
    )
    return _suggestions("upsell", ranked, facts, user)


def quote_cross_sells(quote: Quote, *, user: Any = None, facts: QuoteFacts | None = None) -> list[Suggestion]:
    facts = facts or quote_facts(quote)
    category, price, names = _catalog_maps(facts)
    unpriced = {product_id for product_id, value in price.items() if value is None}
    if not facts.basket:
        return []
    ranked = rank_cross_sells(facts.basket, facts.rules, facts.popular, category, names=names, exclude=unpriced)
    return _suggestions("cross_sell", ranked, facts, user)


# --- Everything at once (the builder's panel, the API) ---------------------------------------------------------


@dataclass(frozen=True)
class CopilotReport:
    scope: Scope
    questions: list[Question]
    upsells: list[Suggestion]
    cross_sells: list[Suggestion]
    summary: Any  # quotes.copilot_writing.Writing
    email: Any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def quote_copilot(
    quote: Quote, *, user: Any = None, show_margin: bool = False, today: date | None = None
) -> CopilotReport:
    """Every part of the copilot from one read of the facts."""
    from .copilot_writing import quote_email_copy, quote_executive_summary  # it builds on this module's facts

    facts = quote_facts(quote, today=today)
    scope = quote_scope_analyze(quote, user=user, show_margin=show_margin, facts=facts)
    return CopilotReport(
        scope=scope,
        questions=quote_clarifying_questions(quote, user=user, scope=scope, facts=facts),
        upsells=quote_upsells(quote, user=user, facts=facts),
        cross_sells=quote_cross_sells(quote, user=user, facts=facts),
        summary=quote_executive_summary(quote, user=user, facts=facts),
        email=quote_email_copy(quote, user=user, facts=facts),
    )
