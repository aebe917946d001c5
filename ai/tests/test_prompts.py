"""Prompt files, workspace overrides (versioned, validated), resolution tenant → system, and the preview."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from ai import facade, prompts, services
from ai.contracts import AIInputError
from ai.models import AIRun, PromptOverride
from ai.prompts import PromptFormatError, parse
from ai.tests.factories import ProviderConfigFactory
from ai.tests.scripted import local_stub_fixture, scripted_fixture  # noqa: F401 (fixtures)

TEXT = "My invoice shows the wrong VAT number. Please correct it before Friday."
OVERRIDE = (
    "# Shorter\n[system]\nSummarise in at most $max_sentences sentences for our team. JSON only.\n[user]\n$text\n"
)


# --- Files and format ---------------------------------------------------------------------------


def test_every_shipped_prompt_parses_and_says_what_it_is_for():
    shipped = prompts.system_prompts()

    assert {"classify", "summarize", "rewrite", "sentiment", "language", "moderate", "json_repair"} <= set(shipped)
    for key, template in shipped.items():
        assert template.description, key
        assert template.version.startswith("system:v"), key


def test_the_highest_file_version_is_the_one_in_use(tmp_path, monkeypatch):
    for number, word in [(1, "old"), (3, "newest"), (2, "middle")]:
        (tmp_path / f"greet.v{number}.txt").write_text(f"# Greeting {word}\n[system]\nSay {word}.\n[user]\n$text\n")
    (tmp_path / "notes.txt").write_text("not a prompt")
    monkeypatch.setattr(prompts, "PROMPT_DIR", tmp_path)
    prompts.system_prompts.cache_clear()
    try:
        template = prompts.system_prompt("greet")
        history = prompts.system_prompt_history("greet")
    finally:
        prompts.system_prompts.cache_clear()

    assert (template.version, template.system) == ("system:v3", "Say newest.")
    assert [item.version for item in history] == ["system:v3", "system:v2", "system:v1"]


def test_rendering_fills_placeholders():
    template = parse("[system]\nBe $tone. Costs $$5.\n[user]\n${text}!", key="t", version="system:v1")

    rendered = template.render({"tone": "brief", "text": "Hello"})

    assert (rendered.system, rendered.user) == ("Be brief. Costs $5.", "Hello!")
    assert template.placeholders == {"tone", "text"}


def test_a_missing_value_names_the_placeholder():
    template = parse("[system]\nFor $agent_name.\n[user]\n$text", key="reply", version="system:v1")

    with pytest.raises(AIInputError, match=r"reply prompt \(system:v1\) needs \$agent_name"):
        template.render({"text": "Hi"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Just some instructions", "Start the prompt with a [system] line"),
        ("[system]\nOnly a system part", "needs a [system] section and a [user] section"),
        ("[system]\nA\n[user]\n\n", "The [user] section is empty"),
        ("[system]\nA\n[system]\nB\n[user]\n$text", "appears twice"),
        ("[system]\nCosts $5\n[user]\n$text", "write $$ for a dollar sign"),
    ],
)
def test_malformed_prompts_get_a_message_an_editor_can_act_on(text, message):
    with pytest.raises(PromptFormatError, match=message.replace("[", r"\[").replace("$", r"\$")):
        parse(text, key="x", version="tenant:v1")


# --- Overrides ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_saving_an_override_numbers_it_and_makes_it_the_only_active_version(make_user):
    author = make_user("admin")

    first = services.prompt_override_save(feature="summarize", text=OVERRIDE, author=author, note="Shorter")
    second = services.prompt_override_save(feature="summarize", text=OVERRIDE.replace("team", "agents"))

    first.refresh_from_db()
    assert (first.version, second.version) == (1, 2)
    assert (first.active, second.active) == (False, True)
    assert first.author == author and first.note == "Shorter"


@pytest.mark.django_db
def test_an_override_may_only_use_the_placeholders_of_the_prompt_it_replaces():
    with pytest.raises(ValidationError) as raised:
        services.prompt_override_save(feature="summarize", text="[system]\nFor $customer_name\n[user]\n$text")

    assert "Unknown placeholder(s) $customer_name" in raised.value.message_dict["text"][0]
    assert "$max_sentences, $text" in raised.value.message_dict["text"][0]
    assert not PromptOverride.objects.exists()


@pytest.mark.django_db
def test_only_shipped_prompts_can_be_overridden():
    with pytest.raises(ValidationError, match="no prompt called 'nonexistent'"):
        services.prompt_override_save(feature="nonexistent", text="[system]\nX\n[user]\n$text")


@pytest.mark.django_db
def test_an_older_version_can_be_put_back_and_a_reset_returns_to_the_system_prompt():
    first = services.prompt_override_save(feature="summarize", text=OVERRIDE)
    services.prompt_override_save(feature="summarize", text=OVERRIDE.replace("team", "agents"))

    services.prompt_override_activate(override=first)
    assert list(PromptOverride.objects.filter(active=True)) == [first]

    services.prompt_override_reset(feature="summarize")
    assert not PromptOverride.objects.filter(active=True).exists()
    assert PromptOverride.objects.count() == 2  # the history stays


# --- Resolution and recording -------------------------------------------------------------------


@pytest.fixture
def external(db, scripted, local_stub):
    ProviderConfigFactory(provider="scripted")
    scripted.script(*[json.dumps({"summary": "Fix the VAT number.", "keywords": []})] * 5)
    return scripted


def test_runs_use_and_record_the_system_prompt_by_default(external):
    result = facade.summarize(TEXT)

    assert (result.meta.prompt_key, result.meta.prompt_version) == ("summarize", "system:v1")
    assert external.requests[0].messages[0].content.startswith("You summarise customer-service conversations")
    run = AIRun.objects.get(pk=result.meta.run_id)
    assert (run.prompt_key, run.prompt_version) == ("summarize", "system:v1")


def test_the_workspace_override_wins_and_its_version_is_recorded(external):
    services.prompt_override_save(feature="summarize", text=OVERRIDE)
    services.prompt_override_save(feature="summarize", text=OVERRIDE.replace("team", "agents"))

    result = facade.summarize(TEXT, max_sentences=2)

    assert result.meta.prompt_version == "tenant:v2"
    system = external.requests[0].messages[0].content
    assert system == "Summarise in at most 2 sentences for our agents. JSON only."
    assert AIRun.objects.get(pk=result.meta.run_id).prompt_version == "tenant:v2"


def test_after_a_reset_the_system_prompt_is_used_again(external):
    services.prompt_override_save(feature="summarize", text=OVERRIDE)
    services.prompt_override_reset(feature="summarize")

    assert facade.summarize(TEXT).meta.prompt_version == "system:v1"


def test_a_feature_without_its_own_prompt_uses_the_operations_prompt(external):
    external.queue.clear()
    external.script(json.dumps({"label": "billing", "confidence": 0.8}))

    result = facade.classify(TEXT, ["billing", "bug"], feature="ticket_triage")

    assert (result.meta.feature, result.meta.prompt_key, result.meta.prompt_version) == (
        "ticket_triage",
        "classify",
        "system:v1",
    )


def test_a_feature_with_its_own_prompt_uses_it(external, monkeypatch):
    triage = parse(
        "# Triage\n[system]\nTriage for the billing team: $labels\n[user]\n$text",
        key="ticket_triage",
        version="system:v4",
    )
    shipped = prompts.system_prompts()
    monkeypatch.setattr(prompts, "system_prompts", lambda: shipped | {"ticket_triage": triage})
    external.queue.clear()
    external.script(json.dumps({"label": "billing", "confidence": 0.8}))

    result = facade.classify(TEXT, ["billing", "bug"], feature="ticket_triage")

    assert (result.meta.prompt_key, result.meta.prompt_version) == ("ticket_triage", "system:v4")
    assert external.requests[0].messages[0].content.startswith("Triage for the billing team: - billing: billing")


def test_an_override_in_one_workspace_is_not_used_by_another(external, other_tenant):
    with tenant_context(other_tenant):
        ProviderConfigFactory(provider="scripted")
        services.prompt_override_save(feature="summarize", text=OVERRIDE)
        assert facade.summarize(TEXT).meta.prompt_version == "tenant:v1"

    assert facade.summarize(TEXT).meta.prompt_version == "system:v1"
    assert not PromptOverride.objects.exists()


def test_an_override_that_no_longer_fits_falls_back_to_the_system_prompt(external):
    PromptOverride.objects.create(feature="summarize", version=1, active=True, text="[system]\n$gone\n[user]\n$text")

    assert facade.summarize(TEXT).meta.prompt_version == "system:v1"


# --- Preview ------------------------------------------------------------------------------------


def test_the_preview_renders_a_draft_with_sample_data_and_shows_what_leaves_the_server():
    preview = services.prompt_preview("summarize", OVERRIDE, {"max_sentences": 2})

    assert preview.ok and preview.placeholders == ("max_sentences", "text")
    assert preview.system == "Summarise in at most 2 sentences for our team. JSON only."
    assert "dana@example.com" in preview.user
    assert "dana@example.com" not in preview.sent_user and "[EMAIL_1]" in preview.sent_user


def test_the_preview_reports_problems_instead_of_raising():
    preview = services.prompt_preview("summarize", "[system]\nUse $ticket_id\n[user]\n$text")

    assert not preview.ok and "Unknown placeholder(s) $ticket_id" in preview.errors[0]


def test_the_preview_saves_nothing(db):
    services.prompt_preview("summarize", OVERRIDE)

    assert not PromptOverride.objects.exists()
