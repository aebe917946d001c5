"""Every class a template names is defined in the CSS the pages load, and our own badge colours are readable.

Bootstrap 5.3 has `bg-*-subtle` but no `text-bg-*-subtle`: badges written with the latter rendered white on white.
Contrast on whole pages is checked in the browser (config/tests/test_accessibility_browser.py); this checks every
badge colour, including the statuses no page happens to show.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from helpdesk.models import Ticket
from helpdesk.templatetags.sla_tags import BADGE_CLASSES

ROOT = Path(settings.BASE_DIR)
STYLESHEETS = [
    "static/vendor/bootstrap-5.3.9/css/bootstrap.min.css",
    "static/vendor/bootstrap-icons-1.13.2/bootstrap-icons.min.css",
    "static/css/switchboard.css",
    "static/css/helpdesk.css",
]
# Classes that name a region for people reading the markup, not a style.
MARKERS = {"sb-ai-diff", "sb-ai-panel", "sb-auth-form", "sb-fields", "sb-sla-timers", "sb-ticket-link"}
CLASS_ATTRIBUTE = re.compile(r'\bclass="([^"]*)"')
TAG = re.compile(r"\{%.*?%\}", re.DOTALL)
EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.DOTALL)


def _defined_classes() -> set[str]:
    css = "\n".join((ROOT / path).read_text() for path in STYLESHEETS)
    return set(re.findall(r"\.(-?[_a-zA-Z][\w-]*)", css))


def _classes_in(value: str) -> set[str]:
    """The literal classes of one class attribute: each branch of a `{% if %}`, none built from a variable."""
    value = EXPRESSION.sub("\0", TAG.sub("\1", value))
    classes = set()
    for token in value.split():
        parts = token.split("\1")
        if "\0" in token or "{" in token or any(part.startswith("-") or part.endswith("-") for part in parts):
            continue  # built from a variable (`sb-status-{{ ticket.status }}`): checked below where it matters
        classes.update(part for part in parts if part)
    return classes


def _template_classes() -> dict[str, set[str]]:
    """Classes of the templates, and of the HTML that template tags write in Python (the ticket list's rows)."""
    used: dict[str, set[str]] = {}
    templates = sorted((ROOT / "templates").rglob("*.html")) + sorted(ROOT.glob("*/templates/**/*.html"))
    for path in templates + sorted(ROOT.glob("*/templatetags/*.py")):
        for match in CLASS_ATTRIBUTE.finditer(path.read_text()):
            for name in _classes_in(match.group(1)):
                used.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return used


def test_class_reader_takes_every_branch_and_skips_classes_built_from_variables():
    value = "badge {% if a %}text-bg-warning{% else %}text-bg-info-subtle{% endif %}"
    value += " sb-status-{{ x }} bi-{% if b %}up{% endif %} sb-priority-{ticket.priority}"

    assert _classes_in(value) == {"badge", "text-bg-warning", "text-bg-info-subtle"}


def test_every_class_a_template_uses_is_defined_in_the_shipped_css():
    defined = _defined_classes() | MARKERS

    undefined = {name: sorted(paths) for name, paths in _template_classes().items() if name not in defined}

    assert undefined == {}


def test_ticket_status_and_priority_badges_have_a_style_for_every_choice():
    defined = _defined_classes()
    wanted = {f"sb-status-{value}" for value in Ticket.Status.values}
    wanted |= {f"sb-priority-{value}" for value in Ticket.Priority.values}

    assert wanted - defined == set()


def test_sla_timer_badges_use_defined_classes():
    defined = _defined_classes()

    assert {name for classes in BADGE_CLASSES.values() for name in classes.split()} - defined == set()


RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
HEX = r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b"


def _luminance(colour: str) -> float:
    colour = colour if len(colour) == 6 else "".join(digit * 2 for digit in colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted([_luminance(foreground), _luminance(background)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _own_colour_pairs() -> dict[str, tuple[str, str]]:
    """`selector: (text, background)` for our rules that set a text colour; white where they set no background."""
    css = (ROOT / "static/css/switchboard.css").read_text() + (ROOT / "static/css/helpdesk.css").read_text()
    accent = re.search(r"--sb-accent:\s*" + HEX, css).group(1)
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL).replace("var(--sb-accent)", f"#{accent}")
    pairs = {}
    for selector, body in RULE.findall(css):
        text = re.search(r"(?:^|;)\s*color:\s*" + HEX, body)
        background = re.search(r"background(?:-color)?:\s*" + HEX, body)
        if text and "sb-" in selector:
            pairs[selector.strip()] = (text.group(1), background.group(1) if background else "fff")
    return pairs


def test_contrast_is_computed_as_wcag_defines_it():
    assert round(contrast("ffc107", "fff"), 2) == 1.63  # Bootstrap's warning on white, as the issue measured
    assert round(contrast("000", "fff"), 1) == 21.0


def test_our_badge_and_due_date_colours_reach_wcag_aa():
    pairs = _own_colour_pairs()

    assert {"sb-status-solved", "sb-priority-high", "sb-status-pending", "sb-due-soon"} <= {
        name.lstrip(".") for name in pairs
    }
    assert {name: round(contrast(*pair), 2) for name, pair in pairs.items() if contrast(*pair) < 4.5} == {}


def test_no_template_has_a_style_element_the_policy_would_refuse():
    """style-src allows only our files and nonced elements: an inline <style> is dropped without a word."""
    refused = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if re.search(r"<style(?![^>]*\bnonce=)", COMMENT.sub("", path.read_text()))
    ]

    assert refused == []
