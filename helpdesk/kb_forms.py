"""Forms of the knowledge base and the public help center: parse and check input; services do the writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from core.forms import BootstrapFormMixin
from core.uploads import ACCEPTED_SUMMARY as ACCEPTED_UPLOADS_SUMMARY
from core.uploads import KINDS as UPLOAD_KINDS

from .models import Article, ArticleCategory
from .selectors.kb import SORTS, ArticleFilters

# The file picker offers what core.uploads accepts (the server checks again, bytes included).
ACCEPTED_FILES = ",".join(UPLOAD_KINDS)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the size and type rules are the helpdesk's (helpdesk.validators)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPTED_FILES}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


def attachment_help() -> str:
    size = settings.HELPDESK_ATTACHMENT_MAX_BYTES // (1024 * 1024)
    return (
        f"Up to {settings.HELPDESK_ATTACHMENTS_PER_MESSAGE} files of at most {size} MB each: "
        f"{ACCEPTED_UPLOADS_SUMMARY}."
    )


# --- Agents' knowledge base ---------------------------------------------------------------------


class ArticleFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, help_text="Search words or a question.")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Article.Status.choices])
    visibility = forms.ChoiceField(required=False, choices=[("", "Any visibility"), *Article.Visibility.choices])
    # An id, not a choice among the categories: an unknown one simply matches nothing.
    category = forms.IntegerField(required=False, min_value=1, help_text="An article category's id.")
    tag = forms.CharField(required=False, max_length=40)
    review = forms.BooleanField(required=False, help_text="Only AI drafts waiting for review.")
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])
    page = forms.IntegerField(required=False, min_value=1, help_text="Page number; past the last, the last page.")

    def filters(self) -> ArticleFilters:
        """What the list shows; an invalid parameter (a stale link) is ignored rather than refused."""
        self.is_valid()
        data = self.cleaned_data
        return ArticleFilters(
            q=(data.get("q") or "").strip(),
            status=data.get("status") or "",
            visibility=data.get("visibility") or "",
            category_id=data.get("category"),
            tag=(data.get("tag") or "").strip().lower(),
            needs_review=bool(data.get("review")),
        )

    def chosen_sort(self, filters: ArticleFilters) -> str:
        return self.cleaned_data.get("sort") or ("relevance" if filters.q else "title")

    def chosen_page(self) -> int:
        return self.cleaned_data.get("page") or 1


class ArticleForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    slug = forms.CharField(
        max_length=220,
        required=False,
        help_text="The article's web address. Made from the title when left empty.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    body = forms.CharField(
        label="Article",
        max_length=100_000,
        help_text="Markdown: **bold**, *italic*, # headings, - lists, 1. steps, [links](https://…), tables.",
        widget=forms.Textarea(attrs={"rows": 18, "class": "font-monospace"}),
    )
    status = forms.ChoiceField(choices=Article.Status.choices)
    visibility = forms.ChoiceField(choices=Article.Visibility.choices)
    category = forms.ModelChoiceField(required=False, queryset=ArticleCategory.objects.all(), empty_label="No category")
    tags = forms.CharField(required=False, max_length=1000, help_text="Separate tags with commas.")

    def __init__(self, data=None, files=None, *, article: Article | None = None, **kwargs: Any) -> None:
        if article is not None and data is None:
            kwargs["initial"] = {
                "title": article.title,
                "slug": article.slug,
                "body": article.body,
                "status": article.status,
                "visibility": article.visibility,
                "category": article.category_id,
                "tags": ", ".join(article.tags),
            }
        super().__init__(data, files, **kwargs)
        self.style_fields()

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ArticleCategoryForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.CharField(max_length=100, required=False, help_text="Made from the name when left empty.")
    description = forms.CharField(max_length=300, required=False)
    position = forms.IntegerField(
        min_value=0, max_value=32767, initial=100, help_text="Lower comes first in the help center."
    )

    def __init__(self, data=None, *, category: ArticleCategory | None = None, **kwargs: Any) -> None:
        if category is not None and data is None:
            kwargs["initial"] = {
                "name": category.name,
                "slug": category.slug,
                "description": category.description,
                "position": category.position,
            }
        super().__init__(data, **kwargs)
        self.style_fields()


# --- Public help center -------------------------------------------------------------------------


class HelpRequestForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label="Your name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label="Your email address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    subject = forms.CharField(max_length=200, help_text="A few words that sum up your question.")
    description = forms.CharField(
        max_length=50_000,
        help_text="What happened, what you expected, and anything you already tried.",
        widget=forms.Textarea(attrs={"rows": 7}),
    )
    attachments = MultipleFileField(label="Attachments (optional)")
    # Honeypot: hidden from people (CSS and aria), filled in by bots that fill every field.
    website = forms.CharField(required=False, label="Leave this empty")
    # How many articles the suggestions showed (set by the suggestions fragment): sent anyway = "not helped".
    suggested = forms.IntegerField(required=False, min_value=0, max_value=50, widget=forms.HiddenInput)
    first_suggestion = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachment_help()
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})
        self.style_fields()

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website", "").strip())


class RequestReplyForm(BootstrapFormMixin, forms.Form):
    body = forms.CharField(label="Your reply", max_length=50_000, widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label="Attachments (optional)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachment_help()
        self.style_fields()


class SurveyForm(BootstrapFormMixin, forms.Form):
    rating = forms.TypedChoiceField(
        coerce=int,
        choices=[(5, "Very happy"), (4, "Happy"), (3, "Neutral"), (2, "Unhappy"), (1, "Very unhappy")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how happy you are with the help you got."},
    )
    comment = forms.CharField(
        label="Anything you would like to add? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()


class SignInForm(BootstrapFormMixin, forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="The address you write to us from. We email you a link to sign in: no password.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()


class DeflectionForm(forms.Form):
    """ "This solved my problem" under a suggested article."""

    article = forms.IntegerField(min_value=1)
    suggested = forms.IntegerField(required=False, min_value=0, max_value=50)
