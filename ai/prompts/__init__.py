"""Prompts: the system versions shipped as files here, a workspace's overrides, and how both are rendered.

One file per prompt version, `<key>.v<N>.txt` (the highest N is the one in use), in a plain format:

    # One line saying what the prompt is for.
    [system]
    Instructions for the model, with $placeholders.
    [user]
    The message, usually the customer's $text.

Placeholders follow `string.Template`: `$name` or `${name}`, and `$$` for a dollar sign. A workspace override
(`ai.models.PromptOverride`) uses the same format and may only use the placeholders of the system prompt it
replaces, so every caller that satisfies the system prompt satisfies the override too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

from ..contracts import AIInputError

PROMPT_DIR = Path(__file__).resolve().parent
FILE_NAME = re.compile(r"^(?P<key>[a-z0-9][a-z0-9_.-]*)\.v(?P<version>\d+)\.txt$")
SECTION = re.compile(r"^\[(system|user)\][ \t]*$", re.MULTILINE)


class PromptFormatError(ValueError):
    """A prompt text that cannot be used; the message is for the person editing it."""


@dataclass(frozen=True)
class RenderedPrompt:
    system: str
    user: str


@dataclass(frozen=True)
class PromptTemplate:
    key: str
    version: str  # "system:v2" | "tenant:v5"
    description: str
    system: str
    user: str

    @property
    def source(self) -> str:
        return self.version.split(":", 1)[0]

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(Template(self.system).get_identifiers()) | frozenset(Template(self.user).get_identifiers())

    def render(self, context: Mapping[str, str]) -> RenderedPrompt:
        missing = sorted(self.placeholders - set(context))
        if missing:
            raise AIInputError(
                f"The {self.key} prompt ({self.version}) needs {', '.join('$' + name for name in missing)}, "
                "which the caller did not provide."
            )
        return RenderedPrompt(
            Template(self.system).substitute(context).strip(), Template(self.user).substitute(context).strip()
        )


def parse(text: str, *, key: str, version: str) -> PromptTemplate:
    """Raises PromptFormatError with a message an editor can act on."""
    text = text.replace("\r\n", "\n").strip("\n")
    description = ""
    if text.startswith("#"):
        header, _, text = text.partition("\n")
        description = header.lstrip("#").strip()
    sections = SECTION.split(text)
    if sections[0].strip():
        raise PromptFormatError("Start the prompt with a [system] line (after an optional # description line).")
    found: dict[str, str] = {}
    for name, body in zip(sections[1::2], sections[2::2], strict=True):
        if name in found:
            raise PromptFormatError(f"The [{name}] section appears twice.")
        found[name] = body.strip("\n")
    if set(found) != {"system", "user"}:
        raise PromptFormatError("A prompt needs a [system] section and a [user] section.")
    if not found["user"].strip():
        raise PromptFormatError("The [user] section is empty: it usually holds $text.")
    for name, body in found.items():
        if not Template(body).is_valid():
            raise PromptFormatError(
                f"The [{name}] section has a $ that is not a placeholder: write $$ for a dollar sign, "
                "and $name or ${name} for a placeholder."
            )
    return PromptTemplate(key, version, description, found["system"], found["user"])


def _file_versions() -> dict[str, dict[int, Path]]:
    versions: dict[str, dict[int, Path]] = {}
    for path in PROMPT_DIR.glob("*.txt"):
        match = FILE_NAME.match(path.name)
        if match:
            versions.setdefault(match["key"], {})[int(match["version"])] = path
    return versions


@lru_cache(maxsize=1)
def system_prompts() -> dict[str, PromptTemplate]:
    """The newest shipped version of every prompt, parsed once per process."""
    prompts = {}
    for key, versions in _file_versions().items():
        number = max(versions)
        prompts[key] = parse(versions[number].read_text(encoding="utf-8"), key=key, version=f"system:v{number}")
    return prompts


def system_prompt(key: str) -> PromptTemplate | None:
    return system_prompts().get(key)


def system_prompt_history(key: str) -> list[PromptTemplate]:
    """Every shipped version, newest first (for the prompt editor's history)."""
    versions = _file_versions().get(key, {})
    return [
        parse(versions[number].read_text(encoding="utf-8"), key=key, version=f"system:v{number}")
        for number in sorted(versions, reverse=True)
    ]


def override_template(key: str, text: str, version: int) -> PromptTemplate:
    template = parse(text, key=key, version=f"tenant:v{version}")
    check_override(template)
    return template


def check_override(template: PromptTemplate) -> None:
    system = system_prompt(template.key)
    if system is None:
        raise PromptFormatError(f"There is no prompt called {template.key!r} to override.")
    unknown = sorted(template.placeholders - system.placeholders)
    if unknown:
        allowed = ", ".join("$" + name for name in sorted(system.placeholders)) or "none"
        raise PromptFormatError(
            f"Unknown placeholder(s) {', '.join('$' + name for name in unknown)}. This prompt can use: {allowed}."
        )


def resolve(key: str, overrides: Mapping[str, tuple[str, int]]) -> PromptTemplate | None:
    """The workspace's active override of `key`, else the shipped prompt; None if neither exists.

    `overrides` maps keys to (text, version) of the active overrides. An override that no longer parses (a
    later release removed a placeholder it uses) is ignored in favour of the system prompt rather than failing.
    """
    if key in overrides:
        text, version = overrides[key]
        try:
            return override_template(key, text, version)
        except PromptFormatError:
            pass
    return system_prompt(key)


# Sample values for the prompt editor's preview, so an admin sees a realistic rendering without typing any.
SAMPLE_CONTEXT: dict[str, str] = {
    "text": (
        "Hi, since this morning I can't log in to the dashboard. I reset my password twice and still get "
        '"invalid credentials". I use Chrome 126 on Windows 11. Can you help? — Dana (dana@example.com)'
    ),
    "labels": "- billing: invoices, payments, refunds\n- login: sign-in problems, passwords, 2FA\n- bug: errors",
    "max_sentences": "3",
    "style": "friendly",
    "style_instructions": "Warm, plain and polite. Keep every fact; do not add any.",
    "categories": "abuse, threat, self-harm, sexual, spam",
    "customer_name": "Dana Whitfield",
    "customer_message": "I can't log in since this morning, I reset my password twice.",
    "agent_name": "Sam",
    "workspace_name": "Acme Support",
    "notes": "Known incident: sign-in outage for EU accounts since 08:10 UTC, fix expected by noon.",
    "error": "The reply is not valid JSON (Expecting value: line 1 column 1).",
    "schema": '{"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}',
}
