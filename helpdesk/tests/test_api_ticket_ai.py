"""AI results through the API: a ticket's analysis (read, re-queue), suggestions (read, apply, dismiss), reply
drafts with their internal sources kept apart, the improved description (propose, accept), who may do what, other
workspaces, and AI outages mapped to 503 with a code a client can act on."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context

from ai import facade
from helpdesk.models import Article, HelpdeskSettings, Ticket
from helpdesk.services import kb as kb_services
from helpdesk.services.ticket_ai import Suggestion, auto_response, composer
from helpdesk.services.tickets import message_add

from .factories import ArticleFactory, TicketFactory
from .ticket_ai_support import analysed, categories, solve_with_reply

pytestmark = pytest.mark.django_db

ROUGH = (
    "export broken since update!! i click export on reports and get error 500, should give me the csv. "
    "using chrome 126 on windows 11"
)
QUESTION = "How do I reset my password? I forgot it and cannot sign in."
RESET_BODY = (
    "If you forgot your password, open the sign-in page and click **Forgot password**. "
    "Enter the email address of your account and we send you a reset link. "
    "The link is valid for 24 hours."
)
NAMES = {
    "analysis": "ticket_analysis",
    "suggestions": "ticket_suggestions",
    "drafts": "ticket_drafts",
    "improved": "ticket_improved_description",
}


def url(ticket_id: int, what: str) -> str:
    return reverse(f"helpdesk_api:{NAMES[what]}", args=[ticket_id])


def post(client, path: str, data: dict | None = None):
    return client.post(path, data or {}, content_type="application/json")


def put(client, path: str, data: dict):
    return client.put(path, data, content_type="application/json")


@pytest.fixture
def ticket() -> Ticket:
    categories()
    return analysed(TicketFactory(subject="Export fails", original_description=ROUGH, priority="low"))


def unavailable(*reasons: str, **details):
    def fail(*args, **kwargs):
        raise facade.AIUnavailable("No AI provider could answer.", run_id=None, reasons=reasons, **details)

    return fail


# --- Analysis -------------------------------------------------------------------------------------------


def test_a_ticket_never_analysed_answers_200_with_state_none(client, login):
    login("viewer")
    fresh = TicketFactory()

    response = client.get(url(fresh.pk, "analysis"))

    body = response.json()
    assert response.status_code == 200
    assert (body["state"], body["stale"], body["analysed_at"], body["error"]) == ("none", False, None, None)
    assert body["suggestions"] == [] and body["summary"] == "" and body["sla_risk"] is None
    assert body["url"].endswith(url(fresh.pk, "analysis"))


def test_the_analysis_shows_suggestions_with_confidence_method_and_the_run_that_made_them(client, login, ticket):
    login("viewer")

    body = client.get(url(ticket.pk, "analysis")).json()

    document = ticket.ai_suggestions
    assert body["state"] == "done" and body["stale"] is False and body["analysed_at"]
    assert body["summary"] == document["summary"]["text"]
    assert body["language"] == ticket.language and body["sentiment"] == ticket.sentiment
    by_kind = {row["kind"]: row for row in body["suggestions"]}
    assert list(by_kind)[:3] == ["category", "priority", "type"]
    category = by_kind["category"]
    assert category["value"] == document["suggestions"]["category"]["value"]
    assert 0 < category["confidence"] <= 1 and category["method"] and category["status"] == "open"
    assert category["run"]["run_id"] == document["suggestions"]["category"]["run_id"]
    assert category["run"]["provider"] == "local"
    assert by_kind["priority"]["method"] == "rules" and by_kind["priority"]["reasons"]
    assert by_kind["sentiment"]["score"] is not None
    assert set(body["sections"]) == {"summary", "steps", "expected", "actual", "environment"}
    assert body["provenance"]["provider"] == "local"
    assert body["sla_risk"] is not None and body["auto_response"] is not None


def test_an_old_or_partial_document_still_answers_every_key(client, login):
    """Documents written before a key existed, or by a newer analysis with extra keys (a model version)."""
    login("agent")
    document = {
        "version": 1,
        "analysed_at": "2026-12-01T10:00:00+00:00",
        "summary": {"text": "Export fails."},
        "suggestions": {
            "category": {"value": None, "label": "", "confidence": 0.21, "method": "trained", "abstained": True},
            "priority": {"value": "high", "label": "High", "confidence": 0.8, "model_version": 3, "extra": 1},
            "type": None,
        },
    }
    stale = TicketFactory(ai_suggestions=document, ai_analysis_status=Ticket.AnalysisStatus.DONE)

    body = client.get(url(stale.pk, "analysis")).json()

    category, priority = body["suggestions"]
    assert category["abstained"] is True and category["actionable"] is False and category["value"] is None
    assert priority["model_version"] == "3" and priority["status"] == "open" and priority["run"] is None
    assert body["questions"] == [] and body["kb_articles"] == [] and body["provenance"] is None


def test_a_failed_analysis_keeps_the_previous_one_marked_stale_with_the_reason(client, login, ticket):
    login("agent")
    document = {**ticket.ai_suggestions, "last_error": {"at": "2026-12-01T10:00:00+00:00", "reason": "Down."}}
    Ticket.objects.filter(pk=ticket.pk).update(ai_suggestions=document, ai_analysis_status="failed")

    body = client.get(url(ticket.pk, "analysis")).json()

    assert body["state"] == "failed" and body["stale"] is True and body["suggestions"]
    assert body["error"] == {"reason": "Down.", "at": "2026-12-01T10:00:00Z", "permanent": False}


def test_asking_for_a_new_analysis_queues_it_and_answers_202_with_where_to_poll(
    client, login, ticket, django_capture_on_commit_callbacks
):
    login("agent")
    Ticket.objects.filter(pk=ticket.pk).update(original_description=ROUGH + " Also PDF fails.")

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, url(ticket.pk, "analysis"))

    assert response.status_code == 202
    assert response.json()["state"] == "queued" and response.json()["stale"] is True
    assert response["Location"] == response.json()["url"]
    polled = client.get(response["Location"]).json()
    assert polled["state"] == "done" and polled["analysed_at"] != response.json()["analysed_at"]


def test_asking_for_an_analysis_when_the_workspace_turned_it_off_is_a_conflict(client, login, ticket):
    login("agent")
    HelpdeskSettings.objects.update_or_create(pk=1, defaults={"analysis_enabled": False})

    response = post(client, url(ticket.pk, "analysis"))

    assert response.status_code == 409 and "turned off" in response.json()["error"]["message"]


# --- Suggestions ----------------------------------------------------------------------------------------


def test_suggestions_are_listed_with_the_tickets_version(client, login, ticket):
    login("viewer")

    body = client.get(url(ticket.pk, "suggestions")).json()

    assert body["version"] == ticket.version and body["state"] == "done"
    assert [row["kind"] for row in body["results"]][:3] == ["category", "priority", "type"]


def test_applying_a_category_changes_the_ticket_and_a_second_apply_is_a_conflict(client, login, ticket):
    login("agent")
    suggested = ticket.ai_suggestions["suggestions"]["category"]["value"]

    response = post(client, url(ticket.pk, "suggestions"), {"suggestion": "category", "decision": "apply"})
    again = post(client, url(ticket.pk, "suggestions"), {"suggestion": "category", "decision": "apply"})

    assert response.status_code == 200
    category = next(row for row in response.json()["results"] if row["kind"] == "category")
    assert category["status"] == "applied" and category["matches_ticket"] and not category["actionable"]
    ticket.refresh_from_db()
    assert ticket.category_id == suggested and response.json()["version"] == ticket.version == 2
    assert again.status_code == 409 and "already applied" in again.json()["error"]["message"]
    (feedback,) = facade.get_feedback(ticket.ai_suggestions["suggestions"]["category"]["run_id"])
    assert feedback.outcome == "accepted"


def test_dismissing_a_priority_leaves_the_ticket(client, login, ticket):
    login("agent")

    response = post(client, url(ticket.pk, "suggestions"), {"suggestion": "priority", "decision": "dismiss"})

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.priority == "low" and ticket.ai_suggestions["suggestions"]["priority"]["status"] == "dismissed"


def test_a_decision_on_a_ticket_without_analysis_is_a_conflict_and_an_unknown_kind_is_invalid(client, login):
    login("agent")
    fresh = TicketFactory()

    none_yet = post(client, url(fresh.pk, "suggestions"), {"suggestion": "type", "decision": "apply"})
    unknown = post(client, url(fresh.pk, "suggestions"), {"suggestion": "mood", "decision": "apply"})

    assert none_yet.status_code == 409 and "no type suggestion" in none_yet.json()["error"]["message"]
    assert unknown.status_code == 400 and "suggestion" in unknown.json()["error"]["fields"]


# --- Drafts ---------------------------------------------------------------------------------------------


@pytest.fixture
def draft_sources(make_user):
    """A public article, an internal one, and a solved ticket of another customer: the best sources mixed."""
    public = ArticleFactory(title="Reset a forgotten password", body=RESET_BODY, slug="reset-password")
    internal = ArticleFactory(
        title="Reset passwords (agents only)", body=RESET_BODY, visibility=Article.Visibility.INTERNAL
    )
    kb_services.articles_reindex()
    solved = TicketFactory(subject="Forgot my password", original_description="I forgot my password, cannot log in.")
    solve_with_reply(solved, make_user("agent"), "I sent you a new reset link; it arrived after a few minutes.")
    return public, internal, solved


def test_a_draft_keeps_internal_sources_apart_and_flagged_for_the_agent(client, login, draft_sources):
    login("agent")
    public, internal, solved = draft_sources
    ticket = TicketFactory(subject="Password reset", original_description=QUESTION)

    response = post(client, url(ticket.pk, "drafts"))

    assert response.status_code == 200
    draft = response.json()["draft"]
    assert draft["text"] and draft["run_id"] and draft["provider"] == "local"
    assert facade.get_run(draft["run_id"]).text == draft["text"]
    assert {(s["kind"], s["id"]) for s in draft["sources"]} <= {("article", public.pk)}
    assert all(s["internal"] is False for s in draft["sources"])
    internal_ids = {(s["kind"], s["id"]) for s in draft["internal_sources"]}
    assert ("ticket", solved.pk) in internal_ids or ("article", internal.pk) in internal_ids
    assert ("article", public.pk) not in internal_ids
    assert all(s["internal"] is True and s["url"].startswith("http") for s in draft["internal_sources"])
    assert draft["customer_safe"] is False


def test_past_drafts_are_listed_newest_first_with_their_sources_and_the_reply_sent_from_them(
    client, login, draft_sources
):
    agent = login("agent")
    ticket = TicketFactory(subject="Password reset", original_description=QUESTION)
    first = post(client, url(ticket.pk, "drafts")).json()["draft"]
    second = post(client, url(ticket.pk, "drafts")).json()["draft"]
    reply = message_add(ticket=ticket, actor=agent, body=first["text"], ai_run_id=first["run_id"])

    listed = client.get(url(ticket.pk, "drafts")).json()

    assert [d["run_id"] for d in listed["results"]] == [second["run_id"], first["run_id"]]
    newest, oldest = listed["results"]
    assert (newest["sent_message_id"], oldest["sent_message_id"]) == (None, reply.pk)
    assert oldest["text"] == first["text"] and oldest["sources"] == first["sources"]
    assert oldest["internal_sources"] == first["internal_sources"] and oldest["requested_by"]
    assert client.get(url(TicketFactory().pk, "drafts")).json()["results"] == []


def test_without_any_match_there_is_no_draft_and_a_message(client, login):
    login("agent")
    ticket = TicketFactory(subject="Password reset", original_description=QUESTION)

    body = post(client, url(ticket.pk, "drafts")).json()

    assert body["draft"] is None and "closely enough to draft" in body["message"]


@pytest.mark.parametrize(
    ("details", "code", "retry_after"),
    [
        ({}, "ai_unavailable", "30"),
        ({"retry_after": 11.2}, "ai_rate_limited", "12"),
        ({"budget_spent": True}, "ai_budget_exhausted", None),
    ],
)
def test_when_the_ai_cannot_answer_a_draft_is_503_with_what_to_do(
    client, login, monkeypatch, details, code, retry_after
):
    login("agent")
    ticket = TicketFactory(subject="Password reset", original_description=QUESTION)
    monkeypatch.setattr(auto_response.facade, "embed", unavailable("OpenAI: it could not answer.", **details))
    ArticleFactory(title="Reset a forgotten password", body=RESET_BODY)
    kb_services.articles_reindex()

    response = post(client, url(ticket.pk, "drafts"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]
    assert response.get("Retry-After") == retry_after


def test_text_the_ai_refuses_is_a_conflict_not_a_server_error(client, login, monkeypatch):
    login("agent")
    ticket = TicketFactory()

    def refuse(*args, **kwargs):
        raise facade.AIInputError("The text is too long.")

    monkeypatch.setattr("helpdesk.services.ticket_ai.reply_draft_request", refuse)

    response = post(client, url(ticket.pk, "drafts"))

    assert response.status_code == 409 and "too long" in response.json()["error"]["message"]


# --- The improved description ---------------------------------------------------------------------------


def test_a_proposal_is_made_then_accepted_as_shown(client, login, ticket):
    login("agent")
    assert client.get(url(ticket.pk, "improved")).json()["improved_description"] == ""

    proposal = post(client, url(ticket.pk, "improved")).json()
    accepted = put(
        client,
        url(ticket.pk, "improved"),
        {"run_id": proposal["run_id"], "text": proposal["text"], "version": proposal["version"]},
    )

    assert proposal["nothing_to_improve"] is False and proposal["can_accept"] is True
    assert proposal["original"] == ROUGH and proposal["sections"]["environment"]
    assert facade.get_run(proposal["run_id"]).meta.feature == composer.IMPROVE_FEATURE
    assert accepted.status_code == 200
    body = accepted.json()
    assert body["outcome"] == "accepted" and body["improved_description"] == proposal["text"].strip()
    assert body["description"] == ROUGH and body["version"] == ticket.version + 1
    assert client.get(url(ticket.pk, "improved")).json()["improved_description"] == body["improved_description"]


def test_an_edited_acceptance_is_recorded_as_edited(client, login, ticket):
    login("agent")
    proposal = post(client, url(ticket.pk, "improved")).json()

    body = put(client, url(ticket.pk, "improved"), {"run_id": proposal["run_id"], "text": "Export fails."}).json()

    assert body["outcome"] == "edited" and body["improved_description"] == "Export fails."


def test_accepting_against_a_stale_version_is_refused_and_saves_nothing(client, login, ticket):
    login("agent")
    proposal = post(client, url(ticket.pk, "improved")).json()
    Ticket.objects.filter(pk=ticket.pk).update(version=5)

    response = put(client, url(ticket.pk, "improved"), {"run_id": proposal["run_id"], "text": "Mine.", "version": 1})

    assert response.status_code == 409 and "version 5" in response.json()["error"]["message"]
    ticket.refresh_from_db()
    assert ticket.improved_description == "" and facade.get_feedback(proposal["run_id"]) == ()


def test_accepting_a_run_that_is_no_improvement_names_the_run_id(client, login, ticket):
    login("agent")
    analysis_run = ticket.ai_suggestions["suggestions"]["type"]["run_id"]

    other = put(client, url(ticket.pk, "improved"), {"run_id": analysis_run, "text": "Anything."})
    unknown = put(client, url(ticket.pk, "improved"), {"run_id": 987654321, "text": "Anything."})

    assert other.status_code == unknown.status_code == 400
    assert other.json()["error"]["fields"]["run_id"] == [
        f"No description improvement has the id {analysis_run} in this workspace."
    ]
    assert "run_id" in unknown.json()["error"]["fields"]


def test_nothing_to_improve_offers_no_accept(client, login, ticket, monkeypatch):
    login("agent")

    def unchanged(*, text, actor):
        meta = facade.record_local_output(composer.IMPROVE_FEATURE, text)
        return Suggestion(text, text, meta, "ticket", {}, nothing_to_improve=True, reason="It says one thing once.")

    monkeypatch.setattr("helpdesk.services.ticket_ai.description_improve", unchanged)

    body = post(client, url(ticket.pk, "improved")).json()

    assert body["nothing_to_improve"] is True and body["can_accept"] is False and body["text"] == ""
    assert body["reason"] == "It says one thing once."


def test_a_proposal_with_the_provider_down_is_503_and_an_empty_description_a_conflict(
    client, login, ticket, monkeypatch
):
    login("agent")
    empty = TicketFactory(original_description="   ")

    conflict = post(client, url(empty.pk, "improved"))
    monkeypatch.setattr(composer.facade, "rewrite", unavailable("local: failed"))
    down = post(client, url(ticket.pk, "improved"))

    assert conflict.status_code == 409 and "nothing to improve" in conflict.json()["error"]["message"]
    assert down.status_code == 503 and down.json()["error"]["code"] == "ai_unavailable"
    assert down["Retry-After"] == "30"


# --- Who may, and which workspace ----------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_run_the_ai_or_change_anything(client, login, ticket):
    login("viewer")

    reads = [client.get(url(ticket.pk, what)).status_code for what in ("analysis", "suggestions", "improved")]
    writes = [
        post(client, url(ticket.pk, "analysis")).status_code,
        post(client, url(ticket.pk, "suggestions"), {"suggestion": "type", "decision": "apply"}).status_code,
        post(client, url(ticket.pk, "drafts")).status_code,
        post(client, url(ticket.pk, "improved")).status_code,
        put(client, url(ticket.pk, "improved"), {"run_id": 1, "text": "x"}).status_code,
    ]

    assert reads == [200, 200, 200] and writes == [403] * 5


def test_signed_out_callers_and_requesters_get_nothing(client, ticket):
    """Requesters have no workspace account: without one, nothing of the AI (internal sources above all)."""
    anonymous = client

    for what in NAMES:
        response = anonymous.get(url(ticket.pk, what))
        assert response.status_code in {401, 403} and b"solution" not in response.content
    assert anonymous.post(url(ticket.pk, "drafts")).status_code in {401, 403}


def test_another_workspaces_ticket_is_not_found(client, login, other_tenant):
    login("owner")
    with tenant_context(other_tenant):
        foreign = TicketFactory(subject="Beta secret")

    answers = [
        client.get(url(foreign.pk, "analysis")),
        post(client, url(foreign.pk, "analysis")),
        client.get(url(foreign.pk, "suggestions")),
        post(client, url(foreign.pk, "drafts")),
        client.get(url(foreign.pk, "improved")),
        post(client, url(foreign.pk, "improved")),
        put(client, url(foreign.pk, "improved"), {"run_id": 1, "text": "x"}),
    ]

    assert [answer.status_code for answer in answers] == [404] * 7
    assert all(b"Beta secret" not in answer.content for answer in answers)


def test_the_schema_documents_the_ai_endpoints_and_their_503(client, login):
    login("viewer")

    paths = client.get("/api/v1/schema/?format=json").json()["paths"]

    drafts = paths["/api/v1/tickets/{ticket_id}/drafts/"]["post"]
    assert "503" in drafts["responses"] and "Retry-After" in drafts["responses"]["503"]["headers"]
    assert set(paths["/api/v1/tickets/{ticket_id}/improved-description/"]) >= {"get", "post", "put"}
    assert "202" in paths["/api/v1/tickets/{ticket_id}/analysis/"]["post"]["responses"]
    assert "get" in paths["/api/v1/tickets/{ticket_id}/suggestions/"]
