"""Demo catalog (about 40 products in six categories, with bundles) and about 150 quotes from the demo leads.

How the co-purchase patterns are made (so "often sold with" and the upsell figures have something real to find):
each quote is built from one of four deal archetypes chosen by the lead's value, then add-ons are drawn with fixed
conditional probabilities that stand for how customers actually buy:

- Pro seats bring Live chat (70 %) and the Knowledge base (60 %); Live chat brings the AI assistant (60 %).
- Voice seats bring Phone numbers (95 %), Call recording (75 %) and Headsets (70 %); headsets bring Headset care.
- Enterprise seats bring SSO (90 %), the Audit log (70 %), the Sandbox (50 %) and a Customer success manager (60 %).
- Any deal above 50 seats brings Premium support (55 %); a data migration comes with Onboarding (always).
- Training comes with Pro or Enterprise seats (35 %), rarely otherwise (5 %).

Everything else is noise: 15 % of quotes get one random extra product. The quote follows its lead: won leads
have an accepted quote (sent before the win), lost ones a declined (or expired) one with the lead's reason, open
leads a draft, sent or viewed one. "Often sold with" relations are then learned from the accepted quotes
(confidence and lift of each pair, kept when lift > 1.2 and seen at least 4 times). Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from itertools import permutations

from django.db import transaction
from django.utils import timezone

from leads import facade as leads

from .models import (
    BundleItem,
    EventKind,
    Product,
    ProductPrice,
    ProductRelation,
    Quote,
    QuoteEvent,
    QuoteLine,
    QuoteRevision,
    QuoteSequence,
    QuoteStatus,
    QuoteTemplate,
)
from .services import SEQUENCE, quote_snapshot
from .totals import quote_totals

DEMO_QUOTES = 150
EUR_RATE, GBP_RATE = Decimal("0.92"), Decimal("0.79")
# (sku, name, category, unit, USD price, cost or None, tax %)
CATALOG = [
    ("SEAT-STARTER", "Starter seat", "Licences", "seat/month", 19, 4, 20),
    ("SEAT-PRO", "Pro seat", "Licences", "seat/month", 49, 9, 20),
    ("SEAT-ENT", "Enterprise seat", "Licences", "seat/month", 99, 15, 20),
    ("SEAT-VOICE", "Voice seat", "Licences", "seat/month", 35, 12, 20),
    ("SEAT-LIGHT", "Light agent", "Licences", "seat/month", 9, 2, 20),
    ("ADD-CHAT", "Live chat", "Add-ons", "workspace/month", 150, 20, 20),
    ("ADD-KB", "Knowledge base", "Add-ons", "workspace/month", 90, 10, 20),
    ("ADD-AI", "AI assistant", "Add-ons", "workspace/month", 300, 90, 20),
    ("ADD-SLA", "Advanced SLAs", "Add-ons", "workspace/month", 120, 10, 20),
    ("ADD-SSO", "Single sign-on", "Add-ons", "workspace/month", 200, 15, 20),
    ("ADD-AUDIT", "Audit log", "Add-ons", "workspace/month", 150, 15, 20),
    ("ADD-SANDBOX", "Sandbox workspace", "Add-ons", "workspace/month", 250, 60, 20),
    ("ADD-REC", "Call recording", "Add-ons", "seat/month", 8, 3, 20),
    ("ADD-NUMBER", "Phone number", "Add-ons", "number/month", 5, 2, 20),
    ("ADD-WFM", "Workforce planning", "Add-ons", "seat/month", 12, 3, 20),
    ("ADD-SURVEY", "CSAT surveys", "Add-ons", "workspace/month", 60, 5, 20),
    ("SVC-ONBOARD", "Onboarding", "Services", "package", 1500, 600, 0),
    ("SVC-MIGRATE", "Data migration", "Services", "package", 3500, 1400, 0),
    ("SVC-INTEGR", "Custom integration", "Services", "day", 1200, 500, 0),
    ("SVC-IVR", "IVR design", "Services", "package", 2000, 800, 0),
    ("SVC-WORKFLOW", "Workflow review", "Services", "day", 1000, 400, 0),
    ("SVC-HEALTH", "Quarterly health check", "Services", "quarter", 800, 300, 0),
    ("TRN-ADMIN", "Admin training", "Training", "session", 900, 250, 10),
    ("TRN-AGENT", "Agent training", "Training", "session", 600, 200, 10),
    ("TRN-ELEARN", "E-learning library", "Training", "seat/year", 30, 5, 10),
    ("TRN-AI", "AI prompt workshop", "Training", "session", 1200, 350, 10),
    ("SUP-PREMIUM", "Premium support", "Support plans", "year", 6000, 2000, 20),
    ("SUP-CSM", "Customer success manager", "Support plans", "year", 12000, 7000, 20),
    ("SUP-247", "24/7 phone support", "Support plans", "year", 4000, 1800, 20),
    ("SUP-UPTIME", "99.95 % uptime SLA", "Support plans", "year", 3000, 500, 20),
    ("HW-HEADSET", "USB headset", "Hardware", "unit", 89, 52, 20),
    ("HW-HEADSET-W", "Wireless headset", "Hardware", "unit", 179, 110, 20),
    ("HW-CARE", "Headset care (2 years)", "Hardware", "unit", 25, 6, 20),
    ("HW-DESKPHONE", "Desk phone", "Hardware", "unit", 149, 95, 20),
    ("HW-KIOSK", "Self-service kiosk", "Hardware", "unit", 1900, 1300, 20),
    ("HW-DISPLAY", "Wallboard display", "Hardware", "unit", 650, 420, 20),
    ("SVC-SECURITY", "Security review", "Services", "package", 2500, 900, 0),
    ("SVC-TRANSLATE", "Help center translation", "Services", "language", 700, 300, 0),
    ("ADD-LEGACY", "Legacy fax channel", "Add-ons", "workspace/month", 40, 10, 20),
]
INACTIVE = {"ADD-LEGACY"}
# (bundle sku, name, USD price, [(component sku, quantity)]): bundles are products too.
BUNDLES = [
    ("BND-VOICE10", "Voice starter pack (10 seats)", 650, [("SEAT-VOICE", 10), ("ADD-NUMBER", 2), ("HW-HEADSET", 10)]),
    ("BND-LAUNCH", "Launch package", 2200, [("SVC-ONBOARD", 1), ("TRN-ADMIN", 1)]),
]
TERMS = (
    "Prices exclude tax unless shown. Subscriptions renew yearly unless cancelled 30 days before the end of term. "
    "Services are invoiced on delivery. Our standard terms of service apply."
)
PAYMENT_TERMS = ("Net 30", "Net 30", "Net 45", "50 % upfront, 50 % on go-live", "Annual in advance")
DECLINE_REASONS = ("Budget cut", "Went with a competitor", "Too expensive", "No decision", "Timing")


def seed_quotes(*, owners: Sequence, quotes: int = DEMO_QUOTES, seed: int = 0) -> int:
    """Adds the catalog, a template and up to `quotes` quotes from the demo leads; 0 if any quote exists."""
    if Quote.objects.exists():
        return 0
    rng = random.Random(seed)
    with transaction.atomic():
        products = _catalog()
        _template()
        rows = [lead for lead in leads.lead_summaries(limit=2000) if lead.customer_id]
        rng.shuffle(rows)
        made = _quotes(rng, rows[:quotes], products, owners)
        _learn_relations(products)
    return len(made)


def seed_sent_quotes(*, lead_ids: Sequence[int], owners: Sequence, seed: int = 0) -> list[int]:
    """A quote sent to the customer and not answered yet for each of these open leads (other apps' demos: a deal
    they need pending), built from the demo catalog like the others; returns the new quotes' ids ([] without the
    demo catalog)."""
    products = {product.sku: product for product in Product.objects.filter(sku__in=[row[0] for row in CATALOG])}
    rows = [lead for lead in (leads.lead_summary(lead_id=pk) for pk in lead_ids) if lead and lead.customer_id]
    if len(products) < len(CATALOG) or not rows:
        return []
    with transaction.atomic():
        made = _quotes(random.Random(seed), rows, products, owners, fixed_status=QuoteStatus.SENT)
    return [quote.pk for quote in made]


def _catalog() -> dict[str, Product]:
    products = {}
    for sku, name, category, unit, _price, cost, tax in CATALOG:
        products[sku] = Product(
            sku=sku, name=name, category=category, unit=unit, tax_rate=Decimal(tax), cost=Decimal(cost),
            cost_currency="USD", active=sku not in INACTIVE,
        )  # fmt: skip
    for sku, name, _price, _ in BUNDLES:
        products[sku] = Product(sku=sku, name=name, category="Bundles", unit="pack", tax_rate=Decimal(20), cost=None)
    Product.objects.bulk_create(products.values())
    prices = {sku: Decimal(price) for sku, _, _, _, price, _, _ in CATALOG} | {b[0]: Decimal(b[2]) for b in BUNDLES}
    ProductPrice.objects.bulk_create(
        ProductPrice(product=products[sku], currency=currency, unit_price=(price * rate).quantize(Decimal("0.01")))
        for sku, price in prices.items()
        for currency, rate in (("USD", Decimal(1)), ("EUR", EUR_RATE), ("GBP", GBP_RATE))
    )
    BundleItem.objects.bulk_create(
        BundleItem(bundle=products[sku], component=products[part], quantity=Decimal(quantity))
        for sku, _, _, parts in BUNDLES
        for part, quantity in parts
    )
    return products


def _template() -> None:
    QuoteTemplate.objects.create(
        name="Helpdesk rollout",
        is_default=True,
        validity_days=30,
        payment_terms="Net 30",
        terms=TERMS,
        lines=[
            {"kind": "section", "description": "Subscription"},
            {"sku": "SEAT-PRO", "quantity": 10},
            {"sku": "ADD-CHAT", "quantity": 1},
            {"kind": "section", "description": "Services"},
            {"sku": "SVC-ONBOARD", "quantity": 1},
            {"sku": "TRN-ADMIN", "quantity": 1, "optional": True},
        ],
    )


def _basket(rng: random.Random, value: Decimal) -> list[tuple[str, int]]:
    """(sku, quantity) by the archetypes and conditional probabilities of the module docstring."""
    seats = max(3, min(400, int(value / 600)))

    def maybe(probability: float) -> bool:
        return rng.random() < probability

    archetype = rng.choices(["starter", "pro", "voice", "enterprise"], weights=[3, 4, 2, 1 + (value > 30000) * 4])[0]
    basket: dict[str, int] = {}
    if archetype == "starter":
        basket["SEAT-STARTER"] = seats
        if maybe(0.4):
            basket["ADD-KB"] = 1
    elif archetype == "pro":
        basket["SEAT-PRO"] = seats
        if maybe(0.7):
            basket["ADD-CHAT"] = 1
        if maybe(0.6):
            basket["ADD-KB"] = 1
    elif archetype == "voice":
        basket["SEAT-VOICE"] = seats
        if maybe(0.95):
            basket["ADD-NUMBER"] = max(1, seats // 5)
        if maybe(0.75):
            basket["ADD-REC"] = seats
        if maybe(0.7):
            basket["HW-HEADSET"] = seats
            if maybe(0.5):
                basket["HW-CARE"] = seats
        if maybe(0.3):
            basket["SVC-IVR"] = 1
    else:
        basket["SEAT-ENT"] = seats
        for sku, probability in (("ADD-SSO", 0.9), ("ADD-AUDIT", 0.7), ("ADD-SANDBOX", 0.5), ("SUP-CSM", 0.6)):
            if maybe(probability):
                basket[sku] = 1
    if "ADD-CHAT" in basket and maybe(0.6):
        basket["ADD-AI"] = 1
    if seats > 50 and maybe(0.55):
        basket["SUP-PREMIUM"] = 1
    if maybe(0.5):
        basket["SVC-ONBOARD"] = 1
        if maybe(0.3):
            basket["SVC-MIGRATE"] = 1
    if maybe(0.35 if archetype in ("pro", "enterprise") else 0.05):
        basket["TRN-ADMIN"] = 1
    if maybe(0.15):
        extra = rng.choice([row[0] for row in CATALOG if row[0] not in INACTIVE])
        basket.setdefault(extra, 1)
    return list(basket.items())


def _status(rng: random.Random, lead) -> str:
    if lead.status == "won":
        return QuoteStatus.ACCEPTED
    if lead.status == "lost":
        return QuoteStatus.DECLINED if rng.random() < 0.75 else QuoteStatus.EXPIRED
    return rng.choices([QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.VIEWED], weights=[3, 4, 3])[0]


def _quotes(
    rng: random.Random, rows: list, products: dict[str, Product], owners: Sequence, fixed_status: str = ""
) -> list[Quote]:
    """Quotes of these leads, with lines and history: in `fixed_status`, else in one following the lead's outcome."""
    now = timezone.now()
    QuoteSequence.objects.bulk_create([QuoteSequence(name=SEQUENCE)], ignore_conflicts=True)
    sequence = QuoteSequence.objects.select_for_update().get(name=SEQUENCE)
    plans = []
    for lead in sorted(rows, key=lambda row: row.created):
        status = fixed_status or _status(rng, lead)
        start = (lead.created or now) + timedelta(days=rng.uniform(1, 10))
        end = lead.closed_at or now
        created = min(start, end - timedelta(hours=6), now - timedelta(hours=1))
        sequence.last_value += 1
        quote = Quote(
            number=sequence.last_value, title=lead.title, lead_id=lead.id, customer_id=lead.customer_id,
            contact_id=lead.contact_id, currency="USD", valid_until=(created + timedelta(days=30)).date(),
            payment_terms=rng.choice(PAYMENT_TERMS), terms=TERMS, status=status,
            owner=rng.choice(owners) if owners else None, created=created,
            updated=end if status != QuoteStatus.DRAFT else created,
            sent_at=created + timedelta(hours=2) if status != QuoteStatus.DRAFT else None,
            accepted_at=end if status == QuoteStatus.ACCEPTED else None,
            closed_at=end if status in (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED) else None,
            decline_reason=(lead.lost_reason or rng.choice(DECLINE_REASONS)) if status == QuoteStatus.DECLINED else "",
        )  # fmt: skip
        plans.append((quote, _lines(rng, quote, products, lead.value)))
    sequence.save(update_fields=["last_value"])
    Quote.objects.bulk_create([quote for quote, _ in plans])
    for quote, lines in plans:
        for line in lines:
            line.quote = quote
        totals = quote_totals(lines, quote.currency)
        quote.subtotal, quote.tax_total, quote.total = totals.subtotal, totals.tax_total, totals.total
    QuoteLine.objects.bulk_create([line for _, lines in plans for line in lines], batch_size=2000)
    Quote.objects.bulk_update([quote for quote, _ in plans], ["subtotal", "tax_total", "total"], batch_size=500)
    _history(plans)
    return [quote for quote, _ in plans]


def _lines(rng: random.Random, quote: Quote, products: dict[str, Product], value: Decimal) -> list[QuoteLine]:
    lines = [QuoteLine(kind=QuoteLine.Kind.SECTION, description="Your solution", quantity=0)]
    for sku, quantity in _basket(rng, Decimal(value or 6000)):
        product = products[sku]
        price = next(row[4] for row in CATALOG if row[0] == sku)
        optional = sku.startswith("TRN-") and rng.random() < 0.5
        lines.append(
            QuoteLine(
                kind=QuoteLine.Kind.ITEM, product=product, description=product.name, quantity=Decimal(quantity),
                unit=product.unit, unit_price=Decimal(price), tax_rate=product.tax_rate, unit_cost=product.cost,
                discount=Decimal(rng.choice([0, 0, 0, 5, 10, 15])) if sku.startswith("SEAT") else Decimal(0),
                optional=optional, selected=not optional or quote.status == QuoteStatus.ACCEPTED,
            )
        )  # fmt: skip
    for position, line in enumerate(lines):
        line.position = position
    return lines


def _history(plans: list) -> None:
    events, revisions = [], []
    for quote, lines in plans:
        owner = quote.owner
        events.append(QuoteEvent(quote=quote, kind=EventKind.CREATED, to_status="draft", actor=owner, at=quote.created))
        if quote.status == QuoteStatus.DRAFT:
            continue
        revisions.append(
            QuoteRevision(
                quote=quote, number=1, snapshot=quote_snapshot(quote, lines), created_by=owner,
                accepted=quote.status == QuoteStatus.ACCEPTED, created=quote.sent_at,
            )
        )  # fmt: skip
        sent = {"from_status": "draft", "to_status": "sent", "summary": "Revision 1"}
        events.append(QuoteEvent(quote=quote, kind=EventKind.STATUS, actor=owner, at=quote.sent_at, **sent))
        if quote.status != QuoteStatus.SENT:
            summary = quote.decline_reason if quote.status == QuoteStatus.DECLINED else "Revision 1"
            events.append(
                QuoteEvent(
                    quote=quote, kind=EventKind.STATUS, from_status="sent", to_status=quote.status, actor=owner,
                    at=quote.closed_at or quote.updated, summary=summary,
                )
            )  # fmt: skip
    QuoteRevision.objects.bulk_create(revisions, batch_size=500)
    QuoteEvent.objects.bulk_create(events, batch_size=2000)


def _learn_relations(products: dict[str, Product]) -> None:
    """Pairs bought together in accepted quotes, kept when they beat chance (lift > 1.2, seen 4+ times)."""
    baskets = [set(skus) for skus in _accepted_baskets() if skus]
    if not baskets:
        return
    count = Counter(sku for basket in baskets for sku in basket)
    pairs = Counter(pair for basket in baskets for pair in permutations(sorted(basket), 2))
    total = len(baskets)
    relations = []
    for (a, b), together in pairs.items():
        confidence = together / count[a]
        lift = confidence / (count[b] / total)
        if together >= 4 and lift > 1.2 and a in products and b in products:
            relations.append(
                ProductRelation(
                    product=products[a], related=products[b], source=ProductRelation.Source.LEARNED,
                    confidence=Decimal(str(round(confidence, 4))), lift=Decimal(str(round(lift, 3))),
                )
            )  # fmt: skip
    ProductRelation.objects.bulk_create(relations, ignore_conflicts=True)


def _accepted_baskets() -> list[list[str]]:
    rows = QuoteLine.objects.filter(quote__status=QuoteStatus.ACCEPTED, product__isnull=False).values_list(
        "quote_id", "product__sku"
    )
    baskets: dict[int, list[str]] = {}
    for quote_id, sku in rows:
        baskets.setdefault(quote_id, []).append(sku)
    return list(baskets.values())
