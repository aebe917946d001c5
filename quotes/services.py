"""Every write to quotes: create (numbered), header edits, lines (add, change, remove, reorder), status changes,
revisions, and the beat's expiry of quotes past their validity date. Each write locks the quote row, checks the
editor's version, bumps it and stores fresh totals.

Revisions: a quote is edited as its current `revision`; sending freezes that revision (QuoteRevision, lines and
totals as JSON). Editing a quote that was sent (or viewed, declined, expired) opens the next revision and puts the
quote back to draft, so what the customer saw stays readable. An accepted quote is closed to edits.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.changes import event_send_on_commit
from customers import facade as customers
from leads import facade as leads

from . import printing
from .contracts import QUOTE_ACCEPTED, QUOTE_DECLINED, QUOTE_SENT, automation_event
from .models import (
    EventKind,
    LineKind,
    Product,
    Quote,
    QuoteEvent,
    QuoteLine,
    QuoteRevision,
    QuoteSequence,
    QuoteStatus,
    QuoteTemplate,
)
from .public import quote_public_url
from .totals import quote_totals

SEQUENCE = "quote"
DEFAULT_VALIDITY_DAYS = 30
# Edits by the same person within this window are one "edited" event on the timelines, with a count.
EDIT_EVENT_WINDOW = datetime.timedelta(minutes=15)
QUOTE_FIELDS = frozenset({"title", "contact", "currency", "valid_until", "payment_terms", "notes", "terms", "owner"})
LINE_FIELDS = frozenset(
    {"description", "quantity", "unit", "unit_price", "discount", "tax_rate", "optional", "selected"}
)
DECIMAL_FIELDS = {"quantity": 3, "unit_price": 4, "discount": 2, "tax_rate": 2}

# Where each status may go by hand (the API, the builder). Editing a sent quote goes back to draft by itself.
TRANSITIONS: dict[str, frozenset[str]] = {
    QuoteStatus.DRAFT: frozenset({QuoteStatus.SENT}),
    QuoteStatus.SENT: frozenset({QuoteStatus.VIEWED, QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED}),
    QuoteStatus.VIEWED: frozenset({QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED}),
    QuoteStatus.DECLINED: frozenset(),
    QuoteStatus.EXPIRED: frozenset(),
    QuoteStatus.ACCEPTED: frozenset(),
}
CLOSED = frozenset({QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED})


class StaleQuote(ValidationError):
    """Someone else changed the quote since the editor loaded it: nothing was saved."""


# --- Numbering ----------------------------------------------------------------------------------


def quote_number_next() -> int:
    """The next quote number. Must run inside the transaction that creates the quote: the sequence row stays
    locked until it commits (concurrent creators wait their turn) and a rollback gives the number back."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("quote_number_next must run inside the creating transaction.")
    QuoteSequence.objects.bulk_create([QuoteSequence(name=SEQUENCE)], ignore_conflicts=True)
    sequence = QuoteSequence.objects.select_for_update().get(name=SEQUENCE)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


# --- Helpers ------------------------------------------------------------------------------------


def _lock(quote: Quote, expected_version: int | None) -> Quote:
    """The quote's row, locked; refuses a stale editor (StaleQuote) and an accepted quote."""
    locked = Quote.objects.select_for_update().get(pk=quote.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleQuote(
            "Someone else changed this quote while you were editing it. Reload to see their change, then try again.",
            code="stale",
        )
    return locked


def _check_editable(quote: Quote) -> None:
    if not quote.editable:
        raise ValidationError("This quote was accepted: it can no longer change.", code="accepted")


def _decimal(value: Any, name: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "") or "0")
    except InvalidOperation:
        raise ValidationError({name: f"“{value}” is not a number."}, code="not_a_number") from None
    if not number.is_finite() or number < 0:
        raise ValidationError({name: "Use a number of 0 or more."}, code="negative")
    return number.quantize(Decimal(1).scaleb(-DECIMAL_FIELDS[name]))


def _event(quote: Quote, kind: str, actor, **fields: Any) -> QuoteEvent:
    return QuoteEvent.objects.create(quote=quote, kind=kind, actor=actor, revision=quote.revision, **fields)


def _edited_event(quote: Quote, actor, summary: str) -> None:
    """One "edited" event per person per editing session: a recent one of theirs counts this change too."""
    now = timezone.now()
    recent = (
        QuoteEvent.objects.filter(quote=quote, kind=EventKind.EDITED, actor=actor, revision=quote.revision)
        .filter(at__gte=now - EDIT_EVENT_WINDOW)
        .order_by("-at", "-id")
        .first()
    )
    if recent is not None:
        QuoteEvent.objects.filter(pk=recent.pk).update(changes=F("changes") + 1, at=now, summary=summary[:300])
    else:
        _event(quote, EventKind.EDITED, actor, summary=summary[:300])


def _open_for_edit(quote: Quote, actor) -> None:
    """Before a change: a sent (viewed, declined, expired) quote opens its next revision, back in draft."""
    _check_editable(quote)
    if quote.status == QuoteStatus.DRAFT:
        return
    previous = quote.status
    quote.revision += 1
    quote.status = QuoteStatus.DRAFT
    quote.closed_at = None
    quote.decline_reason = ""
    _event(
        quote,
        EventKind.REVISED,
        actor,
        from_status=previous,
        to_status=QuoteStatus.DRAFT,
        summary=f"Revision {quote.revision} opened; revision {quote.revision - 1} stays as it was sent.",
    )


def _lines(quote: Quote) -> list[QuoteLine]:
    return list(QuoteLine.objects.filter(quote=quote).order_by("position", "id"))


def _save(quote: Quote, fields: Sequence[str] = ()) -> Quote:
    """Recomputes the totals from the lines and saves them with `fields`, the next version and `updated`."""
    totals = quote_totals(_lines(quote), quote.currency)
    quote.subtotal, quote.tax_total, quote.total = totals.subtotal, totals.tax_total, totals.total
    quote.updated = timezone.now()
    quote.version = F("version") + 1
    names = {*fields, "subtotal", "tax_total", "total", "updated", "version", "revision", "status", "closed_at"}
    quote.save(update_fields=sorted(names | {"decline_reason"}))
    quote.refresh_from_db(fields=["version"])
    return quote


# --- Quotes -------------------------------------------------------------------------------------


def _party(lead_id: int | None, customer_id: int | None, contact_id: int | None) -> tuple[Any, int | None, int | None]:
    """The lead (summary), company and contact ids the quote is for, checked through the owners' facades."""
    lead = None
    if lead_id is not None:
        lead = leads.lead_summary(lead_id=lead_id)
        if lead is None:
            raise ValidationError({"lead": "No such lead in this workspace."}, code="no_lead")
        customer_id = customer_id or lead.customer_id
        contact_id = contact_id or lead.contact_id
    if customer_id is not None and customers.customer_name(customer_id=customer_id) is None:
        raise ValidationError({"customer": "No such company in this workspace."}, code="no_customer")
    if contact_id is not None:
        works_at = customers.contact_customer_id(contact_id=contact_id)
        if works_at is None:
            raise ValidationError({"contact": "No such contact in this workspace."}, code="no_contact")
        if customer_id is None:
            customer_id = works_at
        elif works_at != customer_id:
            raise ValidationError({"contact": "This contact works at another company."}, code="other_company")
    if lead is None and customer_id is None:
        raise ValidationError("A quote is for a lead or a company: choose one.", code="no_party")
    return lead, customer_id, contact_id


@transaction.atomic
def quote_create(
    *,
    actor,
    title: str = "",
    lead_id: int | None = None,
    customer_id: int | None = None,
    contact_id: int | None = None,
    currency: str = "",
    valid_until: datetime.date | None = None,
    payment_terms: str = "",
    notes: str = "",
    terms: str = "",
    owner=None,
    template: QuoteTemplate | None = None,
    at: datetime.datetime | None = None,
) -> Quote:
    """A draft quote for a lead or a company (the lead's company and contact when not given), numbered from the
    workspace's sequence, with the template's lines and texts when one is given."""
    lead, customer_id, contact_id = _party(lead_id, customer_id, contact_id)
    now = at or timezone.now()
    validity = template.validity_days if template else DEFAULT_VALIDITY_DAYS
    quote = Quote(
        title=(title or "").strip() or (lead.title if lead else "Quote"),
        lead_id=lead.id if lead else None,
        customer_id=customer_id,
        contact_id=contact_id,
        currency=((currency or (lead.currency if lead else "")) or "USD").strip().upper(),
        valid_until=valid_until or (now + datetime.timedelta(days=validity)).date(),
        payment_terms=(payment_terms or (template.payment_terms if template else "")).strip(),
        notes=(notes or (template.notes if template else "")).strip(),
        terms=(terms or (template.terms if template else "")).strip(),
        owner=owner if owner is not None else actor,
        created=now,
        updated=now,
    )
    quote.number = 0
    quote.full_clean(exclude=["number"])
    quote.number = quote_number_next()
    quote.save()
    if template is not None:
        _template_lines(quote, template)
        _save(quote)
    _event(quote, EventKind.CREATED, actor, to_status=QuoteStatus.DRAFT, summary=quote.title)
    return quote


def _template_lines(quote: Quote, template: QuoteTemplate) -> None:
    skus = {row.get("sku") for row in template.lines if row.get("sku")}
    products = {product.sku: product for product in Product.objects.filter(sku__in=skus).prefetch_related("prices")}
    lines = []
    for position, row in enumerate(template.lines):
        product = products.get(row.get("sku") or "")
        line = _line_from_product(quote, product) if product else QuoteLine(quote=quote)
        line.kind = row.get("kind") or LineKind.ITEM
        line.position = position
        line.description = row.get("description") or line.description
        line.quantity = _decimal(row.get("quantity", 1), "quantity")
        line.discount = _decimal(row.get("discount", 0), "discount")
        line.optional = bool(row.get("optional"))
        line.selected = not line.optional
        lines.append(line)
    QuoteLine.objects.bulk_create(lines)


@transaction.atomic
def quote_update(*, quote: Quote, actor, data: Mapping[str, Any], expected_version: int | None = None) -> Quote:
    """Changes the header fields in `data`; a changed currency keeps the lines' prices as they are."""
    unknown = set(data) - QUOTE_FIELDS
    if unknown:
        raise TypeError(f"Quotes have no editable field(s) {', '.join(sorted(unknown))}.")
    quote = _lock(quote, expected_version)
    values = dict(data)
    if "currency" in values:
        values["currency"] = (values["currency"] or "USD").strip().upper()
    for name in ("title", "payment_terms", "notes", "terms"):
        if name in values:
            values[name] = (values[name] or "").strip()
    changed = [name for name, value in values.items() if getattr(quote, name) != value]
    if not changed:
        return quote
    _open_for_edit(quote, actor)
    for name in changed:
        setattr(quote, name, values[name])
    contact_moved = "contact" in changed and quote.contact_id and quote.customer_id
    if contact_moved and customers.contact_customer_id(contact_id=quote.contact_id) != quote.customer_id:
        raise ValidationError({"contact": "This contact works at another company."}, code="other_company")
    quote.full_clean()
    _edited_event(quote, actor, "Changed " + ", ".join(sorted(changed)).replace("_", " "))
    if "valid_until" in changed:
        quote.expiry_reminded_at = None  # a new validity date earns a new reminder before it
        changed.append("expiry_reminded_at")
    return _save(quote, changed)


# --- Lines --------------------------------------------------------------------------------------


def _line_from_product(quote: Quote, product: Product) -> QuoteLine:
    """A line for `product` in the quote's currency: its price there (0 when it has none), tax, unit, cost."""
    price = next((p.unit_price for p in product.prices.all() if p.currency == quote.currency), Decimal(0))
    description = product.name
    parts = getattr(product, "parts_text", "")
    if product.description:
        description += "\n" + product.description
    if parts:
        description += "\nIncludes: " + parts
    cost = product.cost if product.cost is not None and product.cost_currency == quote.currency else None
    return QuoteLine(
        quote=quote,
        kind=LineKind.ITEM,
        product=product,
        description=description,
        unit=product.unit,
        unit_price=price,
        tax_rate=product.tax_rate,
        unit_cost=cost,
    )


@transaction.atomic
def quote_line_add(
    *,
    quote: Quote,
    actor,
    product: Product | None = None,
    kind: str = LineKind.ITEM,
    data: Mapping[str, Any] | None = None,
    position: int | None = None,
    expected_version: int | None = None,
) -> QuoteLine:
    """A product line (its price in the quote's currency), a free line, or a section heading; at the end unless
    `position` (0 = first) is given."""
    quote = _lock(quote, expected_version)
    _open_for_edit(quote, actor)
    if product is not None:
        if not product.active:
            raise ValidationError({"product": f"{product.name} is no longer sold."}, code="inactive")
        line = _line_from_product(quote, product)
    else:
        line = QuoteLine(quote=quote, kind=kind)
    _apply_line_data(line, data or {})
    if line.kind == LineKind.SECTION:
        line.quantity, line.unit_price, line.discount, line.optional = Decimal(0), Decimal(0), Decimal(0), False
        line.description = line.description.strip() or "Section"
    siblings = _lines(quote)
    index = len(siblings) if position is None else max(0, min(position, len(siblings)))
    line.position = index
    line.full_clean()
    line.save()
    siblings.insert(index, line)
    _renumber(siblings)
    _edited_event(quote, actor, f"Added {line.description.splitlines()[0][:80] if line.description else 'a line'}")
    _save(quote)
    line.quote = quote
    return line


def _apply_line_data(line: QuoteLine, data: Mapping[str, Any]) -> list[str]:
    unknown = set(data) - LINE_FIELDS
    if unknown:
        raise TypeError(f"Quote lines have no editable field(s) {', '.join(sorted(unknown))}.")
    changed = []
    for name, value in data.items():
        if name in DECIMAL_FIELDS:
            value = _decimal(value, name)
        elif name in ("description", "unit"):
            value = (value or "").strip()
        elif name in ("optional", "selected"):
            value = bool(value)
        if getattr(line, name) != value:
            setattr(line, name, value)
            changed.append(name)
    if "optional" in changed and not line.optional:
        line.selected = True  # a line made compulsory again counts
    return changed


def _renumber(lines: list[QuoteLine]) -> None:
    moved = []
    for index, line in enumerate(lines):
        if line.position != index:
            line.position = index
            moved.append(line)
    if moved:
        QuoteLine.objects.bulk_update(moved, ["position"])


@transaction.atomic
def quote_line_update(
    *, line: QuoteLine, actor, data: Mapping[str, Any], expected_version: int | None = None
) -> QuoteLine:
    """Changes the line's fields in `data` (quantity, price, discount, tax, description, optional, selected)."""
    quote = _lock(line.quote, expected_version)
    line = QuoteLine.objects.get(pk=line.pk, quote=quote)
    changed = _apply_line_data(line, data)
    if not changed:
        line.quote = quote
        return line
    _open_for_edit(quote, actor)
    line.full_clean()
    line.save(update_fields=changed + (["selected"] if "optional" in changed else []))
    _edited_event(quote, actor, f"Changed {', '.join(changed).replace('_', ' ')} of a line")
    line.quote = _save(quote)
    return line


@transaction.atomic
def quote_line_remove(*, line: QuoteLine, actor, expected_version: int | None = None) -> Quote:
    quote = _lock(line.quote, expected_version)
    _open_for_edit(quote, actor)
    QuoteLine.objects.filter(pk=line.pk, quote=quote).delete()
    _renumber(_lines(quote))
    _edited_event(quote, actor, f"Removed {line.description.splitlines()[0][:80] if line.description else 'a line'}")
    return _save(quote)


@transaction.atomic
def quote_lines_reorder(*, quote: Quote, actor, line_ids: Sequence[int], expected_version: int | None = None) -> Quote:
    """Puts the lines in the order of `line_ids`, which must name every line of the quote once."""
    quote = _lock(quote, expected_version)
    lines = {line.pk: line for line in _lines(quote)}
    if sorted(line_ids) != sorted(lines):
        raise ValidationError("The new order must list every line of the quote once.", code="bad_order")
    ordered = [lines[line_id] for line_id in line_ids]
    if [line.pk for line in ordered] == list(lines):
        return quote
    _open_for_edit(quote, actor)
    _renumber(ordered)
    _edited_event(quote, actor, "Reordered the lines")
    return _save(quote)


@transaction.atomic
def quote_line_move(*, line: QuoteLine, actor, offset: int, expected_version: int | None = None) -> Quote:
    """Moves a line up (offset -1) or down (+1): the keyboard's reorder."""
    ids = list(QuoteLine.objects.filter(quote_id=line.quote_id).order_by("position", "id").values_list("id", flat=True))
    index = ids.index(line.pk)
    target = max(0, min(len(ids) - 1, index + offset))
    ids.insert(target, ids.pop(index))
    return quote_lines_reorder(quote=line.quote, actor=actor, line_ids=ids, expected_version=expected_version)


# --- Status and revisions -----------------------------------------------------------------------


def quote_snapshot(quote: Quote, lines: Sequence[QuoteLine]) -> dict[str, Any]:
    """What a revision freezes: the header the customer sees, every line and the totals."""
    totals = quote_totals(lines, quote.currency)
    return {
        "number": quote.reference,
        "title": quote.title,
        "currency": quote.currency,
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else None,
        "payment_terms": quote.payment_terms,
        "notes": quote.notes,
        "terms": quote.terms,
        "lines": [
            {
                "id": line.pk,
                "kind": line.kind,
                "product_id": line.product_id,
                "description": line.description,
                "quantity": str(line.quantity),
                "unit": line.unit,
                "unit_price": str(line.unit_price),
                "discount": str(line.discount),
                "tax_rate": str(line.tax_rate),
                "optional": line.optional,
                "selected": line.selected,
                "net": str(totals.nets[index]),
            }
            for index, line in enumerate(lines)
        ],
        "totals": totals.as_json(),
    }


def _freeze(quote: Quote, actor) -> QuoteRevision:
    """The current revision as sent, with what its PDF prints and the PDF's sha256 (quotes.printing); an existing
    one (re-sent unchanged) is kept as it was."""
    revision = QuoteRevision.objects.filter(quote=quote, number=quote.revision).first()
    if revision is None:
        link = quote_public_url(quote=quote, revision=quote.revision)
        snapshot = quote_snapshot(quote, _lines(quote)) | {"print": printing.print_fields(quote, public_url=link)}
        pdf = printing.snapshot_pdf(snapshot, revision=quote.revision)
        revision = QuoteRevision.objects.create(
            quote=quote,
            number=quote.revision,
            snapshot=snapshot,
            pdf_sha256=printing.pdf_sha256(pdf),
            created_by=actor,
        )
    return revision


# Status changes automation rules can start from (quotes.contracts.automation_event).
AUTOMATION_STATUS_EVENTS = {
    QuoteStatus.SENT: QUOTE_SENT,
    QuoteStatus.ACCEPTED: QUOTE_ACCEPTED,
    QuoteStatus.DECLINED: QUOTE_DECLINED,
}


@transaction.atomic
def quote_status_set(
    *, quote: Quote, status: str, actor, reason: str = "", summary: str = "", expected_version: int | None = None
) -> Quote:
    """Moves the quote along draft → sent → viewed → accepted / declined / expired (see TRANSITIONS).

    Sending freezes the revision; acceptance marks that revision accepted and the lead won; declining needs a
    reason. `summary` is what the timelines say (default: the reason, or the revision). ValidationError for a move
    the quote's status does not allow.
    """
    quote = _lock(quote, expected_version)
    if status not in QuoteStatus.values:
        raise ValidationError({"status": f"Unknown status “{status}”."}, code="bad_status")
    if status == quote.status:
        return quote
    if status not in TRANSITIONS[quote.status]:
        now_label, next_label = quote.get_status_display().lower(), QuoteStatus(status).label.lower()
        message = f"A {now_label} quote cannot become {next_label}."
        raise ValidationError({"status": ValidationError(message, code="bad_transition")})
    reason = (reason or "").strip()
    if status == QuoteStatus.DECLINED and not reason:
        raise ValidationError({"reason": ValidationError("Say why the quote was declined.", code="reason_required")})
    if status == QuoteStatus.SENT and not QuoteLine.objects.filter(quote=quote, kind=LineKind.ITEM).exists():
        raise ValidationError("Add at least one line before sending the quote.", code="empty")
    now = timezone.now()
    previous, quote.status = quote.status, status
    if status == QuoteStatus.SENT:
        _freeze(quote, actor)
        quote.sent_at = now
    if status in CLOSED:
        quote.closed_at = now
    if status == QuoteStatus.DECLINED:
        quote.decline_reason = reason[:300]
    if status == QuoteStatus.ACCEPTED:
        quote.accepted_at = now
        QuoteRevision.objects.filter(pk=_freeze(quote, actor).pk).update(accepted=True)
    summary = summary or (reason if status == QuoteStatus.DECLINED else f"Revision {quote.revision}")
    _event(quote, EventKind.STATUS, actor, from_status=previous, to_status=status, summary=summary[:300])
    if status in AUTOMATION_STATUS_EVENTS:
        event_send_on_commit(
            automation_event, event=AUTOMATION_STATUS_EVENTS[status], object_id=quote.pk, changed=("status",)
        )
    _save(quote, ["sent_at", "accepted_at"])
    if status == QuoteStatus.ACCEPTED and quote.lead_id:
        leads.lead_win(lead_id=quote.lead_id, actor=actor)
    return quote


# --- Expiry (beat) ------------------------------------------------------------------------------

EXPIRY_BATCH = 200


def quotes_expire_due(*, today: datetime.date | None = None, batch: int = EXPIRY_BATCH) -> int:
    """Moves every sent or viewed quote whose validity date has passed (`valid_until` before today) to expired,
    through quote_status_set (no actor: the event says the system did it); returns how many.

    Each quote in its own short transaction, re-checked under its row lock, so an answer or an edit that lands
    meanwhile wins, and a quote someone holds locked is skipped (SKIP LOCKED) for the next run. Idempotent: an
    expired quote is no longer out, so running again (or twice at once) changes nothing.
    """
    today = today or timezone.localdate()
    due = Quote.objects.out().filter(valid_until__lt=today)
    expired, after = 0, 0
    while True:
        ids = list(due.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch])
        for quote_id in ids:
            expired += _quote_expire(due, quote_id)
        if len(ids) < batch:
            return expired
        after = ids[-1]


@transaction.atomic
def _quote_expire(due, quote_id: int) -> int:
    quote = due.select_for_update(skip_locked=True).filter(pk=quote_id).first()
    if quote is None:  # answered, edited or re-dated since it was listed, or locked by someone right now
        return 0
    quote_status_set(quote=quote, status=QuoteStatus.EXPIRED, actor=None, reason="")
    return 1
