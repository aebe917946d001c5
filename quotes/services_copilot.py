"""The writes of the quote copilot's panel: a suggested product added to the quote (with the editor's version), a
suggested text put into the quote's notes, and every verdict on a suggestion recorded as AI feedback on its run
(`ai.facade.record_feedback`): "accepted" when it was used, "edited" when its text was changed first, "rejected"
when it was dismissed."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError

from ai import facade as ai
from ai.contracts import RunRecord

from . import selectors, services
from .copilot import FEATURES
from .copilot_writing import EMAIL_FEATURE, SUMMARY_FEATURE
from .models import LineKind, Product, Quote, QuoteLine

logger = logging.getLogger(__name__)
COPILOT_FEATURES = frozenset(FEATURES.values()) | {SUMMARY_FEATURE, EMAIL_FEATURE}
OUTCOMES = frozenset({"accepted", "edited", "rejected"})


def copilot_run_get(*, quote: Quote, run_id: Any) -> RunRecord:
    """The copilot run `run_id` of this quote; ValidationError when it is not one (unknown, another feature, or
    recorded for another quote)."""
    try:
        run = ai.get_run(int(run_id))
    except (TypeError, ValueError, ai.AIInputError):
        raise ValidationError("This suggestion is no longer available; refresh the copilot.", code="no_run") from None
    # Generated texts carry the model's JSON, not the quote: only the feature can be checked for them.
    quote_id = (run.data or {}).get("quote_id", quote.pk) if isinstance(run.data, dict) else quote.pk
    if run.meta.feature not in COPILOT_FEATURES or quote_id != quote.pk:
        raise ValidationError("This suggestion does not belong to this quote.", code="other_run")
    return run


def copilot_feedback_record(
    *, quote: Quote, run_id: Any, outcome: str, actor, final_text: str | None = None
) -> RunRecord:
    if outcome not in OUTCOMES:
        raise ValidationError(f"Unknown verdict {outcome!r}.", code="bad_outcome")
    run = copilot_run_get(quote=quote, run_id=run_id)
    ai.record_feedback(run_id=run.run_id, outcome=outcome, final_text=final_text, user=actor)
    return run


def copilot_product_add(
    *, quote: Quote, product_id: Any, run_id: Any, actor, expected_version: int | None
) -> QuoteLine:
    """Adds the suggested product as a line at the end (refused when the quote changed meanwhile: StaleQuote),
    then records the suggestion as accepted."""
    run = copilot_run_get(quote=quote, run_id=run_id)
    try:
        product = selectors.product_for_quote(product_id=int(product_id))
    except (TypeError, ValueError, Product.DoesNotExist):
        raise ValidationError("This product is no longer in the catalog.", code="no_product") from None
    line = services.quote_line_add(
        quote=quote, actor=actor, product=product, kind=LineKind.ITEM, expected_version=expected_version
    )
    ai.record_feedback(run_id=run.run_id, outcome="accepted", user=actor)
    return line


def copilot_notes_use(*, quote: Quote, run_id: Any, text: str, actor, expected_version: int | None) -> Quote:
    """Puts a suggested text (the executive summary) into the quote's notes; "edited" feedback when the person
    changed it first, "accepted" otherwise."""
    run = copilot_run_get(quote=quote, run_id=run_id)
    text = (text or "").strip()
    if not text:
        raise ValidationError("The text is empty.", code="empty_text")
    quote = services.quote_update(quote=quote, actor=actor, data={"notes": text}, expected_version=expected_version)
    outcome = "accepted" if text == run.text.strip() else "edited"
    ai.record_feedback(run_id=run.run_id, outcome=outcome, final_text=text, user=actor)
    return quote
