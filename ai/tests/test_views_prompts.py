"""Prompt editor pages: list, editor, HTMX preview, save/activate/reset, "try it", provenance, who may use them."""

from __future__ import annotations

import json

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from ai import cache as ai_cache
from ai import prompts
from ai.contracts import RunMeta, Summary
from ai.models import AIPolicy, AIRun, PromptOverride
from ai.tests.factories import AIRunFactory, PromptOverrideFactory, ProviderConfigFactory
from ai.tests.scripted import local_stub_fixture, scripted_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
OVERRIDE = "# Shorter\n[system]\nSummarise in at most $max_sentences sentences for our team.\n[user]\n$text\n"


def url(name: str, *args) -> str:
    return reverse(f"ai:{name}", args=args)


@pytest.fixture
def admin(login):
    return login("admin", name="Ada Admin")


# --- List ---------------------------------------------------------------------------------------


def test_the_list_shows_every_prompt_with_the_version_in_use_and_who_changed_it(client, admin):
    PromptOverrideFactory(feature="summarize", version=3, active=True, author=admin, text=OVERRIDE)
    PromptOverrideFactory(feature="rewrite", version=1, active=False)

    response = client.get(url("prompt_list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="prompt-row"') == len(prompts.system_prompts())
    summarize = html.split('id="prompt-summarize"')[1].split("</tr>")[0]
    assert "Workspace override v3" in summarize and "Ada Admin" in summarize
    classify = html.split('id="prompt-classify"')[1].split("</tr>")[0]
    assert "System v1" in classify and "Shipped with Switchboard" in classify
    rewrite = html.split('id="prompt-rewrite"')[1].split("</tr>")[0]
    assert "System v1" in rewrite and "Reset to the system prompt" in rewrite
    assert f'href="{url("prompt_edit", "summarize")}"' in html


def test_the_list_query_count_does_not_grow_with_overrides(client, admin, django_assert_max_num_queries):
    PromptOverrideFactory(feature="summarize", version=1, active=True, author=admin)
    with django_assert_max_num_queries(10) as few:
        client.get(url("prompt_list"))
    for key in set(prompts.system_prompts()) - {"summarize"}:
        PromptOverrideFactory(feature=key, version=50, active=True, author=admin)

    with django_assert_max_num_queries(len(few)):
        assert client.get(url("prompt_list")).status_code == 200


# --- Editor -------------------------------------------------------------------------------------


def test_the_editor_shows_the_system_prompt_beside_the_draft_and_the_placeholders(client, admin):
    response = client.get(url("prompt_edit", "reply_draft"))

    html = response.content.decode()
    assert response.status_code == 200
    system = prompts.system_prompt("reply_draft")
    assert 'data-testid="system-text"' in html and system.system.split("\n")[0][:60] in html
    assert "In use: system v1" in html
    for name in ("agent_name", "customer_message", "notes", "workspace_name"):
        assert f"<code>${name}</code>" in html
    assert "Sample: Dana Whitfield" in html
    # Without an override the draft starts from the system prompt.
    assert html.count("You draft replies for $agent_name") == 2


def test_the_editor_starts_from_the_version_in_use(client, admin):
    PromptOverrideFactory(feature="summarize", version=2, active=True, text=OVERRIDE)

    html = client.get(url("prompt_edit", "summarize")).content.decode()

    assert "In use: workspace override v2" in html
    assert "Summarise in at most $max_sentences sentences for our team." in html


@pytest.mark.parametrize(
    ("name", "method", "extra"),
    [
        ("prompt_edit", "get", ()),
        ("prompt_edit", "post", ()),
        ("prompt_preview", "post", ()),
        ("prompt_try", "post", ()),
        ("prompt_reset", "post", ()),
        ("prompt_activate", "post", (1,)),
    ],
)
def test_an_unknown_prompt_key_is_not_found(client, admin, name, method, extra):
    response = getattr(client, method)(url(name, "no_such_prompt", *extra), {"text": OVERRIDE})

    assert response.status_code == 404
    assert not PromptOverride.objects.exists()


# --- Preview ------------------------------------------------------------------------------------


def test_the_preview_fragment_renders_the_draft_with_sample_data(client, admin):
    response = client.post(url("prompt_preview", "summarize"), {"text": OVERRIDE}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="prompt-preview"')
    assert "<html" not in html
    assert "Summarise in at most 3 sentences for our team." in html
    assert "I reset my password twice" in html
    # What leaves the server for an external provider has the e-mail address replaced.
    assert "What an external provider receives" in html and "[EMAIL_1]" in html
    assert not PromptOverride.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[system]\nQuote ticket $ticket_id\n[user]\n$text", "Unknown placeholder(s) $ticket_id"),
        ("", "needs a [system] section and a [user] section"),
        ("[system]\nBe brief.\n[user]\n\n", "The [user] section is empty"),
        ("[system]\nCosts $5\n[user]\n$text", "write $$ for a dollar sign"),
    ],
)
def test_the_preview_explains_what_is_wrong_with_a_draft(client, admin, text, message):
    response = client.post(url("prompt_preview", "summarize"), {"text": text}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="prompt-preview-error"' in html
    assert message in html


def test_the_preview_refuses_an_overlong_draft(client, admin):
    response = client.post(url("prompt_preview", "summarize"), {"text": OVERRIDE + "x" * 20_001}, **HTMX)

    assert "keep it under 20,000" in response.content.decode()


def test_the_preview_works_without_javascript_as_a_whole_page(client, admin):
    response = client.post(url("prompt_preview", "summarize"), {"text": OVERRIDE, "note": "shorter"})

    html = response.content.decode()
    assert "<html" in html and 'data-testid="prompt-preview"' in html
    assert "Summarise in at most 3 sentences for our team." in html
    assert 'value="shorter"' in html  # the draft and its note survive the round trip


# --- Save, activate, reset ----------------------------------------------------------------------


def test_saving_creates_a_new_version_in_use_and_invalidates_the_ai_cache(client, admin):
    before = ai_cache.read("summarize")[0].workspace

    response = client.post(url("prompt_edit", "summarize"), {"text": OVERRIDE, "note": "Shorter for the team"})

    assert response.status_code == 302 and response["Location"] == url("prompt_edit", "summarize")
    override = PromptOverride.objects.get()
    assert (override.version, override.active, override.note, override.author) == (
        1,
        True,
        "Shorter for the team",
        admin,
    )
    assert ai_cache.read("summarize")[0].workspace != before
    page = client.get(response["Location"]).content.decode()
    assert "Saved the Summaries prompt as workspace version 1" in page and "In use: workspace override v1" in page


def test_saving_again_numbers_the_next_version_and_keeps_the_history(client, admin):
    client.post(url("prompt_edit", "summarize"), {"text": OVERRIDE})
    client.post(url("prompt_edit", "summarize"), {"text": OVERRIDE.replace("team", "agents")})

    assert list(PromptOverride.objects.values_list("version", "active")) == [(2, True), (1, False)]
    html = client.get(url("prompt_edit", "summarize")).content.decode()
    assert html.count('data-testid="prompt-version"') == 3  # two of ours and the system prompt
    assert html.count('data-testid="prompt-activate"') == 1


def test_saving_a_broken_prompt_shows_the_problem_and_keeps_the_draft(client, admin):
    draft = "[system]\nQuote ticket $ticket_id\n[user]\n$text"
    before = ai_cache.read("summarize")[0].workspace

    response = client.post(url("prompt_edit", "summarize"), {"text": draft})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="prompt-save-error"' in html and "Unknown placeholder(s) $ticket_id" in html
    assert "Quote ticket $ticket_id" in html
    assert not PromptOverride.objects.exists()
    assert ai_cache.read("summarize")[0].workspace == before


def test_saving_refuses_an_overlong_note(client, admin):
    response = client.post(url("prompt_edit", "summarize"), {"text": OVERRIDE, "note": "n" * 201})

    assert "Keep the note under 200 characters." in response.content.decode()
    assert not PromptOverride.objects.exists()


def test_an_older_version_can_be_activated_again(client, admin):
    client.post(url("prompt_edit", "summarize"), {"text": OVERRIDE})
    client.post(url("prompt_edit", "summarize"), {"text": OVERRIDE.replace("team", "agents")})
    before = ai_cache.read("summarize")[0].workspace

    response = client.post(url("prompt_activate", "summarize", 1))

    assert response.status_code == 302
    assert list(PromptOverride.objects.filter(active=True).values_list("version", flat=True)) == [1]
    assert ai_cache.read("summarize")[0].workspace != before
    assert "Workspace version 1 of Summaries is in use again." in client.get(response["Location"]).content.decode()


def test_activating_a_version_that_does_not_exist_is_not_found(client, admin):
    PromptOverrideFactory(feature="rewrite", version=1)

    assert client.post(url("prompt_activate", "summarize", 1)).status_code == 404


def test_a_version_that_no_longer_fits_is_not_activated_and_says_why(client, admin):
    PromptOverride.objects.create(feature="summarize", version=1, text="[system]\n$gone\n[user]\n$text")

    response = client.post(url("prompt_activate", "summarize", 1), follow=True)

    assert "This version cannot be used any more" in response.content.decode()
    assert not PromptOverride.objects.filter(active=True).exists()


def test_reset_goes_back_to_the_system_prompt_and_keeps_the_versions(client, admin):
    client.post(url("prompt_edit", "summarize"), {"text": OVERRIDE})
    before = ai_cache.read("summarize")[0].workspace

    response = client.post(url("prompt_reset", "summarize"), **HTMX)

    assert response.status_code == 200 and response["HX-Redirect"] == url("prompt_edit", "summarize")
    assert PromptOverride.objects.filter(active=False).count() == 1
    assert ai_cache.read("summarize")[0].workspace != before
    assert "In use: system v1" in client.get(url("prompt_edit", "summarize")).content.decode()


# --- Try it -------------------------------------------------------------------------------------


@pytest.fixture
def external(scripted, local_stub):
    ProviderConfigFactory(provider="scripted", model="gpt-4o-mini")
    return scripted


def test_try_it_runs_the_prompt_in_use_and_shows_who_answered(client, admin, external):
    client.post(url("prompt_edit", "summarize"), {"text": OVERRIDE})
    external.script(json.dumps({"summary": "Dana cannot sign in.", "keywords": []}))

    response = client.post(url("prompt_try", "summarize"), **HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card shadow-sm mt-3" id="prompt-try"')
    assert "Dana cannot sign in." in html
    assert "Scripted · gpt-4o-mini ·" in html and 'data-provider="scripted"' in html
    assert external.requests[0].messages[0].content.startswith("Summarise in at most 3 sentences for our team.")
    run = AIRun.objects.get()
    assert (run.user, run.prompt_version) == (admin, "tenant:v1")
    assert f'href="{url("run_detail", run.pk)}"' in html


def test_try_it_says_plainly_when_the_local_model_answered(client, admin, local_stub):
    html = client.post(url("prompt_try", "classify"), **HTMX).content.decode()

    assert "billing (60% confident)" in html
    assert "Made offline by the local model (no generative AI)" in html


def test_try_it_explains_when_no_provider_can_write_free_text(client, admin, local_stub):
    response = client.post(url("prompt_try", "reply_draft"), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="prompt-try-error"' in html
    run = AIRun.objects.get()
    assert run.status == AIRun.Status.ERROR
    assert f'href="{url("run_detail", run.pk)}"' in html


# --- Provenance component -----------------------------------------------------------------------


def _badge(**context) -> str:
    return " ".join(render_to_string("ai/_provenance.html", context).split())


def test_provenance_of_the_local_model_says_it_was_made_offline():
    meta = RunMeta(feature="summarize", provider="local", model="switchboard-local-1", latency_ms=12.0)

    html = _badge(result=Summary(text="x", keywords=(), meta=meta))

    assert "Made offline by the local model (no generative AI)" in html
    assert "ms" not in html and "cached" not in html


def test_provenance_of_a_cloud_provider_names_vendor_model_latency_and_cache():
    meta = RunMeta(feature="summarize", provider="openai", model="gpt-4o-mini", latency_ms=819.6, cached=True)

    html = _badge(meta=meta)

    assert "OpenAI · gpt-4o-mini · 820 ms · cached" in html


def test_provenance_accepts_a_ledger_row_and_marks_a_fallback():
    run = AIRunFactory.build(provider="anthropic", model="claude-3-5-haiku", latency_ms=1500, fallback_from=["openai"])

    html = _badge(meta=run)

    assert "Anthropic · claude-3-5-haiku · 1,500 ms · fallback" in html and "Answered after openai did not." in html


def test_provenance_renders_nothing_without_a_result():
    assert _badge() == ""


# --- Who may use the editor ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "viewer", "sales"])
def test_people_who_do_not_configure_ai_are_refused(client, login, role):
    login(role)

    assert client.get(url("prompt_list")).status_code == 403
    assert client.get(url("prompt_edit", "summarize")).status_code == 403
    assert client.post(url("prompt_edit", "summarize"), {"text": OVERRIDE}).status_code == 403
    assert client.post(url("prompt_preview", "summarize"), {"text": OVERRIDE}).status_code == 403
    assert client.post(url("prompt_reset", "summarize")).status_code == 403
    assert not PromptOverride.objects.exists()


# --- Prompts no provider uses ---------------------------------------------------------------------


def test_the_editor_and_the_list_say_prompts_are_unused_while_no_generative_provider_is_set_up(client, admin):
    html = client.get(url("prompt_edit", "reply_draft")).content.decode()
    listed = client.get(url("prompt_list")).content.decode()

    assert 'data-testid="prompt-unused"' in html and "no provider that writes text is set up" in html
    assert "These prompts are not used now: no provider that writes text is set up" in listed


def test_the_editor_says_a_prompt_is_unused_while_the_policy_keeps_everything_local(client, admin):
    ProviderConfigFactory()
    AIPolicy.objects.create(allow_external_providers=False)

    html = client.get(url("prompt_edit", "reply_draft")).content.decode()

    assert "the AI policy allows no external provider" in html


def test_the_editor_shows_no_unused_notice_once_a_provider_can_use_the_prompt(client, admin):
    ProviderConfigFactory()
    AIPolicy.objects.create(allow_external_providers=True)

    html = client.get(url("prompt_edit", "reply_draft")).content.decode()

    assert 'data-testid="prompt-unused"' not in html


def test_a_disabled_provider_leaves_the_prompt_unused(client, admin):
    ProviderConfigFactory(enabled=False)
    AIPolicy.objects.create(allow_external_providers=True)

    assert 'data-testid="prompt-unused"' in client.get(url("prompt_edit", "reply_draft")).content.decode()
