"""The catalog (products, prices per currency, bundles, "often sold with"), quotes with their lines, frozen
revisions and events, the per-workspace quote number sequence, and quote templates."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

PERCENT_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]
NON_NEGATIVE = [MinValueValidator(Decimal(0))]


# --- Catalog ------------------------------------------------------------------------------------


class ProductQuerySet(models.QuerySet):
    def active(self) -> ProductQuerySet:
        return self.filter(active=True)


class Product(models.Model):
    # One schema per workspace: unique here means unique within the workspace.
    sku = models.CharField("SKU", max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(
        max_length=20, default="unit", help_text="What a quantity of 1 is: unit, seat, hour, month…"
    )
    category = models.CharField(max_length=60, blank=True)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0, validators=PERCENT_VALIDATORS)
    # What one unit costs us, in `cost_currency`: a line in another currency has no margin (no FX guesses).
    cost = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True, validators=NON_NEGATIVE)
    cost_currency = models.CharField(max_length=3, default="USD")
    active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["category", "name", "id"]
        indexes = [
            models.Index(fields=["category", "name", "id"], name="product_category_name"),
            # Search as you type in the builder: name or SKU containing the text.
            models.Index(fields=["active", "name"], name="product_active_name"),
            GinIndex(name="product_name_trgm", fields=["name"], opclasses=["gin_trgm_ops"]),
            GinIndex(name="product_sku_trgm", fields=["sku"], opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class ProductPrice(models.Model):
    """The unit price of a product in one currency: a product is quotable in the currencies it has prices for."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(max_length=3)
    unit_price = models.DecimalField(max_digits=14, decimal_places=4, validators=NON_NEGATIVE)

    class Meta:
        ordering = ["product", "currency"]
        constraints = [models.UniqueConstraint(fields=["product", "currency"], name="productprice_product_currency")]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.unit_price} {self.currency}"


class BundleItem(models.Model):
    """A bundle is a product made of other products: quoting it adds its own line, its parts named in the text."""

    bundle = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="bundle_items")
    component = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="in_bundles")
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=1, validators=NON_NEGATIVE)

    class Meta:
        ordering = ["bundle", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "component"], name="bundleitem_bundle_component"),
            models.CheckConstraint(condition=~Q(bundle=models.F("component")), name="bundleitem_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.component_id} in {self.bundle_id}"


class RelationSource(models.TextChoices):
    MANUAL = "manual", "Set by hand"
    LEARNED = "learned", "Learned from accepted quotes"


class ProductRelation(models.Model):
    """ "Often sold with": `related` is offered next to `product` (one direction; the reverse is its own row)."""

    Source = RelationSource

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="relations")
    related = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    # Association-rule figures for learned relations (confidence, lift); 0 for manual ones.
    confidence = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    lift = models.DecimalField(max_digits=8, decimal_places=3, default=0)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["product", "-confidence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "related"], name="productrelation_pair"),
            models.CheckConstraint(condition=~Q(product=models.F("related")), name="productrelation_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.related_id}"


# --- Quotes -------------------------------------------------------------------------------------


class QuoteSequence(models.Model):
    """The per-workspace counter quote numbers come from: locked (SELECT … FOR UPDATE) by the transaction that
    creates a quote, so numbers are handed out one at a time, and a rolled-back creation returns its number."""

    name = models.CharField(max_length=40, unique=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    VIEWED = "viewed", "Viewed"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"


# With the customer, waiting for an answer: what expires when its validity date has passed.
OUT_STATUSES = ("sent", "viewed")


class QuoteQuerySet(models.QuerySet):
    def open(self) -> QuoteQuerySet:
        return self.filter(status__in=[QuoteStatus.DRAFT, QuoteStatus.SENT, QuoteStatus.VIEWED])

    def out(self) -> QuoteQuerySet:
        """Sent or viewed: with the customer, not answered yet."""
        return self.filter(status__in=OUT_STATUSES)


class Quote(models.Model):
    Status = QuoteStatus

    number = models.PositiveIntegerField(unique=True, editable=False)
    title = models.CharField(max_length=200)
    # String references: quotes import only the facades of leads and customers, never their models.
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes"
    )
    currency = models.CharField(max_length=3, default="USD")
    valid_until = models.DateField(null=True, blank=True)
    payment_terms = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True, help_text="Shown to the customer above the lines.")
    terms = models.TextField("Terms and conditions", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_quotes"
    )
    # The revision being edited (or last sent): sending freezes it as a QuoteRevision; editing a sent quote opens
    # the next one.
    revision = models.PositiveIntegerField(default=1)
    # Bumped by every write: an editor's copy older than the row is refused (like helpdesk tickets).
    version = models.PositiveIntegerField(default=1)
    # Totals of the current lines (quotes.totals), stored so lists sort and sum without reading lines.
    subtotal = models.DecimalField(max_digits=16, decimal_places=3, default=0)
    tax_total = models.DecimalField(max_digits=16, decimal_places=3, default=0)
    total = models.DecimalField(max_digits=16, decimal_places=3, default=0)
    decline_reason = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the owner was told the quote expires soon (quotes.reminders); a changed validity date clears it.
    expiry_reminded_at = models.DateTimeField(null=True, blank=True)

    objects = QuoteQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        indexes = [
            models.Index(fields=["status", "number"], name="quote_status_number"),
            models.Index(fields=["updated", "id"], name="quote_updated_id"),
            models.Index(fields=["total", "id"], name="quote_total_id"),
            models.Index(fields=["valid_until", "id"], name="quote_valid_until_id"),
            # The beat jobs' reads (expiry in quotes.services, quotes.reminders): quotes out with the customer by
            # validity date, and those whose owner is not reminded yet. Both small: closed and draft ones are left out.
            models.Index(
                fields=["valid_until", "id"], name="quote_out_valid_until", condition=Q(status__in=OUT_STATUSES)
            ),
            models.Index(
                fields=["valid_until", "id"],
                name="quote_expiry_unreminded",
                condition=Q(status__in=OUT_STATUSES, expiry_reminded_at__isnull=True),
            ),
            models.Index(fields=["customer", "number"], name="quote_customer_number"),
            models.Index(fields=["lead", "number"], name="quote_lead_number"),
            models.Index(fields=["owner", "number"], name="quote_owner_number"),
            # A dashboard's drill-down (the list's created_from/sent_from/answered_from…): quotes created, sent or
            # answered on a range of days.
            models.Index(fields=["created", "id"], name="quote_created_id"),
            models.Index(fields=["sent_at", "id"], name="quote_sent_at_id", condition=Q(sent_at__isnull=False)),
            models.Index(fields=["closed_at", "id"], name="quote_closed_at_id", condition=Q(closed_at__isnull=False)),
            GinIndex(name="quote_title_trgm", fields=["title"], opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"Q-{self.number:05d}"

    @property
    def editable(self) -> bool:
        return self.status != QuoteStatus.ACCEPTED


class LineKind(models.TextChoices):
    ITEM = "item", "Product or service"
    SECTION = "section", "Section heading"


class QuoteLine(models.Model):
    Kind = LineKind

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ITEM)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    description = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=1, validators=NON_NEGATIVE)
    unit = models.CharField(max_length=20, blank=True)
    unit_price = models.DecimalField(max_digits=14, decimal_places=4, default=0, validators=NON_NEGATIVE)
    discount = models.DecimalField(max_digits=5, decimal_places=2, default=0, validators=PERCENT_VALIDATORS)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0, validators=PERCENT_VALIDATORS)
    # The product's cost when it was added, in the quote's currency (None: unknown, no margin for the line).
    unit_cost = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # An optional line the customer may tick; only selected ones count in the totals.
    optional = models.BooleanField(default=False)
    selected = models.BooleanField(default=True)

    class Meta:
        ordering = ["quote", "position", "id"]
        indexes = [models.Index(fields=["quote", "position", "id"], name="quoteline_quote_position")]

    def __str__(self) -> str:
        return self.description[:60] or f"Line {self.pk}"

    @property
    def is_section(self) -> bool:
        return self.kind == LineKind.SECTION


class QuoteRevision(models.Model):
    """A quote as it was sent: lines and totals frozen as JSON. Append-only: a revision is never changed, so the
    accepted one stays exactly what the customer accepted."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    accepted = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["quote", "-number"]
        constraints = [models.UniqueConstraint(fields=["quote", "number"], name="quoterevision_quote_number")]

    def __str__(self) -> str:
        return f"{self.quote_id} rev. {self.number}"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    EDITED = "edited", "Edited"
    REVISED = "revised", "New revision"
    STATUS = "status", "Status changed"


class QuoteEvent(models.Model):
    """Something that happened to a quote: what the lead's and the company's timelines show."""

    Kind = EventKind

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    revision = models.PositiveIntegerField(default=1)
    # Edits by one person in a short while are one event with a count (a builder session is many small writes).
    changes = models.PositiveIntegerField(default=1)
    summary = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["quote", "at", "id"], name="quoteevent_quote_at")]

    def __str__(self) -> str:
        return f"{self.quote_id} {self.kind}"


class QuoteTemplate(models.Model):
    """A starting point for new quotes: default lines (JSON: kind, sku, description, quantity, discount,
    optional), validity, payment terms, notes and terms."""

    name = models.CharField(max_length=100, unique=True)
    validity_days = models.PositiveSmallIntegerField(default=30)
    payment_terms = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    terms = models.TextField("Terms and conditions", blank=True)
    lines = models.JSONField(default=list, blank=True)
    is_default = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-is_default", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="quotetemplate_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class QuoteAcceptance(models.Model):
    """The customer's acceptance of a quote on its public page: who, when, from where, what they ticked, and the
    fingerprint of the exact revision they accepted. One per quote, never changed afterwards."""

    quote = models.OneToOneField(Quote, on_delete=models.CASCADE, related_name="acceptance")
    revision = models.ForeignKey(QuoteRevision, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    # A PNG data URL drawn on the page (quotes.acceptance checks its type and size); blank when none was drawn.
    signature = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    # Ids (from the snapshot) of the optional lines the customer ticked.
    selected_lines = models.JSONField(default=list, blank=True)
    # sha256 of the snapshot's canonical JSON (sorted keys, no spaces) and, when the revision had one, its PDF's.
    revision_sha256 = models.CharField(max_length=64)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.quote_id} accepted by {self.name}"


# --- Branding -----------------------------------------------------------------------------------

DEFAULT_BRAND_COLOUR = "#2563eb"
HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}\Z", "Give a colour as # and six hexadecimal digits, e.g. #2563eb.")


class QuoteSettings(models.Model):
    """How the workspace's quotes look: its logo and brand colour on the PDF and the customer's page. One row
    (pk=1). The logo file is content-addressed (quotes.branding): replacing it never touches the bytes a sent
    revision printed."""

    logo = models.FileField(max_length=200, blank=True)  # path in the workspace's own storage
    logo_type = models.CharField(max_length=20, blank=True)  # the verified type: image/png, image/jpeg, image/webp
    logo_sha256 = models.CharField(max_length=64, blank=True)
    brand_colour = models.CharField(max_length=7, default=DEFAULT_BRAND_COLOUR, validators=[HEX_COLOUR])
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "quote settings"
        verbose_name_plural = "quote settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="quote_settings_single_row")]

    def __str__(self) -> str:
        return "Quote settings"
