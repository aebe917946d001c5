"""The AI panel and the composer on a ticket: states, Apply/Dismiss with feedback, Improve, tone, drafts."""

from __future__ import annotations

import re

import pytest

from ai import facade
from helpdesk.models import Ticket, TicketEvent
from helpdesk.services import ticket_ai
from helpdesk.services.ticket_ai import composer
from helpdesk.services.tickets import message_add
from helpdesk.templatetags.ticket_ai_tags import word_diff

from .factories import ArticleFactory, TicketFactory
from .ticket_ai_support import analysed, categories

pytestmark = pytest.mark.django_db

ROUGH = (
    "export broken since update!! i click export on reports and get error 500, should give me the csv. "
    "using chrome 126 on windows 11"
)
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ticket():
    categories()
    return analysed(TicketFactory(subject="Export fails", original_description=ROUGH, priority="low"))


def panel(client, ticket) -> str:
    response = client.get(f"/tickets/{ticket.pk}/ai/panel/", **HX)
    assert response.status_code == 200
    return response.content.decode()


def feedback_of(run_id: int):
    (feedback,) = facade.get_feedback(run_id)
    return feedback


# --- Panel states -----------------------------------------------------------------------------------


def test_the_panel_shows_the_analysis_with_apply_buttons_and_says_it_was_made_offline(login, client, ticket):
    login("agent")

    html = panel(client, ticket)

    assert f'id="ai-panel-{ticket.pk}"' in html and 'data-state="done"' in html
    assert "Made offline by the local model" in html
    assert 'data-kind="category"' in html and 'data-kind="priority"' in html
    assert html.count('data-testid="ai-apply"') >= 3
    assert ticket.ai_suggestions["summary"]["text"][:40] in html
    assert ticket.ai_suggestions["questions"] and "Insert into reply" in html


def test_a_queued_panel_polls_and_says_it_runs_in_the_background(login, client):
    login("viewer")
    ticket = TicketFactory(ai_analysis_status=Ticket.AnalysisStatus.PENDING)

    html = panel(client, ticket)

    assert "Analysis runs in the background" in html
    assert 'hx-trigger="every 10s"' in html


def test_a_viewer_sees_the_panel_without_buttons_and_cannot_apply(login, client, ticket):
    login("viewer")

    html = panel(client, ticket)
    response = client.post(f"/tickets/{ticket.pk}/ai/suggestions/apply/", {"kind": "priority"}, **HX)

    assert 'data-testid="ai-apply"' not in html and 'data-state="done"' in html
    assert response.status_code == 403


def test_the_panel_of_a_ticket_of_another_workspace_or_none_is_404(login, client):
    login("agent")

    assert client.get("/tickets/99999999/ai/panel/", **HX).status_code == 404


def test_without_javascript_the_panel_url_is_a_page(login, client, ticket):
    login("agent")

    response = client.get(f"/tickets/{ticket.pk}/ai/panel/")

    assert response.status_code == 200 and b"<html" in response.content and b"AI assistant" in response.content


def test_reanalyse_queues_a_new_analysis(login, client, ticket, django_capture_on_commit_callbacks):
    login("agent")
    Ticket.objects.filter(pk=ticket.pk).update(original_description=ROUGH + " Also PDF fails.")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/tickets/{ticket.pk}/ai/analyse/", **HX)

    assert response.status_code == 200 and 'data-state="queued"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.ai_analysis_status == Ticket.AnalysisStatus.DONE


# --- Apply and dismiss --------------------------------------------------------------------------------


def test_apply_category_changes_the_ticket_and_records_accepted_feedback(login, client, ticket):
    agent = login("agent")
    suggestion = ticket.ai_suggestions["suggestions"]["category"]

    response = client.post(f"/tickets/{ticket.pk}/ai/suggestions/apply/", {"kind": "category"}, **HX)

    assert response.status_code == 200
    assert '"ticket:changed"' in response["HX-Trigger"]
    ticket.refresh_from_db()
    assert ticket.category_id == suggestion["value"] and ticket.version == 2
    assert ticket.ai_suggestions["suggestions"]["category"]["status"] == "applied"
    feedback = feedback_of(suggestion["run_id"])
    assert (feedback.outcome, feedback.user_id) == ("accepted", agent.pk)
    event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.AI_SUGGESTION)
    assert event.data == {
        "kind": "category", "action": "applied", "value": suggestion["value"], "label": suggestion["label"],
        "run_id": suggestion["run_id"],
    }  # fmt: skip
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.UPDATED, actor=agent).exists()
    assert 'data-kind="category" data-status="applied"' in response.content.decode()
    assert 'id="ticket-refresh" hx-swap-oob="true"' in response.content.decode()  # the header shows it too


def test_dismiss_priority_leaves_the_ticket_and_records_rejected_feedback(login, client, ticket):
    login("agent")
    suggestion = ticket.ai_suggestions["suggestions"]["priority"]

    response = client.post(f"/tickets/{ticket.pk}/ai/suggestions/dismiss/", {"kind": "priority"}, **HX)

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.version) == ("low", 1)
    assert ticket.ai_suggestions["suggestions"]["priority"]["status"] == "dismissed"
    assert feedback_of(suggestion["run_id"]).outcome == "rejected"
    event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.AI_SUGGESTION)
    assert (event.data["kind"], event.data["action"]) == ("priority", "dismissed")


def test_sentiment_is_confirmed_and_a_dismissed_language_is_cleared(login, client, ticket):
    login("agent")
    runs = {kind: ticket.ai_suggestions["suggestions"][kind]["run_id"] for kind in ("sentiment", "language")}

    client.post(f"/tickets/{ticket.pk}/ai/suggestions/apply/", {"kind": "sentiment"}, **HX)
    client.post(f"/tickets/{ticket.pk}/ai/suggestions/dismiss/", {"kind": "language"}, **HX)

    ticket.refresh_from_db()
    assert ticket.sentiment and ticket.language == ""
    assert feedback_of(runs["sentiment"]).outcome == "accepted"
    assert feedback_of(runs["language"]).outcome == "rejected"


def test_a_suggestion_decided_already_is_not_applied_twice(login, client, ticket):
    login("agent")
    client.post(f"/tickets/{ticket.pk}/ai/suggestions/dismiss/", {"kind": "type"}, **HX)

    response = client.post(f"/tickets/{ticket.pk}/ai/suggestions/apply/", {"kind": "type"}, **HX)

    assert response.status_code == 200  # the panel as it is now, with a toast saying why
    assert "already dismissed" in response.content.decode()
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.AI_SUGGESTION).count() == 1


def test_an_unknown_suggestion_kind_is_explained_and_changes_nothing(login, client, ticket):
    login("agent")

    response = client.post(f"/tickets/{ticket.pk}/ai/suggestions/apply/", {"kind": "assignee"}, **HX)

    assert response.status_code == 200 and "is not something the AI suggests" in response.content.decode()
    assert not TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.AI_SUGGESTION).exists()


def test_without_javascript_apply_redirects_back(login, client, ticket):
    login("agent")

    response = client.post(f"/tickets/{ticket.pk}/ai/suggestions/apply/", {"kind": "priority"})

    assert response.status_code == 302


# --- Improve the description --------------------------------------------------------------------------


def improve(client, ticket) -> tuple[str, int]:
    response = client.post(f"/tickets/{ticket.pk}/ai/improve/", **HX)
    assert response.status_code == 200
    html = response.content.decode()
    run_id = int(re.search(r'name="run_id" value="(\d+)"', html).group(1))
    return html, run_id


def test_improve_shows_the_rewrite_side_by_side_with_a_word_diff(login, client, ticket):
    login("agent")

    html, run_id = improve(client, ticket)

    assert "As typed" in html and "Improved" in html
    assert "Steps to reproduce" in html and "Environment" in html
    assert '<ins class="sb-diff-ins">' in html
    assert facade.get_run(run_id).meta.feature == composer.IMPROVE_FEATURE
    ticket.refresh_from_db()
    assert ticket.improved_description == ""  # nothing is saved before the agent accepts


def test_accept_stores_the_improvement_and_records_accepted_feedback(login, client, ticket):
    login("agent")
    _, run_id = improve(client, ticket)
    shown = facade.get_run(run_id).text

    response = client.post(
        f"/tickets/{ticket.pk}/ai/improve/accept/", {"run_id": run_id, "text": shown, "version": 1}, **HX
    )

    assert response.status_code == 200 and "modal:close" in response["HX-Trigger"]
    ticket.refresh_from_db()
    assert ticket.improved_description == shown.strip() and ticket.original_description == ROUGH
    assert ticket.description == shown.strip()
    feedback = feedback_of(run_id)
    assert (feedback.outcome, feedback.edit_distance) == ("accepted", 0)
    event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.AI_SUGGESTION)
    assert (event.data["kind"], event.data["action"], event.data["run_id"]) == ("description", "accepted", run_id)
    assert f'hx-get="/tickets/{ticket.pk}/live/"' in response.content.decode()  # the page reloads the thread


def test_edit_then_accept_records_edited_feedback_with_the_distance(login, client, ticket):
    login("agent")
    _, run_id = improve(client, ticket)
    edited = facade.get_run(run_id).text + "\n\nCustomer: Acme finance team."

    client.post(f"/tickets/{ticket.pk}/ai/improve/accept/", {"run_id": run_id, "text": edited}, **HX)

    ticket.refresh_from_db()
    assert ticket.improved_description.endswith("Customer: Acme finance team.")
    feedback = feedback_of(run_id)
    assert feedback.outcome == "edited" and feedback.edit_distance == 6


def test_reject_keeps_the_original_and_records_rejected_feedback(login, client, ticket):
    login("agent")
    _, run_id = improve(client, ticket)

    response = client.post(f"/tickets/{ticket.pk}/ai/improve/reject/", {"run_id": run_id}, **HX)

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.improved_description == ""
    assert feedback_of(run_id).outcome == "rejected"


def test_accepting_against_a_stale_version_is_refused(login, client, ticket):
    login("agent")
    _, run_id = improve(client, ticket)
    Ticket.objects.filter(pk=ticket.pk).update(version=5)

    response = client.post(
        f"/tickets/{ticket.pk}/ai/improve/accept/", {"run_id": run_id, "text": "Mine.", "version": 1}, **HX
    )
    plain = client.post(f"/tickets/{ticket.pk}/ai/improve/accept/", {"run_id": run_id, "text": "Mine.", "version": 1})

    assert response.status_code == 200 and b"Someone else changed this ticket" in response.content  # in the modal
    assert plain.status_code == 409
    assert facade.get_feedback(run_id) == ()


def test_accept_refuses_a_run_that_is_not_an_improvement(login, client, ticket):
    login("agent")
    other_run = ticket.ai_suggestions["suggestions"]["type"]["run_id"]

    response = client.post(f"/tickets/{ticket.pk}/ai/improve/accept/", {"run_id": other_run, "text": "Anything."}, **HX)
    missing = client.post(f"/tickets/{ticket.pk}/ai/improve/accept/", {"run_id": "x", "text": "Anything."}, **HX)

    assert response.status_code == missing.status_code == 200
    assert b"does not belong here" in response.content and b"no longer available" in missing.content
    plain = client.post(f"/tickets/{ticket.pk}/ai/improve/accept/", {"run_id": "x"})
    assert plain.status_code == 200 and b"<html" in plain.content and b"no longer available" in plain.content
    ticket.refresh_from_db()
    assert ticket.improved_description == ""


def test_improve_with_the_provider_down_says_so_and_changes_nothing(login, client, ticket, monkeypatch):
    login("agent")

    def unavailable(*args, **kwargs):
        raise facade.AIUnavailable("no provider could answer")

    monkeypatch.setattr(composer.facade, "rewrite", unavailable)

    response = client.post(f"/tickets/{ticket.pk}/ai/improve/", **HX)
    plain = client.post(f"/tickets/{ticket.pk}/ai/improve/")

    assert response.status_code == 200 and b"AI provider is unavailable" in response.content
    assert plain.status_code == 503


def test_improve_on_the_new_ticket_form_and_feedback_when_used(login, client):
    login("agent")

    response = client.post("/tickets/ai/improve/", {"description": ROUGH, "field_id": "id_description"}, **HX)

    html = response.content.decode()
    run_id = int(re.search(r'"run_id": "(\d+)", "outcome": "accepted"', html).group(1))
    assert 'data-ai-replace="id_description"' in html and "Steps to reproduce" in html
    used = client.post("/tickets/ai/feedback/", {"run_id": run_id, "outcome": "accepted"}, **HX)
    assert used.status_code == 200 and feedback_of(run_id).outcome == "accepted"


def test_the_new_ticket_form_field_id_is_only_ever_a_plain_html_id(login, client):
    login("agent")

    response = client.post(
        "/tickets/ai/improve/", {"description": ROUGH, "field_id": '"><script>alert(1)</script>'}, **HX
    )

    html = response.content.decode()
    assert "<script>alert" not in html and 'data-ai-replace="id_description"' in html


def test_a_very_long_rewrite_is_diffed_by_line():
    before = "\n".join(f"Line {n} says the export fails." for n in range(400))
    after = before.replace("Line 7 says", "Line seven says")

    html = word_diff(before, after)

    assert '<del class="sb-diff-del">Line 7 says the export fails.\n</del>' in html
    assert "Line seven says" in html


def test_improve_of_an_empty_new_ticket_description_explains(login, client):
    login("agent")

    response = client.post("/tickets/ai/improve/", {"description": "  "}, **HX)

    assert b"there is nothing to improve" in response.content


# --- Reply composer -----------------------------------------------------------------------------------


def test_the_composer_offers_exactly_the_tones_the_facade_supports(login, client, ticket, rf):
    from django.template.loader import render_to_string

    user = login("agent")
    html = render_to_string("helpdesk/_composer_ai.html", {"ticket": ticket, "user": user})

    offered = set(re.findall(r'data-testid="ai-rewrite-(\w+)"', html))
    assert offered == {"friendly", "formal", "concise"}
    for style in offered:
        facade.rewrite("Please send the invoice.", style=style)  # each one is accepted by the facade
    assert 'name="ai_run_id"' in html


def test_rewrite_a_reply_as_formal_shows_a_suggestion_with_a_diff(login, client, ticket):
    login("agent")

    response = client.post(
        f"/tickets/{ticket.pk}/ai/reply/rewrite/",
        {"body": "hey, can't find ur invoice, pls resend", "style": "formal"},
        **HX,
    )

    html = response.content.decode()
    assert 'data-testid="composer-ai-suggestion"' in html and "cannot" in html and "please" in html.lower()
    assert '<del class="sb-diff-del">' in html and 'data-testid="ai-use"' in html


def test_an_unsupported_tone_is_explained(login, client, ticket):
    login("agent")

    response = client.post(f"/tickets/{ticket.pk}/ai/reply/rewrite/", {"body": "Hi", "style": "empathetic"}, **HX)

    assert b"Choose a tone" in response.content


def test_sending_a_reply_from_a_suggestion_records_feedback_with_the_edit(make_user, ticket):
    agent = make_user("agent")
    suggestion = ticket_ai.reply_rewrite(text="hey, can't find ur invoice, pls resend", style="formal", actor=agent)
    run_id = suggestion.meta.run_id

    message_add(ticket=ticket, actor=agent, body=suggestion.text + " Thank you.", ai_run_id=run_id)

    feedback = feedback_of(run_id)
    assert (feedback.outcome, feedback.edit_distance, feedback.user_id) == ("edited", 3, agent.pk)


def test_discarding_a_suggestion_records_rejected_feedback(login, client, ticket):
    agent = login("agent")
    run_id = ticket_ai.reply_rewrite(text="thx for waiting", style="formal", actor=agent).meta.run_id

    response = client.post("/tickets/ai/feedback/", {"run_id": run_id, "outcome": "rejected"}, **HX)
    wrong = client.post("/tickets/ai/feedback/", {"run_id": run_id, "outcome": "maybe"}, **HX)

    assert response.status_code == 200 and wrong.status_code == 400
    assert feedback_of(run_id).outcome == "rejected"


def test_feedback_is_only_for_composer_suggestions(login, client, ticket):
    login("agent")
    analysis_run = ticket.ai_suggestions["suggestions"]["category"]["run_id"]

    response = client.post("/tickets/ai/feedback/", {"run_id": analysis_run, "outcome": "rejected"}, **HX)

    assert response.status_code == 400


def test_draft_reply_lists_its_sources(login, client, ticket):
    login("agent")
    ArticleFactory(
        title="Exports fail with error 500",
        body="If an export fails with error 500, clear the export cache under Settings → Reports. Then export again.",
    )
    from helpdesk.services import kb as kb_services

    kb_services.articles_reindex()

    response = client.post(f"/tickets/{ticket.pk}/ai/reply/draft/", **HX)

    html = response.content.decode()
    assert 'data-testid="composer-ai-draft"' in html and "Exports fail with error 500" in html
    assert "[1]" in html and 'data-ai-insert-draft="ai-text-' in html and "data-ai-autofill" not in html


def test_draft_reply_without_any_match_says_so(login, client, ticket):
    login("agent")

    response = client.post(f"/tickets/{ticket.pk}/ai/reply/draft/", **HX)

    assert b"closely enough to draft a reply" in response.content
