from core.placeholders import (
    placeholders_find,
    placeholders_malformed,
    placeholders_paths,
    placeholders_render,
    placeholders_unknown,
)

CONTEXT = {"ticket": {"id": 42, "requester": {"first_name": "Ana", "email": "ana@example.com"}}, "agent": {"name": ""}}


def test_render_substitutes_nested_values():
    text = "Hi {{ ticket.requester.first_name }}, about #{{ticket.id}}."
    assert placeholders_render(text, CONTEXT) == "Hi Ana, about #42."


def test_render_uses_default_for_a_missing_or_empty_value():
    text = "{{ agent.name|default:\"The team\" }} / {{ nobody.here|default:'x' }} / [{{ ticket.nope }}]"
    assert placeholders_render(text, CONTEXT) == "The team / x / []"


def test_render_never_executes_template_code():
    text = "{% load static %}{{ settings.SECRET_KEY }}{{ ticket.requester|upper }}{{ ticket.__class__ }}"
    assert placeholders_render(text, CONTEXT) == text.replace("{{ settings.SECRET_KEY }}", "").replace(
        "{{ ticket.__class__ }}", ""
    )


def test_render_escapes_values_in_html_but_not_the_authors_text():
    context = {"ticket": {"subject": "<b>Hi</b>"}}
    assert placeholders_render("<p>{{ ticket.subject }}</p>", context, html=True) == "<p>&lt;b&gt;Hi&lt;/b&gt;</p>"


def test_a_mapping_is_not_a_value():
    assert placeholders_render("[{{ ticket.requester }}]", CONTEXT) == "[]"


def test_unknown_and_malformed_are_reported_for_forms():
    text = "{{ ticket.requester.first_name }} {{ ticket.reqester.first_name }} {% if x %} {{ x|upper }}"
    assert placeholders_unknown(text, placeholders_paths(CONTEXT)) == ["ticket.reqester.first_name"]
    assert placeholders_malformed(text) == ["{% if x %}", "{{ x|upper }}"]


def test_find_lists_paths_and_defaults_in_order():
    found = placeholders_find('{{ a.b }} {{ c|default:"d" }}')
    assert [(p.path, p.default) for p in found] == [("a.b", ""), ("c", "d")]


def test_paths_lists_every_leaf():
    assert placeholders_paths(CONTEXT) == [
        "agent.name",
        "ticket.id",
        "ticket.requester.email",
        "ticket.requester.first_name",
    ]
