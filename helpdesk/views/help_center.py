"""The workspace's public help center (/help/): articles and search, "Was this helpful?", the request form with
article suggestions (deflection), the request status page (signed link, no login), "My requests" (signed in by an
emailed one-time link) and the satisfaction survey. Anonymous by design: every route here is listed in
PUBLIC_ROUTES of config/tests/test_authorization.py.

"My requests" is not a Django login: the session holds the contact's id and the workspace's schema under
HELP_SESSION_KEY, read only by these views, so a customer never becomes a user of the agent workspace.

What a visitor can reach: published public articles only (a draft or internal article is a 404, never a 403 that
would confirm it exists); on a request's page, public replies only. The help-center switch in the helpdesk
settings closes the articles and the form; links already emailed (a request's page, a survey) keep working.
Abuse: per-IP rate limits in the cache (fail open if the cache is down), and a honeypot field on the form. The
request form counts only requests it accepted, per address and per requester email (so nobody floods one inbox
with acknowledgements), and a visitor over the limit gets the form back with what they typed.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.client_ip import client_ip
from core.forms import add_service_errors
from core.htmx import render_partial
from core.rate_limit import over_limit

from ..kb_forms import DeflectionForm, HelpRequestForm, RequestReplyForm, SignInForm, SurveyForm
from ..models import Article, ArticleCategory, DeflectionEvent, HelpdeskSettings
from ..selectors import csat as csat_selectors
from ..selectors import help_center as help_selectors
from ..selectors import kb as kb_selectors
from ..selectors.config import helpdesk_settings_get
from ..services import csat, help_center
from ..services import kb as kb_services

logger = logging.getLogger(__name__)

HOME_TEMPLATE = "helpdesk/help_home.html"
CATEGORY_TEMPLATE = "helpdesk/help_category.html"
ARTICLE_TEMPLATE = "helpdesk/help_article.html"
REQUEST_TEMPLATE = "helpdesk/help_request_form.html"
STATUS_TEMPLATE = "helpdesk/help_request_status.html"
SURVEY_TEMPLATE = "helpdesk/help_survey.html"
SIGN_IN_TEMPLATE = "helpdesk/help_sign_in.html"
SIGN_IN_OPEN_TEMPLATE = "helpdesk/help_sign_in_open.html"
MY_REQUESTS_TEMPLATE = "helpdesk/help_my_requests.html"
HELP_SESSION_KEY = "help_center_contact"
HELP_SESSION_MAX_AGE = 7 * 24 * 3600
LIMITED_TEMPLATE = "helpdesk/help_limited.html"
LINK_REFUSED_TEMPLATE = "helpdesk/help_link_refused.html"
HOUR = 3600
# (attempts, seconds) per client address; "request", "request_email" and "reply" count accepted ones only.
LIMITS = {
    "request": (5, HOUR),
    "request_email": (5, HOUR),
    "reply": (20, HOUR),
    "vote": (30, HOUR),
    "survey": (20, HOUR),
    "sign_in": (10, HOUR),
    "sign_in_email": (3, HOUR),
    "sign_in_open": (30, HOUR),
    "suggest": (600, HOUR),
    "deflect": (30, HOUR),
}
VOTE_MEMORY = 24 * HOUR  # one vote per article and address per day


# --- Helpers ------------------------------------------------------------------------------------


def _over_limit(request: HttpRequest, action: str) -> bool:
    """Counts this attempt; True once the address exceeded the action's limit in the current window."""
    return over_limit(f"help:limit:{action}:{client_ip(request)}", *LIMITS[action])


def _limit_key(action: str, subject: str) -> str:
    return f"help:limit:{action}:{subject}"


def _limit_reached(action: str, subject: str) -> bool:
    """True once `subject` used up the action's allowance in the current window; counts nothing."""
    limit, _ = LIMITS[action]
    try:
        return (cache.get(_limit_key(action, subject)) or 0) >= limit
    except Exception:  # a cache outage must not close the help center
        logger.warning("help-center rate limit unavailable; allowing %s", action, exc_info=True)
        return False


def _limit_count(action: str, subject: str) -> None:
    """Counts one accepted attempt of `subject`; the window starts with the first."""
    _, window = LIMITS[action]
    key = _limit_key(action, subject)
    try:
        cache.add(key, 0, timeout=window)
        cache.incr(key)
    except Exception:
        logger.warning("help-center rate limit unavailable; %s not counted", action, exc_info=True)


def _email_subject(email: str) -> str:
    # Hashed: the cache holds no visitor's address in clear.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _limited(request: HttpRequest, action: str) -> HttpResponse:
    _, window = LIMITS[action]
    context = {**_frame(helpdesk_settings_get()), "minutes": window // 60}
    response = render(request, LIMITED_TEMPLATE, context, status=429)
    response["Retry-After"] = str(window)
    return response


def _frame(settings: HelpdeskSettings) -> dict[str, Any]:
    """What every help-center page shows: its title, and whether the articles and form are open."""
    return {"help_title": help_selectors.help_center_title(settings), "help_open": settings.help_center_enabled}


def _open_help_center() -> HelpdeskSettings:
    settings = helpdesk_settings_get()
    if not settings.help_center_enabled:
        raise Http404("This workspace has no public help center.")
    return settings


def _article_or_404(slug: str) -> Article:
    try:
        return kb_selectors.help_article_get(slug=slug)
    except Article.DoesNotExist:
        raise Http404("No such article.") from None


# --- Articles -----------------------------------------------------------------------------------


@require_GET
def help_home(request: HttpRequest) -> HttpResponse:
    settings = _open_help_center()
    query = request.GET.get("q", "").strip()[:200]
    context = {**_frame(settings), "query": query}
    if query:
        context["results"] = kb_selectors.help_search(query=query)
    if request.htmx and request.htmx.target == "help-results":
        return render_partial(request, HOME_TEMPLATE, "help-results", context)
    context |= {"categories": kb_selectors.help_category_list(), "popular": kb_selectors.help_popular_articles()}
    return render(request, HOME_TEMPLATE, context)


@require_GET
def help_category(request: HttpRequest, category_slug: str) -> HttpResponse:
    settings = _open_help_center()
    try:
        category = kb_selectors.help_category_get(slug=category_slug)
    except ArticleCategory.DoesNotExist:
        raise Http404("No such category.") from None
    articles = kb_selectors.help_category_articles(category=category)
    return render(request, CATEGORY_TEMPLATE, {**_frame(settings), "category": category, "articles": articles})


@require_GET
def help_article(request: HttpRequest, article_slug: str) -> HttpResponse:
    settings = _open_help_center()
    article = _article_or_404(article_slug)
    kb_services.article_view_record(article=article)
    context = {**_frame(settings), "article": article, "related": kb_selectors.help_related_articles(article=article)}
    return render(request, ARTICLE_TEMPLATE, context)


@require_POST
def help_article_vote(request: HttpRequest, article_slug: str) -> HttpResponse:
    """ "Was this helpful?" yes/no: one vote per article and address a day, and a cap per address."""
    settings = _open_help_center()
    article = _article_or_404(article_slug)
    answer = request.POST.get("helpful")
    if answer not in {"yes", "no"}:
        return HttpResponse("Answer “yes” or “no”.", status=400, content_type="text/plain; charset=utf-8")
    if _over_limit(request, "vote"):
        return _limited(request, "vote")
    first = _first_vote(request, article)
    if first:
        kb_services.article_vote(article=article, helpful=answer == "yes")
    context = {**_frame(settings), "article": article, "voted": answer, "repeat": not first}
    if request.htmx:
        return render_partial(request, ARTICLE_TEMPLATE, "article-feedback", context)
    return redirect(reverse("help_center:article", args=[article.slug]) + "#article-feedback")


def _first_vote(request: HttpRequest, article: Article) -> bool:
    try:
        return cache.add(f"help:voted:{article.pk}:{client_ip(request)}", 1, timeout=VOTE_MEMORY)
    except Exception:
        return True


# --- Requests -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def help_request_new(request: HttpRequest) -> HttpResponse:
    settings = _open_help_center()
    form = HelpRequestForm(request.POST or None, request.FILES or None)
    context = {**_frame(settings), "form": form}
    if request.method != "POST":
        return render(request, REQUEST_TEMPLATE, context)
    if form.is_spam:
        # Bots get the same friendly page as people, so the trap is not obvious; nothing is created.
        return render(request, REQUEST_TEMPLATE, {**context, "dropped": True})
    address = client_ip(request)
    if _limit_reached("request", address):
        return _request_limited(request, context, "request")
    if form.is_valid():
        data = form.cleaned_data
        requester = _email_subject(data["email"])
        if _limit_reached("request_email", requester):
            return _request_limited(request, context, "request_email")
        try:
            ticket = help_center.help_request_submit(
                name=data["name"],
                email=data["email"],
                subject=data["subject"],
                description=data["description"],
                attachments=data["attachments"],
            )
        except ValidationError as error:
            add_service_errors(form, _as_form_error(error))
        else:
            _limit_count("request", address)
            _limit_count("request_email", requester)
            if data.get("suggested"):  # articles were shown, and the visitor asked anyway
                help_center.deflection_record(
                    outcome=DeflectionEvent.Outcome.NOT_HELPED,
                    ticket=ticket,
                    article=kb_selectors.help_articles().filter(pk=data.get("first_suggestion") or 0).first(),
                    suggested=data["suggested"],
                )
            token = help_selectors.request_token(ticket)
            return redirect(reverse("help_center:request_status", args=[token]) + "?sent=1")
    return render(request, REQUEST_TEMPLATE, context, status=400)


LIMIT_MESSAGES = {
    "request": "We received several requests from your connection in a short time.",
    "request_email": "We received several requests for this email address in a short time.",
    "reply": "We received several replies from your connection in a short time.",
}


def _request_limited(request: HttpRequest, context: dict[str, Any], action: str) -> HttpResponse:
    """The form again, with what the visitor typed (only files must be chosen again), and when to retry."""
    _, window = LIMITS[action]
    limit = {"message": LIMIT_MESSAGES[action], "minutes": window // 60}
    response = render(request, REQUEST_TEMPLATE, {**context, "limit": limit}, status=429)
    response["Retry-After"] = str(window)
    return response


def _as_form_error(error: ValidationError) -> ValidationError:
    """ticket_create names the requester "requester_email"; the form calls it "email"."""
    messages = error.message_dict
    if "requester_email" in messages:
        messages["email"] = messages.pop("requester_email")
    return ValidationError(messages)


# A refused status link: (HTTP status, what the page says).
LINK_REFUSED = {
    "invalid": (404, "This link is not valid. Check that you copied all of it."),
    "expired": (410, "This link has expired: links to a request work for {days} days after we send them."),
    "merged": (410, "This request was merged into another one, so its link no longer works."),
}


def _link_refused(request: HttpRequest, link: help_selectors.RequestLink) -> HttpResponse:
    status, message = LINK_REFUSED[link.refused]
    context = {
        **_frame(helpdesk_settings_get()),
        "message": message.format(days=django_settings.HELP_CENTER_LINK_MAX_AGE_DAYS),
        "number": link.number,
    }
    return render(request, LINK_REFUSED_TEMPLATE, context, status=status)


@require_http_methods(["GET", "POST"])
def help_request_status(request: HttpRequest, token: str) -> HttpResponse:
    """The requester's view of their ticket: status, public thread, and a reply box (reopens when solved)."""
    link = help_selectors.request_link_open(token)
    if link.ticket is None:
        return _link_refused(request, link)
    ticket = link.ticket
    form = RequestReplyForm(request.POST or None, request.FILES or None)
    status, limit = 200, None
    if request.method == "POST":
        address = client_ip(request)
        if _limit_reached("reply", address):
            # The page again with the typed reply kept (only files must be chosen again), and when to retry.
            status, limit = 429, {"message": LIMIT_MESSAGES["reply"], "minutes": LIMITS["reply"][1] // 60}
        else:
            if form.is_valid():
                try:
                    help_center.help_request_reply(
                        ticket=ticket, body=form.cleaned_data["body"], attachments=form.cleaned_data["attachments"]
                    )
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    _limit_count("reply", address)
                    return redirect(reverse("help_center:request_status", args=[token]) + "?replied=1")
            status = 400
    label, explanation = help_selectors.request_public_status(ticket)
    context = {
        **_frame(helpdesk_settings_get()),
        "ticket": ticket,
        "thread": help_selectors.request_thread(ticket=ticket),
        "status_label": label,
        "status_explanation": explanation,
        "form": form,
        "can_reply": ticket.status != ticket.Status.CLOSED,
        "sent": request.GET.get("sent") == "1",
        "replied": request.GET.get("replied") == "1",
        "limit": limit,
    }
    response = render(request, STATUS_TEMPLATE, context, status=status)
    if limit:
        response["Retry-After"] = str(LIMITS["reply"][1])
    return response


# --- Satisfaction survey ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def help_survey(request: HttpRequest, token: str) -> HttpResponse:
    survey = csat_selectors.survey_get_for_token(token)
    if survey is None:
        raise Http404("This survey link is not valid.")
    editable = csat_selectors.survey_editable(survey)
    initial = {"rating": request.GET.get("rating") or survey.rating, "comment": survey.comment}
    form = SurveyForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    saved = False
    if request.method == "POST":
        if _over_limit(request, "survey"):
            return _limited(request, "survey")
        if form.is_valid():
            try:
                survey = csat.survey_answer(survey=survey, **form.cleaned_data)
                saved = True
            except ValidationError as error:
                add_service_errors(form, error)
                status = 400
        else:
            status = 400
    context = {**_frame(helpdesk_settings_get()), "survey": survey, "form": form, "saved": saved}
    context["editable"] = editable and csat_selectors.survey_editable(survey)
    return render(request, SURVEY_TEMPLATE, context, status=status)


# --- Suggestions while writing a request (deflection) --------------------------------------------


@require_GET
def help_request_suggestions(request: HttpRequest) -> HttpResponse:
    """Articles matching what the visitor has typed so far (the request form asks, debounced, as they type)."""
    _open_help_center()
    text = f"{request.GET.get('subject', '')} {request.GET.get('description', '')}"
    matches = [] if _over_limit(request, "suggest") else help_selectors.help_suggestions(text=text)
    return render_partial(request, REQUEST_TEMPLATE, "request-suggestions", {"suggestions": matches})


@require_POST
def help_request_solved(request: HttpRequest) -> HttpResponse:
    """ "This solved my problem": counted as deflected; no ticket is created."""
    settings = _open_help_center()
    form = DeflectionForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Say which article helped.", status=400, content_type="text/plain; charset=utf-8")
    article = kb_selectors.help_articles().filter(pk=form.cleaned_data["article"]).first()
    if article is None:
        raise Http404("No such article.")
    if _over_limit(request, "deflect"):
        return _limited(request, "deflect")
    help_center.deflection_record(
        outcome=DeflectionEvent.Outcome.HELPED, article=article, suggested=form.cleaned_data.get("suggested") or 0
    )
    context = {**_frame(settings), "solved_by": article}
    if request.htmx:
        return render_partial(request, REQUEST_TEMPLATE, "request-solved", context)
    return render(request, REQUEST_TEMPLATE, context)


# --- "My requests": sign in by an emailed link -------------------------------------------------------


def help_contact_id(request: HttpRequest) -> int | None:
    """The signed-in customer's contact id in this workspace, else None (another workspace's or an old session)."""
    value = request.session.get(HELP_SESSION_KEY)
    if not isinstance(value, dict) or value.get("schema") != connection.schema_name:
        return None
    started = value.get("at")
    if not isinstance(started, int | float) or time.time() - started > HELP_SESSION_MAX_AGE:
        return None
    contact_id = value.get("contact")
    return contact_id if isinstance(contact_id, int) else None


@require_http_methods(["GET", "POST"])
def help_sign_in(request: HttpRequest) -> HttpResponse:
    """Asks for an email address and sends a link to it, answering the same whether or not it is a customer's."""
    settings = _open_help_center()
    form = SignInForm(request.POST or None)
    context = {**_frame(settings), "form": form}
    if request.method == "POST":
        if _over_limit(request, "sign_in"):
            return _limited(request, "sign_in")
        if not form.is_valid():
            return render(request, SIGN_IN_TEMPLATE, context, status=400)
        email = form.cleaned_data["email"]
        subject = _email_subject(email)
        # Past the per-address allowance nothing more is sent, and the page still says the same.
        if not _limit_reached("sign_in_email", subject) and help_center.help_sign_in_request(email=email):
            _limit_count("sign_in_email", subject)
        return render(request, SIGN_IN_TEMPLATE, {**context, "sent_to": email})
    return render(request, SIGN_IN_TEMPLATE, context)


SIGN_IN_REFUSED = {
    "invalid": (404, "This sign-in link is not valid. Check that you copied all of it, or ask for a new one."),
    "expired": (410, "This sign-in link has expired: links work for 30 minutes. Ask for a new one below."),
    "used": (410, "This sign-in link was already used: each link works once. Ask for a new one below."),
}


@require_http_methods(["GET", "POST"])
def help_sign_in_open(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link. Opening it (GET) only asks to continue: mail scanners that fetch links must not spend
    it; the button (POST) spends it and starts the help-center session."""
    if _over_limit(request, "sign_in_open"):
        return _limited(request, "sign_in_open")
    frame = _frame(helpdesk_settings_get())
    if request.method == "GET":
        check = help_selectors.sign_in_link_check(token)
        if check.link is None:
            return _sign_in_refused(request, frame, check.refused)
        return render(request, SIGN_IN_OPEN_TEMPLATE, {**frame, "email": check.link.contact.email})
    try:
        contact = help_center.help_sign_in_use(token=token)
    except ValidationError as error:
        return _sign_in_refused(request, frame, error.code or "invalid")
    request.session.cycle_key()  # a fresh session id for the signed-in customer (no fixation)
    request.session[HELP_SESSION_KEY] = {"contact": contact.pk, "schema": connection.schema_name, "at": time.time()}
    return redirect("help_center:my_requests")


def _sign_in_refused(request: HttpRequest, frame: dict[str, Any], reason: str) -> HttpResponse:
    status, message = SIGN_IN_REFUSED.get(reason, SIGN_IN_REFUSED["invalid"])
    context = {**frame, "refused": message, "reason": reason, "form": SignInForm()}
    return render(request, SIGN_IN_TEMPLATE, context, status=status)


@require_GET
def help_my_requests(request: HttpRequest) -> HttpResponse:
    contact_id = help_contact_id(request)
    if contact_id is None:
        return redirect("help_center:sign_in")
    rows = help_selectors.help_requests_for_contact(contact_id=contact_id)
    context = {**_frame(helpdesk_settings_get()), "rows": rows}
    response = render(request, MY_REQUESTS_TEMPLATE, context)
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def help_sign_out(request: HttpRequest) -> HttpResponse:
    request.session.pop(HELP_SESSION_KEY, None)
    return redirect("help_center:sign_in")
