"""URLs of a workspace (<slug>.localhost). Never served on the public schema."""

from django.urls import include, path
from django.views.generic import RedirectView

from accounts.admin_site import workspace_admin_site
from accounts.permissions import capability_required
from core.views import favicon, healthz

urlpatterns = [
    # Agents start in their ticket queue.
    path(
        "",
        capability_required("tickets.view")(RedirectView.as_view(pattern_name="tickets:ticket_list")),
        name="home",
    ),
    path("accounts/", include("allauth.urls")),
    path("people/", include("config.urls.people")),
    path("team/", include("accounts.urls")),
    path("customers/", include("customers.urls")),
    path("leads/", include("leads.urls")),
    path("quotes/", include("quotes.urls")),
    path("insights/", include("insights.urls")),
    path("automation/", include("automation.urls")),
    path("notifications/", include("notifications.urls")),
    path("q/", include("quotes.urls_public")),  # the customer's quote link (quotes.public.PUBLIC_PATH)
    path("tickets/", include("helpdesk.urls.tickets")),
    path("tickets/", include("helpdesk.urls.ticket_ai")),
    path("tickets/", include("helpdesk.urls.macros")),
    path("kb/", include("helpdesk.urls.kb")),
    path("help/", include("helpdesk.urls.help_center")),
    path("settings/helpdesk/", include("helpdesk.urls.helpdesk_settings")),
    path("settings/ai/", include("ai.urls")),
    path("", include("inbox.urls.sms")),  # Settings → Channels → SMS, and Twilio's webhooks
    path("settings/channels/chat/", include("inbox.urls.chat_settings")),
    path("chat/", include("inbox.urls.chat")),
    path("", include("inbox.urls")),  # /settings/channels/, /inbox/ and the inbox's other pages
    path("api/v1/", include("config.urls.api")),
    path("admin/", workspace_admin_site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
]

# Styled pages for people, the API's JSON error body under /api/ (core.error_views).
handler403 = "core.error_views.error_403"
handler404 = "core.error_views.error_404"
handler500 = "core.error_views.error_500"
