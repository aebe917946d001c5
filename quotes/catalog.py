"""Writes to the catalog (products, their prices per currency, bundles, "often sold with") and its CSV import and
export, with the row-by-row report every import page shares (core.csv_io).

The file has one row per product keyed by SKU: a known SKU updates that product, a new one adds it. Prices are
columns `price_<currency>` for the catalog currencies; an empty price cell leaves that price as it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.csv_io import (
    Columns,
    CsvImportResult,
    CsvTable,
    ImportMode,
    ImportPlan,
    RowError,
    cell,
    extra_cells,
    map_header,
    read_csv,
    too_long,
)

from . import selectors
from .models import BundleItem, Product, ProductPrice, ProductRelation

CATALOG_CURRENCIES = ("USD", "EUR", "GBP")
PRODUCT_FIELDS = frozenset(
    {"sku", "name", "description", "unit", "category", "tax_rate", "cost", "cost_currency", "active"}
)
PRICE_COLUMNS = tuple(f"price_{currency.lower()}" for currency in CATALOG_CURRENCIES)
PRODUCT_COLUMNS = Columns(
    known=(
        "sku", "name", "description", "unit", "category", "tax_rate", "cost", "cost_currency", "active",
        *PRICE_COLUMNS,
    ),
    required=("sku", "name"),
    aliases={"product": "name", "code": "sku", "tax": "tax_rate", "vat": "tax_rate", "price": "price_usd"},
    ignored=("id", "created", "updated"),
)  # fmt: skip
TRUE_WORDS = {"", "1", "yes", "y", "true", "active"}
FALSE_WORDS = {"0", "no", "n", "false", "inactive"}


# --- Products -----------------------------------------------------------------------------------


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(values) - PRODUCT_FIELDS
    if unknown:
        raise TypeError(f"Products have no field(s) {', '.join(sorted(unknown))}.")
    cleaned = dict(values)
    for name in ("sku", "name", "unit", "category", "description"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    if "sku" in cleaned:
        cleaned["sku"] = cleaned["sku"].upper()
    if "cost_currency" in cleaned:
        cleaned["cost_currency"] = (cleaned["cost_currency"] or "USD").strip().upper()
    return cleaned


@transaction.atomic
def product_create(*, prices: Mapping[str, Decimal] | None = None, **values: Any) -> Product:
    product = Product(**_clean(values))
    product.full_clean()
    product.save()
    product_prices_set(product=product, prices=prices or {})
    return product


@transaction.atomic
def product_update(
    *, product: Product, data: Mapping[str, Any], prices: Mapping[str, Decimal] | None = None
) -> Product:
    values = _clean(data)
    changed = [name for name, value in values.items() if getattr(product, name) != value]
    for name in changed:
        setattr(product, name, values[name])
    if changed:
        product.updated = timezone.now()
        product.full_clean()
        product.save(update_fields=[*changed, "updated"])
    if prices:
        product_prices_set(product=product, prices=prices)
    return product


def product_prices_set(*, product: Product, prices: Mapping[str, Decimal | None]) -> None:
    """Sets the given currencies' prices; None removes that currency's price."""
    for currency, price in prices.items():
        currency = currency.strip().upper()
        if price is None:
            ProductPrice.objects.filter(product=product, currency=currency).delete()
            continue
        if Decimal(price) < 0:
            raise ValidationError({f"price_{currency.lower()}": "A price cannot be negative."}, code="negative")
        ProductPrice.objects.update_or_create(product=product, currency=currency, defaults={"unit_price": price})


@transaction.atomic
def bundle_items_set(*, bundle: Product, items: list[tuple[Product, Decimal]]) -> None:
    """Makes `bundle` consist of exactly these (component, quantity) pairs."""
    if any(component.pk == bundle.pk for component, _ in items):
        raise ValidationError("A bundle cannot contain itself.", code="self_bundle")
    BundleItem.objects.filter(bundle=bundle).delete()
    BundleItem.objects.bulk_create(BundleItem(bundle=bundle, component=c, quantity=q) for c, q in items)


def product_relation_set(
    *, product: Product, related: Product, source: str = ProductRelation.Source.MANUAL, **figures: Decimal
) -> ProductRelation:
    """ "Often sold with": adds (or refreshes) `related` next to `product`."""
    if product.pk == related.pk:
        raise ValidationError("A product is not sold with itself.", code="self_relation")
    relation, _ = ProductRelation.objects.update_or_create(
        product=product, related=related, defaults={"source": source, **figures}
    )
    return relation


# --- CSV ----------------------------------------------------------------------------------------


def catalog_export_lines() -> Iterator[list[Any]]:
    """The header, then one row per product in SKU order: what the import reads back unchanged."""
    yield list(PRODUCT_COLUMNS.known)
    for product in selectors.product_export_rows():
        prices = {price.currency: price.unit_price for price in product.prices.all()}
        yield [
            product.sku, product.name, product.description, product.unit, product.category, product.tax_rate,
            "" if product.cost is None else product.cost, product.cost_currency, "yes" if product.active else "no",
            *[prices.get(currency, "") for currency in CATALOG_CURRENCIES],
        ]  # fmt: skip


def _number(raw: str, label: str, messages: list[str], *, percent: bool = False) -> Decimal | None:
    text = raw.replace(",", "").replace(" ", "").removesuffix("%")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        messages.append(f"{label} “{raw}” is not a number; write it like 49 or 49.90.")
        return None
    if not value.is_finite() or value < 0 or (percent and value > 100):
        messages.append(f"{label} must be between 0 and {100 if percent else 'any amount'}.")
        return None
    return value


def _row(values: dict[str, str], messages: list[str], seen: dict[str, int], number: int) -> dict[str, Any]:
    sku = values.get("sku", "").strip().upper()
    if not sku:
        messages.append("The SKU is empty; every product needs one.")
    elif sku in seen:
        messages.append(f"Row {seen[sku]} already has the SKU {sku}.")
    else:
        seen[sku] = number
    name = values.get("name", "")
    if not name:
        messages.append("The name is empty.")
    too_long(messages, "The SKU", sku, 40)
    too_long(messages, "The name", name, 200)
    too_long(messages, "The category", values.get("category", ""), 60)
    active = values.get("active", "").strip().lower()
    if active not in TRUE_WORDS | FALSE_WORDS:
        messages.append(f"“{values['active']}” in active is neither yes nor no.")
    cost_currency = (values.get("cost_currency") or "USD").strip().upper()
    if len(cost_currency) != 3 or not cost_currency.isalpha():
        messages.append(f"The cost currency “{cost_currency}” is not a three-letter code like USD.")
    product = {
        "sku": sku,
        "name": name,
        "description": values.get("description", ""),
        "unit": values.get("unit", "") or "unit",
        "category": values.get("category", ""),
        "tax_rate": _number(values.get("tax_rate", ""), "The tax rate", messages, percent=True) or Decimal(0),
        "cost": _number(values.get("cost", ""), "The cost", messages),
        "cost_currency": cost_currency,
        "active": active not in FALSE_WORDS,
    }
    prices = {}
    for currency, column in zip(CATALOG_CURRENCIES, PRICE_COLUMNS, strict=True):
        price = _number(values.get(column, ""), f"The {currency} price", messages)
        if price is not None:
            prices[currency] = price
    return {"values": product, "prices": prices}


def plan_catalog_import(table: CsvTable) -> ImportPlan:
    positions = map_header(table.header, PRODUCT_COLUMNS)
    plan = ImportPlan(total_rows=len(table.rows))
    seen: dict[str, int] = {}
    for number, cells in table.rows:
        values = {name: cell(cells, positions, name) for name in positions}
        messages = extra_cells(cells, table.header)
        row = _row(values, messages, seen, number)
        if messages:
            plan.errors.append(RowError(row=number, label=values.get("sku", ""), messages=tuple(messages)))
        else:
            plan.valid.append(row)
    return plan


def catalog_import_csv(*, file, mode: str = ImportMode.ALL_OR_NOTHING) -> CsvImportResult:
    """Adds or updates (by SKU) the products of a CSV file; `created` counts both. File problems raise
    ValidationError; row problems are returned. ALL_OR_NOTHING writes nothing when a row has a problem."""
    if mode not in {ImportMode.ALL_OR_NOTHING, ImportMode.VALID_ONLY}:
        raise ValueError(f"Unknown import mode {mode!r}.")
    plan = plan_catalog_import(read_csv(file, max_bytes=settings.CSV_IMPORT_MAX_BYTES))
    if not plan.total_rows:
        raise ValidationError("The file has a header but no rows to import.", code="no_rows")
    if (plan.errors and mode == ImportMode.ALL_OR_NOTHING) or not plan.valid:
        return CsvImportResult(mode=mode, total_rows=plan.total_rows, created=0, errors=plan.errors)
    with transaction.atomic():
        existing = {p.sku: p for p in Product.objects.filter(sku__in=[row["values"]["sku"] for row in plan.valid])}
        for row in plan.valid:
            product = existing.get(row["values"]["sku"])
            if product is None:
                product_create(prices=row["prices"], **row["values"])
            else:
                product_update(product=product, data=row["values"], prices=row["prices"])
    return CsvImportResult(mode=mode, total_rows=plan.total_rows, created=len(plan.valid), errors=plan.errors)
