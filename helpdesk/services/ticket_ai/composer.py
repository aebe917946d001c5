"""The AI composer: "Improve" a ticket description, re-tone a reply, and the feedback on what the agent did with it.

Improve restructures a rough description into summary / steps / expected / actual / environment without adding
facts (ai.facade.rewrite style "ticket") and shows it next to the original with a word diff. The agent accepts
it (feedback "accepted"), edits and accepts (feedback "edited", with the edit distance) or rejects it. The
accepted text is stored in `Ticket.improved_description`; `original_description` never changes. When the rewrite
would not make the ticket clearer (`nothing_to_improve`: greetings only, one statement, unchanged) there is
nothing to accept, and `improved_description_accept` refuses it (NothingToImprove); no placeholder such as
"(not stated in the ticket)" is ever stored.

A reply rewrite is only a suggestion in the composer: the agent decides whether to use it, and the feedback is
recorded when the reply is sent with its `ai_run_id` (`reply_feedback_record`, called by message_add).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from ai import facade
from ai.contracts import SECTION_TITLES

from ... import live
from ...models import Ticket, TicketEvent, TicketMessage
from .. import tickets as ticket_services
from .suggestions import suggestion_feedback_record

IMPROVE_FEATURE = "helpdesk.improve"
PLACEHOLDER = "(not stated in the ticket)"  # what Improve once wrote into empty sections; never stored
TONE_FEATURE = "helpdesk.reply_tone"
# The reply tones ai.facade.rewrite offers (its styles besides "ticket"); labels as the composer shows them.
REPLY_STYLES = {"friendly": "Friendly", "formal": "Formal", "concise": "Concise"}
# Composer suggestions an agent can discard (or use on the new-ticket form) with a plain feedback call.
SUGGESTION_FEATURES = frozenset({IMPROVE_FEATURE, TONE_FEATURE, "helpdesk.reply_draft", "reply_draft"})


@dataclass(frozen=True)
class Suggestion:
    """A rewrite shown to the agent: their text and the new one (the page shows the word diff), and the run to
    give feedback on."""

    original: str
    text: str
    meta: Any  # ai.contracts.RunMeta
    style: str
    sections: dict[str, str]
    nothing_to_improve: bool = False  # style "ticket": the rewrite would not help; offer no Accept
    reason: str = ""  # why there is nothing to improve, for the agent

    @property
    def missing(self) -> tuple[str, ...]:
        """Sections the rewrite left empty: what the description does not say (ask the requester)."""
        if self.style != "ticket" or self.nothing_to_improve:
            return ()
        return tuple(title for key, title in SECTION_TITLES.items() if not (self.sections.get(key) or "").strip())


class NothingToImprove(ValidationError):
    """The improvement asked to accept would not make the description clearer (or would write a placeholder)."""


def _same(first: str, second: str) -> bool:
    return " ".join(first.split()) == " ".join(second.split())


def _rewrite(text: str, *, style: str, feature: str, actor) -> Suggestion:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write something first: there is nothing to improve."})
    if len(text) > ticket_services.MAX_BODY:
        raise ValidationError({"text": f"The text is too long to rewrite (at most {ticket_services.MAX_BODY:,})."})
    try:
        result = facade.rewrite(text, style=style, feature=feature, user=actor)
    except facade.AIInputError as error:
        raise ValidationError({"text": str(error)}) from None
    return Suggestion(
        text, result.text, result.meta, style, dict(result.sections), result.nothing_to_improve, result.reason
    )


def description_improve(*, text: str, actor) -> Suggestion:
    """The description restructured as a clear ticket. Raises AIUnavailable (show "try again") or ValidationError."""
    return _rewrite(text, style="ticket", feature=IMPROVE_FEATURE, actor=actor)


def reply_rewrite(*, text: str, style: str, actor) -> Suggestion:
    """The agent's reply in another tone (friendly, formal, concise); only a suggestion until it is sent."""
    if style not in REPLY_STYLES:
        raise ValidationError({"style": f"Choose a tone: {', '.join(REPLY_STYLES)}."})
    return _rewrite(text, style=style, feature=TONE_FEATURE, actor=actor)


def _run_of(run_id: Any, features: frozenset[str]) -> Any:
    """The ledger run the agent is answering about; it must be a successful run of one of `features`."""
    try:
        run = facade.get_run(int(run_id))
    except (TypeError, ValueError, facade.AIInputError):
        raise ValidationError({"run_id": "This suggestion is no longer available; ask for a new one."}) from None
    if run.meta.feature not in features or not run.succeeded:
        raise ValidationError({"run_id": "This suggestion does not belong here; ask for a new one."})
    return run


@transaction.atomic
def improved_description_accept(
    *, ticket: Ticket, actor, run_id: Any, text: str, expected_version: int | None = None
) -> tuple[Ticket, str]:
    """Stores the (possibly edited) improvement as the ticket's description; returns (ticket, feedback outcome).

    "accepted" when `text` is the suggestion as shown, else "edited" (the ledger stores the edit distance).
    """
    run = _run_of(run_id, frozenset({IMPROVE_FEATURE}))
    offered = _offered_improvement(ticket, run)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "The improved description cannot be empty."})
    if len(text) > ticket_services.MAX_BODY:
        raise ValidationError({"text": f"The description is too long (at most {ticket_services.MAX_BODY:,})."})
    if PLACEHOLDER.lower() in text.lower():
        raise NothingToImprove(
            {"text": f"Remove “{PLACEHOLDER}” first: leave out the sections the ticket does not fill."}
        )
    outcome = "accepted" if _same(text, offered) else "edited"
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ticket_services.StaleTicket(
            "Someone else changed this ticket while you were editing it. Reload to see their change, then try again."
        )
    before = locked.improved_description
    locked.improved_description = text
    locked.version = F("version") + 1
    locked.save(update_fields=["improved_description", "version", "updated"])
    locked.refresh_from_db(fields=["version"])
    changes = {"improved_description": [before[:200], text[:200]]}
    TicketEvent.objects.create(
        ticket=locked,
        kind=TicketEvent.Kind.AI_SUGGESTION,
        actor=actor,
        data={"kind": "description", "action": outcome, "run_id": run.run_id, "changes": changes},
    )
    suggestion_feedback_record(run.run_id, outcome, actor=actor, final_text=text)
    live.ticket_changed(locked, actor=actor, changes=changes)
    return locked, outcome


def _offered_improvement(ticket: Ticket, run: Any) -> str:
    """The text the run offered, after the checks every ticket rewrite passes; NothingToImprove when it offered
    nothing worth accepting (the modal showed no Accept, so this is a forged or stale request)."""
    verdict = facade.rewrite_verdict(ticket.original_description, run.text, (run.data or {}).get("sections"))
    if verdict.nothing_to_improve:
        raise NothingToImprove({"run_id": f"Nothing to improve: {verdict.reason} The description was not changed."})
    return verdict.text


@transaction.atomic
def improved_description_reject(*, ticket: Ticket, actor, run_id: Any) -> None:
    run = _run_of(run_id, frozenset({IMPROVE_FEATURE}))
    TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.AI_SUGGESTION,
        actor=actor,
        data={"kind": "description", "action": "rejected", "run_id": run.run_id},
    )
    suggestion_feedback_record(run.run_id, "rejected", actor=actor)


def suggestion_feedback(*, run_id: Any, outcome: str, actor, final_text: str | None = None) -> str:
    """Feedback on a composer suggestion outside a ticket write (discarded, or used on the new-ticket form)."""
    run = _run_of(run_id, SUGGESTION_FEATURES)
    if outcome not in ("accepted", "rejected"):
        raise ValidationError({"outcome": "Say whether the suggestion was used (accepted) or not (rejected)."})
    if outcome == "accepted" and final_text is not None and not _same(final_text, run.text):
        outcome = "edited"
    suggestion_feedback_record(run.run_id, outcome, actor=actor, final_text=final_text)
    return outcome


def reply_feedback_record(message: TicketMessage, *, actor) -> None:
    """Hook of message_add: a reply sent from an AI suggestion (tone rewrite or draft) rates it, as sent or
    edited. Automatic replies (no actor) are not an agent's verdict and are not rated."""
    if not message.ai_run_id or actor is None:
        return
    try:
        run = facade.get_run(message.ai_run_id)
    except facade.AIInputError:
        return
    outcome = "accepted" if _same(message.body, run.text) else "edited"
    suggestion_feedback_record(run.run_id, outcome, actor=actor, final_text=message.body)
