"""AI on a ticket: its analysis (read it, or ask for a new one), its suggestions (read, apply, dismiss), reply
drafts, and the improved description (ask for a proposal, accept it).

The same services, capabilities and version rules as the ticket page's AI panel and composer
(helpdesk/views/ticket_ai.py): reading needs `tickets.view`, anything that runs the AI or changes the ticket
`tickets.edit`. The analysis runs in the background, as on the page (202, then poll it); drafts and proposals are
made while the client waits, as they are for an agent. Drafts are not stored: ask for one when it is needed.

When the AI cannot answer, nothing is changed and the answer is 503 with a code saying why (ai_unavailable,
ai_rate_limited, ai_budget_exhausted) and, when waiting helps, Retry-After.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from ai import facade
from core.api.errors import Conflict, service_error
from core.api.pagination import KeysetCursorPagination
from core.keyset import KeysetOrder

from ...models import Ticket
from ...selectors import ticket_ai as ai_selectors
from ...services import ticket_ai as services
from ...services.tickets import StaleTicket
from ..ticket_ai_serializers import (
    AnalysisSerializer,
    DraftResultSerializer,
    ImprovedDescriptionAcceptedSerializer,
    ImprovedDescriptionAcceptSerializer,
    ImprovedDescriptionSerializer,
    ImprovementProposalSerializer,
    StoredDraftSerializer,
    SuggestionDecisionSerializer,
    SuggestionListSerializer,
    analysis_data,
    draft_result_data,
    improved_description_data,
    improvement_proposal_data,
    stored_draft_data,
    suggestion_list_data,
)
from .tickets import CONFLICT_RESPONSE, _conflict, _TicketApi

AI_RETRY_SECONDS = 30
UNAVAILABLE = "The AI provider is unavailable right now; nothing was changed. Try again in a moment."
BUDGET_SPENT = (
    "This month's AI budget is spent, so no AI provider could answer; nothing was changed. A workspace "
    "administrator can raise the budget in the AI settings."
)
RATE_LIMITED = (
    "The AI provider is limiting this workspace's requests; nothing was changed. Try again in {wait} seconds."
)
NO_DRAFT = "No knowledge-base article or solved ticket matches this ticket closely enough to draft a reply."
ANALYSIS_OFF = "AI analysis is turned off in this workspace's helpdesk settings; an administrator can turn it on."
AI_UNAVAILABLE_RESPONSE = OpenApiResponse(
    description="The AI could not answer; nothing was changed. `error.code`: ai_unavailable (try again after "
    "Retry-After), ai_rate_limited (the AI provider limits the workspace: wait Retry-After) or ai_budget_exhausted "
    "(this month's AI budget is spent: an administrator can raise it)."
)


class AIUnavailableError(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "ai_unavailable"
    default_detail = UNAVAILABLE

    def __init__(self, detail: str, *, code: str, wait: int | None) -> None:
        super().__init__(detail, code)
        self.wait = wait  # DRF's exception handler sends it as Retry-After


def ai_unavailable(error: facade.AIUnavailable) -> AIUnavailableError:
    """Why the AI could not answer, as a client can act on it: wait and retry, or ask an administrator."""
    if error.retry_after is not None:
        wait = max(1, math.ceil(error.retry_after))
        return AIUnavailableError(RATE_LIMITED.format(wait=wait), code="ai_rate_limited", wait=wait)
    if error.budget_spent:
        return AIUnavailableError(BUDGET_SPENT, code="ai_budget_exhausted", wait=None)
    return AIUnavailableError(UNAVAILABLE, code="ai_unavailable", wait=AI_RETRY_SECONDS)


@contextmanager
def _ai_errors() -> Iterator[None]:
    try:
        yield
    except facade.AIUnavailable as error:
        raise ai_unavailable(error) from None
    except facade.AIInputError as error:
        # The ticket's own text is what the AI refused (too long, unusable): its state, not the request.
        raise Conflict(f"The AI cannot work on this ticket's text: {error}") from None


def _ticket(ticket_id: int) -> Ticket:
    ticket = ai_selectors.ticket_get_for_ai(ticket_id=ticket_id)
    if ticket is None:
        raise NotFound(f"No ticket has the id {ticket_id} in this workspace.")
    return ticket


def _absolute(request: Request) -> Callable[[str], str]:
    return lambda path: request.build_absolute_uri(path) if path else ""


# --- Analysis --------------------------------------------------------------------------------------------


class TicketAnalysisApi(_TicketApi):
    """What the AI made of the ticket: suggested category, priority and type with their confidence and method,
    sentiment, language, summary, what to ask, similar solved tickets, articles, SLA risk."""

    @staticmethod
    def _data(request: Request, ticket: Ticket) -> dict:
        url = request.build_absolute_uri(reverse("helpdesk_api:ticket_analysis", args=[ticket.pk]))
        return analysis_data(ticket, url=url, absolute=_absolute(request))

    @extend_schema(
        summary="Get a ticket's AI analysis",
        description="Always answers 200: `state` says whether there is an analysis (none, queued, failed, done). "
        "While a new one is queued or after it failed, the previous analysis is shown with `stale` true.",
        responses=AnalysisSerializer,
    )
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(self._data(request, _ticket(ticket_id)))

    @extend_schema(
        summary="Analyse a ticket again",
        description="Queues a new analysis (it runs in the background, usually within seconds) and answers 202 "
        "with the analysis as it is now (`state` queued). Poll `url` (also sent as Location) until `state` is "
        "done or failed. 409 when the workspace turned the analysis off.",
        request=None,
        responses={202: AnalysisSerializer, 409: OpenApiResponse(description=ANALYSIS_OFF)},
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        if not services.analysis_queue(_ticket(ticket_id)):
            raise Conflict(ANALYSIS_OFF)
        data = self._data(request, _ticket(ticket_id))
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


# --- Suggestions -----------------------------------------------------------------------------------------


class TicketAISuggestionListApi(_TicketApi):
    """The analysis' suggestions on their own (the analysis includes them too), and the agent's decision on one:
    apply it to the ticket or dismiss it, exactly as the AI panel's Apply and Dismiss buttons do."""

    @extend_schema(summary="List a ticket's AI suggestions", responses=SuggestionListSerializer)
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(suggestion_list_data(_ticket(ticket_id)))

    @extend_schema(
        summary="Apply or dismiss an AI suggestion",
        description="apply sets the ticket's category, priority or type to the suggestion (a change like any "
        "other: the ticket's version goes up) or confirms its sentiment or language; dismiss records that the "
        "suggestion is wrong. Either way the AI's feedback ledger records it. 409 when there is no such open "
        "suggestion (none yet, or already decided) or its category no longer exists.",
        request=SuggestionDecisionSerializer,
        responses={200: SuggestionListSerializer, 409: CONFLICT_RESPONSE},
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket(ticket_id)
        serializer = SuggestionDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        decide = services.suggestion_apply if data["decision"] == "apply" else services.suggestion_dismiss
        try:
            decide(ticket=ticket, kind=data["suggestion"], actor=request.user)
        except DjangoValidationError as error:
            raise Conflict(" ".join(error.messages)) from None
        return Response(suggestion_list_data(_ticket(ticket_id)))


# --- Reply drafts ----------------------------------------------------------------------------------------


class TicketDraftApi(_TicketApi):
    """A reply drafted from the knowledge base and similar solved tickets, for an agent to review and send; and
    the drafts asked for before, newest first."""

    pagination_class = KeysetCursorPagination

    def keyset_order(self, request: Request) -> KeysetOrder:
        return KeysetOrder(keys=("created", "id"), descending=True)

    @extend_schema(
        summary="List a ticket's reply drafts (newest first)",
        description="Every draft an agent asked for on this ticket (on the page or with POST), as it was offered, "
        "with its sources and whether a reply was sent from it.",
        responses=StoredDraftSerializer(many=True),
    )
    def get(self, request: Request, ticket_id: int) -> Response:
        page = self.paginate_queryset(ai_selectors.ticket_drafts(ticket=_ticket(ticket_id)))
        absolute = _absolute(request)
        return self.get_paginated_response(
            StoredDraftSerializer([stored_draft_data(draft, absolute) for draft in page], many=True).data
        )

    @extend_schema(
        summary="Draft a reply",
        description="Drafts a reply from the best-matching knowledge-base articles and solved tickets, citing "
        "them as [1], [2]…. `sources` are customer-facing (public help-center articles); `internal_sources` are "
        "for the agent only (internal articles, solved tickets of other customers) and must never reach the "
        "customer. `draft` is null, with a `message`, when nothing matches well enough. The draft is kept (GET "
        "lists them); send the reply (POST …/messages/) with `ai_run_id` to record that it was used.",
        request=None,
        responses={200: DraftResultSerializer, 503: AI_UNAVAILABLE_RESPONSE},
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket(ticket_id)
        with _ai_errors():
            draft = services.reply_draft_request(ticket, actor=request.user)
        return Response(draft_result_data(ticket, draft, message=NO_DRAFT, absolute=_absolute(request)))


# --- The improved description ----------------------------------------------------------------------------


class TicketImprovedDescriptionApi(_TicketApi):
    """The description restructured by the AI: GET what an agent accepted, POST for a proposal, PUT to accept
    one (as shown, or edited). The requester's own words (`description`) never change."""

    @extend_schema(summary="Get a ticket's improved description", responses=ImprovedDescriptionSerializer)
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(improved_description_data(_ticket(ticket_id)))

    @extend_schema(
        summary="Propose an improved description",
        description="The description restructured (summary, steps, expected, actual, environment) without adding "
        "facts; nothing is saved. When restructuring would not make it better, `nothing_to_improve` is true and "
        "there is nothing to accept. 409 when the description is empty or too long to rewrite.",
        request=None,
        responses={200: ImprovementProposalSerializer, 409: CONFLICT_RESPONSE, 503: AI_UNAVAILABLE_RESPONSE},
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket(ticket_id)
        try:
            with _ai_errors():
                proposal = services.description_improve(text=ticket.original_description, actor=request.user)
        except DjangoValidationError as error:
            raise Conflict(" ".join(error.messages)) from None
        return Response(improvement_proposal_data(ticket, proposal))

    @extend_schema(
        summary="Accept an improved description",
        description="Stores the proposal (`run_id`) as the ticket's improved description: its `text` as shown, "
        "or your edit of it. With `version`, refused (409) if the ticket changed since.",
        request=ImprovedDescriptionAcceptSerializer,
        responses={200: ImprovedDescriptionAcceptedSerializer, 409: CONFLICT_RESPONSE},
    )
    def put(self, request: Request, ticket_id: int) -> Response:
        ticket = _ticket(ticket_id)
        serializer = ImprovedDescriptionAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            ticket, outcome = services.improved_description_accept(
                ticket=ticket,
                actor=request.user,
                run_id=data["run_id"],
                text=data["text"],
                expected_version=data.get("version"),
            )
        except StaleTicket:
            raise _conflict(ticket_id, data.get("version")) from None
        except DjangoValidationError as error:
            if "run_id" in getattr(error, "error_dict", {}):
                # Unknown, or a run of something else than an improvement: no proposal has this id.
                message = f"No description improvement has the id {data['run_id']} in this workspace."
                raise exceptions.ValidationError({"run_id": [message]}) from None
            raise service_error(error) from None
        return Response({**improved_description_data(ticket), "outcome": outcome})
