"""Quote endpoints, mounted under /api/v1/."""

from django.urls import path

from .views import (
    QuoteCopilotApi,
    QuoteDetailApi,
    QuoteFromLeadApi,
    QuoteLineDetailApi,
    QuoteLineListApi,
    QuoteListApi,
    QuotePdfApi,
    QuoteStatusApi,
)

app_name = "quotes_api"
urlpatterns = [
    path("quotes/", QuoteListApi.as_view(), name="quote_list"),
    path("quotes/from-lead/", QuoteFromLeadApi.as_view(), name="quote_from_lead"),
    path("quotes/<int:quote_id>/", QuoteDetailApi.as_view(), name="quote_detail"),
    path("quotes/<int:quote_id>/copilot/", QuoteCopilotApi.as_view(), name="quote_copilot"),
    path("quotes/<int:quote_id>/lines/", QuoteLineListApi.as_view(), name="line_list"),
    path("quotes/lines/<int:line_id>/", QuoteLineDetailApi.as_view(), name="line_detail"),
    path("quotes/<int:quote_id>/status/", QuoteStatusApi.as_view(), name="quote_status"),
    path("quotes/<int:quote_id>/pdf/", QuotePdfApi.as_view(), name="quote_pdf"),
]
