"""Knowledge base for agents (/kb/): article list with hybrid search, article page, editor with live preview,
review of AI drafts, categories, and "Create article from this ticket".

The editor is a page of its own (it is too large for a modal): an invalid save re-renders it with status 400.
Categories use the modal pattern of customers/views.py (invalid → 200 into #modal-body, valid → modal:close).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import capability_required
from accounts.roles import user_can
from core.forms import add_service_errors
from core.htmx import hx_redirect, modal_done, render_modal, render_partial, wants_fragment

from ..kb_forms import ArticleCategoryForm, ArticleFilterForm, ArticleForm
from ..models import Article, ArticleCategory, Ticket
from ..selectors import kb as selectors
from ..services import kb as services

LIST_TEMPLATE = "helpdesk/kb_article_list.html"
DETAIL_TEMPLATE = "helpdesk/kb_article_detail.html"
FORM_TEMPLATE = "helpdesk/kb_article_form.html"
DELETE_TEMPLATE = "helpdesk/kb_article_confirm_delete.html"
CATEGORIES_TEMPLATE = "helpdesk/kb_category_list.html"
CATEGORY_FORM_TEMPLATE = "helpdesk/kb_category_form.html"
CATEGORY_DELETE_TEMPLATE = "helpdesk/kb_category_confirm_delete.html"
PAGE_SIZE = 25
SORT_LABELS = {
    "relevance": "Best match",
    "title": "Title",
    "-updated": "Recently updated",
    "-created": "Newest",
    "-helpful": "Most helpful",
    "-views": "Most viewed",
}


# --- Helpers ------------------------------------------------------------------------------------


def _article_or_404(article_id: int) -> Article:
    try:
        return selectors.article_get(article_id=article_id)
    except Article.DoesNotExist:
        raise Http404("No such article in this knowledge base.") from None


def _category_or_404(category_id: int) -> ArticleCategory:
    try:
        return selectors.article_category_get(category_id=category_id)
    except ArticleCategory.DoesNotExist:
        raise Http404("No such category.") from None


# --- List, detail -------------------------------------------------------------------------------


@require_GET
@capability_required("kb.view")
def article_list(request: HttpRequest) -> HttpResponse:
    form = ArticleFilterForm(request.GET)
    filters = form.filters()
    sort = form.chosen_sort(filters)
    page = selectors.article_list(filters=filters, sort=sort, page=form.chosen_page(), page_size=PAGE_SIZE)
    context = {
        "page": page,
        "filters": filters,
        "sort": sort,
        "sort_labels": SORT_LABELS,
        "can_edit": user_can(request.user, "kb.edit"),
    }
    if wants_fragment(request, "article-table"):
        return render_partial(request, LIST_TEMPLATE, "article-table", context)
    context |= {
        "categories": selectors.article_category_list(),
        "tags": selectors.article_tags(),
        "review_count": selectors.articles_needing_review_count(),
        "statuses": Article.Status.choices,
        "visibilities": Article.Visibility.choices,
    }
    return render(request, LIST_TEMPLATE, context)


@require_GET
@capability_required("kb.view")
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _article_or_404(article_id)
    return render(request, DETAIL_TEMPLATE, {"article": article, "can_edit": user_can(request.user, "kb.edit")})


# --- Editor -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("kb.edit")
def article_create(request: HttpRequest) -> HttpResponse:
    form = ArticleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            article = services.article_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved “{article.title}”.")
            return redirect("kb:article_detail", article_id=article.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, FORM_TEMPLATE, {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@capability_required("kb.edit")
def article_update(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _article_or_404(article_id)
    form = ArticleForm(request.POST if request.method == "POST" else None, article=article)
    if request.method == "POST" and form.is_valid():
        try:
            services.article_update(article=article, actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved “{article.title}”.")
            return redirect("kb:article_detail", article_id=article.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, FORM_TEMPLATE, {"form": form, "article": article}, status=status)


@require_POST
@capability_required("kb.edit")
def article_preview(request: HttpRequest) -> HttpResponse:
    """The editor's live preview: the body as the help center will show it."""
    return render_partial(request, FORM_TEMPLATE, "article-preview", {"body": request.POST.get("body", "")})


@require_http_methods(["GET", "POST"])
@capability_required("kb.edit")
def article_delete(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _article_or_404(article_id)
    if request.method == "POST":
        services.article_delete(article=article, actor=request.user)
        messages.success(request, f"Deleted “{article.title}”.")
        return hx_redirect(request, reverse("kb:article_list"))
    return render_modal(request, DELETE_TEMPLATE, {"article": article})


@require_POST
@capability_required("kb.edit")
def article_review(request: HttpRequest, article_id: int) -> HttpResponse:
    """ "Reviewed": a person checked the AI draft; the AI-generated mark goes."""
    article = _article_or_404(article_id)
    services.article_review(article=article, actor=request.user)
    messages.success(request, f"Marked “{article.title}” as reviewed.")
    return hx_redirect(request, reverse("kb:article_detail", args=[article.pk]))


@require_POST
@capability_required("kb.edit")
def article_from_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """ "Create article from this ticket" (templates/helpdesk/_kb_from_ticket.html): a draft, then its editor."""
    try:
        ticket = selectors.ticket_get_for_article(ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket in this workspace.") from None
    try:
        article = services.article_create_from_ticket(ticket=ticket, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return hx_redirect(request, _back(request))
    messages.success(request, f"Drafted “{article.title}” from ticket #{ticket.pk}. Check it, then mark it reviewed.")
    return hx_redirect(request, reverse("kb:article_update", args=[article.pk]))


def _back(request: HttpRequest) -> str:
    """The page the button was on (a local path only), else the knowledge base."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("kb:article_list")


# --- Categories ---------------------------------------------------------------------------------


def _categories_updated(request: HttpRequest) -> HttpResponse:
    context = {"categories": selectors.article_category_list(), "can_edit": True, "oob": True}
    return modal_done(render_partial(request, CATEGORIES_TEMPLATE, "category-table", context).content.decode())


@require_GET
@capability_required("kb.view")
def category_list(request: HttpRequest) -> HttpResponse:
    context = {"categories": selectors.article_category_list(), "can_edit": user_can(request.user, "kb.edit")}
    return render(request, CATEGORIES_TEMPLATE, context)


@require_http_methods(["GET", "POST"])
@capability_required("kb.edit")
def category_create(request: HttpRequest) -> HttpResponse:
    form = ArticleCategoryForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            category = services.article_category_create(**form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Added the category “{category.name}”.")
            return _categories_updated(request) if request.htmx else redirect("kb:category_list")
    return render_modal(request, CATEGORY_FORM_TEMPLATE, {"form": form})


@require_http_methods(["GET", "POST"])
@capability_required("kb.edit")
def category_update(request: HttpRequest, article_category_id: int) -> HttpResponse:
    category = _category_or_404(article_category_id)
    form = ArticleCategoryForm(request.POST if request.method == "POST" else None, category=category)
    if request.method == "POST" and form.is_valid():
        try:
            services.article_category_update(category=category, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Saved the category “{category.name}”.")
            return _categories_updated(request) if request.htmx else redirect("kb:category_list")
    return render_modal(request, CATEGORY_FORM_TEMPLATE, {"form": form, "category": category})


@require_http_methods(["GET", "POST"])
@capability_required("kb.edit")
def category_delete(request: HttpRequest, article_category_id: int) -> HttpResponse:
    category = _category_or_404(article_category_id)
    if request.method == "POST":
        count = services.article_category_delete(category=category)
        kept = f"; its {count} article{'s' if count != 1 else ''} stay, without a category" if count else ""
        messages.success(request, f"Deleted the category “{category.name}”{kept}.")
        return _categories_updated(request) if request.htmx else redirect("kb:category_list")
    return render_modal(request, CATEGORY_DELETE_TEMPLATE, {"category": category})
