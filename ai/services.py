"""Every write of the AI app: provider settings (keys encrypted), routes, policy, prompt overrides, the ledger.

Settings changes invalidate the workspace's AI cache through the models' signal receivers, so nothing here has
to remember to. Validation errors are `ValidationError`s keyed by field, ready for a form or a 400.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.facade import manager_emails
from core import crypto
from core.egress import EgressRefused, check_url
from core.links import workspace_url

from . import budgets, emails, prompts, registry, safety
from . import cache as ai_cache
from .contracts import FEEDBACK_OUTCOMES, AIInputError, BudgetNotice, budget_exhausted
from .models import AIFeedback, AIPolicy, AIRun, FeatureRoute, PromptOverride, ProviderConfig
from .providers.base import (
    AuthenticationFailed,
    EgressBlocked,
    ModelNotOffered,
    ProviderError,
    ProviderSettings,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from .selectors import ai_policy_get

logger = logging.getLogger(__name__)

PROVIDER_FIELDS = frozenset(
    {"provider", "label", "model", "base_url", "priority", "enabled", "timeout_seconds", "extra", "monthly_budget_usd"}
)
MAX_TEST_MESSAGE_CHARS = 500


# --- Ledger -------------------------------------------------------------------------------------


def ai_run_record(*, provider_config_id: int | None = None, cost_usd: Decimal = Decimal("0"), **fields: Any) -> AIRun:
    """One ledger row (called by the orchestrator); the month's spend of its configuration grows with it."""
    run = _ledger_insert(AIRun(provider_config_id=provider_config_id, cost_usd=cost_usd, **fields))
    if provider_config_id and cost_usd:
        budgets.spend_add(provider_config_id, cost_usd)
    return run


def _ledger_insert(run: AIRun) -> AIRun:
    """Saves a ledger row; outside a transaction without waiting for the disk, in one round trip.

    Inside the caller's transaction the row simply commits with it. Alone, a normal commit waits for the WAL
    flush: on a cache hit that fsync was half the call (p95 4-5 ms on a busy disk against a 2 ms target). So the
    row is written with `synchronous_commit = off`: a PostgreSQL crash may lose the last fraction of a second of
    ledger rows, never corrupt anything; nothing else is affected (SET LOCAL ends with the transaction).
    BEGIN, SET LOCAL, INSERT and COMMIT go out as one psycopg pipeline: Django's own save() inside atomic()
    waited on the server eight times per row (1.8 ms against 0.45 ms).
    """
    if connection.in_atomic_block:
        run.save(force_insert=True)
        return run
    fields, insert = _ledger_insert_statement()
    values = [field.get_db_prep_save(field.pre_save(run, add=True), connection) for field in fields]
    with connection.cursor():  # django-tenants sets the workspace's search_path on this cursor
        raw = connection.connection
        with raw.cursor() as inserting:
            try:
                with raw.pipeline():
                    raw.execute("BEGIN")
                    raw.execute("SET LOCAL synchronous_commit TO OFF")
                    inserting.execute(insert, values)
                    raw.execute("COMMIT")
            except Exception:
                raw.rollback()
                raise
            run.pk = inserting.fetchone()[0]
    run._state.adding = False
    run._state.db = connection.alias
    return run


@functools.cache
def _ledger_insert_statement() -> tuple[list, str]:
    """The ledger row's columns and INSERT … RETURNING id, the same for every row: built once per process."""
    fields = [field for field in AIRun._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    insert = (
        f"INSERT INTO {connection.ops.quote_name(AIRun._meta.db_table)} ({columns}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id"
    )
    return fields, insert


_WORD = re.compile(r"\w+|[^\w\s]")
EXACT_DISTANCE_LIMIT = 250_000  # cells of the DP table; beyond it difflib's estimate (replies are rarely that long)


def word_edit_distance(before: str, after: str) -> int:
    """Words (and punctuation marks) inserted, deleted or replaced to turn `before` into `after`."""
    a, b = _WORD.findall(before), _WORD.findall(after)
    if len(a) * len(b) > EXACT_DISTANCE_LIMIT:
        matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")
    previous = list(range(len(b) + 1))
    for i, word in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1]


@transaction.atomic
def ai_feedback_record(*, run_id: int, outcome: str, final_text: str | None = None, user=None) -> AIFeedback:
    """The agent's verdict on a run; recorded again by the same person, it replaces their earlier one."""
    if outcome not in FEEDBACK_OUTCOMES:
        raise AIInputError(f"Unknown feedback {outcome!r}: use one of {', '.join(FEEDBACK_OUTCOMES)}.")
    try:
        run = AIRun.objects.get(pk=run_id)
    except AIRun.DoesNotExist:
        raise AIInputError(f"There is no AI run #{run_id} in this workspace.") from None
    distance = None
    if final_text is not None and outcome != AIFeedback.Outcome.REJECTED:
        distance = word_edit_distance(run.output_text, final_text)
    elif outcome == AIFeedback.Outcome.ACCEPTED:
        distance = 0
    values = {"outcome": outcome, "edit_distance": distance, "created": timezone.now()}
    if user is None or not getattr(user, "pk", None):
        return AIFeedback.objects.create(run=run, **values)
    feedback, _ = AIFeedback.objects.update_or_create(run=run, user=user, defaults=values)
    return feedback


# --- Provider configurations --------------------------------------------------------------------


def _clean_provider_values(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(values) - PROVIDER_FIELDS
    if unknown:
        raise TypeError(f"Provider configurations have no field(s) {', '.join(sorted(unknown))}.")
    cleaned = dict(values)
    for name in ("label", "model", "base_url", "provider"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
    if "extra" in cleaned:
        cleaned["extra"] = cleaned["extra"] or {}
    if "monthly_budget_usd" in cleaned:
        budget = cleaned["monthly_budget_usd"]
        with contextlib.suppress(InvalidOperation):  # reported by _validate_provider with a message
            cleaned["monthly_budget_usd"] = None if budget in ("", None) else Decimal(str(budget).strip())
    return cleaned


def _validate_provider(config: ProviderConfig, *, api_key_given: bool) -> None:
    errors: dict[str, list[str]] = {}
    external = registry.provider_names(external_only=True)
    if config.provider not in external:
        errors["provider"] = [f"Choose one of: {', '.join(external)}."]
    if not config.label:
        errors["label"] = ["Give this provider a name, e.g. “OpenAI production”."]
    if config.base_url:
        try:
            URLValidator(schemes=["http", "https"])(config.base_url)
            check_url(config.base_url)
        except ValidationError:
            errors["base_url"] = ["Enter a full http:// or https:// address."]
        except EgressRefused as refusal:
            errors["base_url"] = [str(refusal)]
    if not isinstance(config.extra, dict):
        errors["extra"] = ['Extra settings must be a JSON object, e.g. {"api_version": "2024-10-21"}.']
    else:
        errors.update(_extra_address_errors(config.extra))
    try:
        budget = None if config.monthly_budget_usd in (None, "") else Decimal(str(config.monthly_budget_usd))
        if budget is not None and budget < 0:
            errors["monthly_budget_usd"] = ["The budget cannot be negative."]
    except InvalidOperation:
        errors["monthly_budget_usd"] = ["Enter an amount in US dollars, e.g. 50 or 12.50."]
    if "provider" not in errors:
        info = registry.provider_info(config.provider)
        compatible_endpoint = config.provider == "openai" and config.base_url
        if info.needs_key and not compatible_endpoint and not (api_key_given or config.has_api_key):
            errors["api_key"] = [f"{info.label} needs an API key."]
    try:
        config.full_clean(exclude=["provider", "label", "base_url", "extra", "monthly_budget_usd"])
    except ValidationError as error:
        for field_name, messages in error.message_dict.items():
            errors.setdefault(field_name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


# Addresses a provider reads from `extra` besides the base URL (Copilot's identity and Graph hosts).
EXTRA_URL_KEYS = ("authority_host", "graph_base_url")


def _extra_address_errors(extra: Mapping[str, Any]) -> dict[str, list[str]]:
    """The egress rule for every address in `extra`; a per-workspace proxy or CA file would be a way around it."""
    messages = []
    if extra.get("proxy"):
        messages.append(
            "A proxy cannot be set per workspace: Switchboard's outbound connections are checked by the server itself."
        )
    if extra.get("ca_bundle"):
        # A path on the server chosen by a workspace would reveal which files exist and trust any PEM it can read.
        messages.append(
            "Certificate authorities cannot be set per workspace: the server's operator trusts extra ones with "
            "EGRESS_CA_BUNDLE."
        )
    for key in EXTRA_URL_KEYS:
        value = extra.get(key)
        if not value:
            continue
        try:
            check_url(str(value))
        except EgressRefused as refusal:
            messages.append(f"{key}: {refusal}")
    return {"extra": messages} if messages else {}


def _set_api_key(config: ProviderConfig, api_key: str) -> None:
    api_key = api_key.strip()
    config.api_key_encrypted = crypto.encrypt(api_key)
    config.api_key_hint = crypto.key_hint(api_key)


@transaction.atomic
def provider_config_create(*, provider: str, api_key: str = "", **values: Any) -> ProviderConfig:
    values = _clean_provider_values({"provider": provider, **values})
    if not values.get("label") and values["provider"] in registry.provider_names(external_only=True):
        values["label"] = registry.provider_info(values["provider"]).label
    config = ProviderConfig(**values)
    _validate_provider(config, api_key_given=bool(api_key.strip()))
    if api_key.strip():
        _set_api_key(config, api_key)
    config.save()
    return config


@transaction.atomic
def provider_config_update(
    *, config: ProviderConfig, api_key: str | None = None, clear_api_key: bool = False, **values: Any
) -> ProviderConfig:
    """`api_key` None (or blank) keeps the stored key: forms never show it, so an empty field means unchanged."""
    for name, value in _clean_provider_values(values).items():
        setattr(config, name, value)
    new_key = (api_key or "").strip()
    if clear_api_key and not new_key:
        config.api_key_encrypted, config.api_key_hint = "", ""
    _validate_provider(config, api_key_given=bool(new_key))
    if new_key:
        _set_api_key(config, new_key)
    connection_changed = bool(new_key) or clear_api_key or {"provider", "model", "base_url", "extra"} & set(values)
    if connection_changed:
        config.last_test_status, config.last_test_message, config.last_test_at = "", "", None
    config.save()
    return config


@transaction.atomic
def provider_config_delete(*, config: ProviderConfig) -> None:
    for route in FeatureRoute.objects.filter(provider_config_ids__contains=[config.pk]):
        route.provider_config_ids = [pk for pk in route.provider_config_ids if pk != config.pk]
        route.save(update_fields=["provider_config_ids", "updated"])
    config.delete()


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    message: str
    tested_at: datetime


def _provider_settings(config: ProviderConfig) -> ProviderSettings:
    return ProviderSettings(
        api_key=crypto.decrypt(config.api_key_encrypted),
        base_url=config.base_url,
        model=config.model,
        timeout_seconds=config.timeout_seconds,
        extra=dict(config.extra or {}),
    )


def _short(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= MAX_TEST_MESSAGE_CHARS else message[: MAX_TEST_MESSAGE_CHARS - 1] + "…"


def connection_test_verdict(error: ProviderError, *, model: str, timeout_seconds: float) -> str:
    """What a failed connection test says: a category and our own words, never what the endpoint answered.

    The endpoint may be anyone's server; echoing its body would make "Test connection" a way to read it. Together
    with the egress guard (internal addresses are refused before any connection) this also keeps an owner from
    telling open ports from closed ones inside the server's network. The run log keeps the vendor's JSON message.
    """
    status = f" (HTTP {error.status})" if error.status else ""
    if isinstance(error, EgressBlocked):
        return f"Refused by the egress policy: {error}"
    if isinstance(error, ProviderTimeout):
        return f"Timed out: no answer within {timeout_seconds:g} s."
    if not error.reached:
        if isinstance(error, ProviderUnavailable):
            return "Could not connect: check the base URL, and that the service is running and reachable."
        return str(error)  # raised before any connection, about the settings themselves, in our words
    if isinstance(error, AuthenticationFailed):
        return f"Reached, authentication failed{status}: check the API key and its permissions."
    if isinstance(error, ModelNotOffered):
        return f"Reached, {model} is not offered there{status}: check the model and the base URL."
    if isinstance(error, RateLimited):
        return f"Reached, rate limited{status}: try again in a moment."
    if error.status and 400 <= error.status < 500:
        return f"Reached, the request was refused{status}: check the settings."
    return f"Reached, unexpected answer{status}."


def provider_config_test(*, config: ProviderConfig) -> ConnectionTest:
    """Asks the provider to prove the settings work; stores and returns a readable verdict. Never raises."""
    api_key = ""
    try:
        settings = _provider_settings(config)
        api_key = settings.api_key
        message, ok = registry.provider_class(config.provider)(settings).test_connection(), True
    except ProviderError as error:
        model = f"the model '{config.model}'" if config.model else "the default model"
        message, ok = connection_test_verdict(error, model=model, timeout_seconds=config.timeout_seconds), False
    except crypto.DecryptionFailed as error:
        message, ok = str(error) or type(error).__name__, False
    except Exception as error:
        logger.exception("testing AI provider %s (%s) failed unexpectedly", config.label, config.provider)
        message, ok = f"Unexpected error while connecting ({type(error).__name__}). Check the base URL and key.", False
    message = _short(safety.scrub(message, api_key, personal_data=False))
    tested_at = timezone.now()
    status = ProviderConfig.TestStatus.OK if ok else ProviderConfig.TestStatus.FAILED
    # update(): a test is not a settings change and must not flush the workspace's AI cache.
    ProviderConfig.objects.filter(pk=config.pk).update(
        last_test_status=status, last_test_message=message, last_test_at=tested_at
    )
    config.last_test_status, config.last_test_message, config.last_test_at = status, message, tested_at
    return ConnectionTest(ok, message, tested_at)


def local_provider_test() -> ConnectionTest:
    try:
        message, ok = registry.build_provider(registry.LOCAL).test_connection(), True
    except Exception as error:
        logger.exception("the local AI provider does not work")
        message, ok = f"The local provider does not work: {type(error).__name__}: {error}", False
    return ConnectionTest(ok, _short(message), timezone.now())


# --- Routes and policy --------------------------------------------------------------------------


def feature_route_set(*, feature: str, provider_config_ids: Iterable[int]) -> FeatureRoute:
    """`feature` is served by these configurations in this order, then by the local provider."""
    feature = feature.strip()
    ids = list(dict.fromkeys(int(pk) for pk in provider_config_ids))
    errors = {}
    if not feature:
        errors["feature"] = ["Name the feature this route is for, e.g. “rewrite”."]
    missing = set(ids) - set(ProviderConfig.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if missing:
        errors["provider_config_ids"] = ["Some of the chosen providers no longer exist; reload the page."]
    if errors:
        raise ValidationError(errors)
    route, _ = FeatureRoute.objects.update_or_create(feature=feature, defaults={"provider_config_ids": ids})
    return route


def feature_route_delete(*, feature: str) -> None:
    for route in FeatureRoute.objects.filter(feature=feature):
        route.delete()  # one by one, so the signal invalidates the cache


def ai_policy_update(
    *,
    actor=None,
    allow_external_providers: bool | None = None,
    max_input_chars: int | None = None,
    cache_ttl_seconds: int | None = None,
) -> AIPolicy:
    """Adds the new policy row (the history shows who changed what); unchanged values carry over."""
    current = ai_policy_get()
    policy = AIPolicy(
        allow_external_providers=current.allow_external_providers
        if allow_external_providers is None
        else allow_external_providers,
        max_input_chars=current.max_input_chars if max_input_chars is None else max_input_chars,
        cache_ttl_seconds=current.cache_ttl_seconds if cache_ttl_seconds is None else cache_ttl_seconds,
        changed_by=actor if getattr(actor, "pk", None) else None,
    )
    policy.full_clean(exclude=["changed_by"])
    policy.save()
    return policy


# --- Prompts ------------------------------------------------------------------------------------


@transaction.atomic
def prompt_override_save(
    *, feature: str, text: str, author=None, note: str = "", activate: bool = True
) -> PromptOverride:
    """A new version of the workspace's prompt for `feature` (numbered after the last one), active by default."""
    latest = PromptOverride.objects.filter(feature=feature).aggregate(top=Max("version"))["top"] or 0
    try:
        prompts.override_template(feature, text, latest + 1)
    except prompts.PromptFormatError as error:
        raise ValidationError({"text": [str(error)]}) from None
    if activate:
        PromptOverride.objects.filter(feature=feature, active=True).update(active=False)
    return PromptOverride.objects.create(
        feature=feature,
        text=text.replace("\r\n", "\n"),
        version=latest + 1,
        note=note.strip()[:200],
        active=activate,
        author=author if getattr(author, "pk", None) else None,
    )


@transaction.atomic
def prompt_override_activate(*, override: PromptOverride) -> PromptOverride:
    try:
        prompts.override_template(override.feature, override.text, override.version)
    except prompts.PromptFormatError as error:
        raise ValidationError({"text": [f"This version cannot be used any more: {error}"]}) from None
    PromptOverride.objects.filter(feature=override.feature, active=True).exclude(pk=override.pk).update(active=False)
    override.active = True
    override.save(update_fields=["active"])
    return override


@transaction.atomic
def prompt_override_reset(*, feature: str) -> None:
    """Back to the shipped prompt; the workspace's versions stay in the history."""
    for override in PromptOverride.objects.filter(feature=feature, active=True):
        override.active = False
        override.save(update_fields=["active"])


@dataclass(frozen=True)
class PromptPreview:
    system: str
    user: str
    sent_system: str  # what an external provider would receive: personal data replaced by placeholders
    sent_user: str
    placeholders: tuple[str, ...]
    errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def prompt_preview(feature: str, text: str, sample_context: Mapping[str, Any] | None = None) -> PromptPreview:
    """Renders a draft of the prompt for `feature` against sample data, without saving or calling anyone."""
    context = prompts.SAMPLE_CONTEXT | {key: str(value) for key, value in (sample_context or {}).items()}
    try:
        template = prompts.override_template(feature, text, 0)
        rendered = template.render(context)
    except (prompts.PromptFormatError, AIInputError) as error:
        return PromptPreview("", "", "", "", (), (str(error),))
    redactor = safety.Redactor()
    return PromptPreview(
        system=rendered.system,
        user=rendered.user,
        sent_system=redactor.redact(rendered.system),
        sent_user=redactor.redact(rendered.user),
        placeholders=tuple(sorted(template.placeholders)),
        errors=(),
    )


def ai_cache_invalidate(*, feature: str | None = None) -> None:
    ai_cache.invalidate(feature)


# --- Budget notices -----------------------------------------------------------------------------


def budget_exhausted_notify(*, config_id: int, month: str) -> int:
    """Tells the owners and admins by email that a provider's budget is spent; returns the number of recipients."""
    config = ProviderConfig.objects.filter(pk=config_id).first()
    if config is None:
        return 0
    month_name = datetime.strptime(month, "%Y-%m").strftime("%B %Y")
    notice = BudgetNotice(config_id=config.pk, provider_name=config.label, month=month, month_label=month_name)
    answers = budget_exhausted.send(sender=BudgetNotice, notice=notice)
    if answers:  # the notifications app tells them (in app and by email, as each person chose)
        return sum(told for _receiver, told in answers if isinstance(told, int))
    recipients = manager_emails()
    if not recipients:
        return 0
    tenant = getattr(connection, "tenant", None)
    context = {
        "config": config,
        "month": month_name,
        "workspace_name": getattr(tenant, "name", "") or "Switchboard",
        "settings_url": workspace_url("/settings/ai/") if tenant is not None else "",
    }
    emails.budget_exhausted_send(recipients=recipients, context=context)
    return len(recipients)
