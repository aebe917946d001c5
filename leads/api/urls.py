"""Lead endpoints, mounted under /api/v1/."""

from django.urls import path

from .views import LeadDetailApi, LeadListApi, LeadMoveApi

app_name = "leads_api"
urlpatterns = [
    path("leads/", LeadListApi.as_view(), name="lead_list"),
    path("leads/<int:lead_id>/", LeadDetailApi.as_view(), name="lead_detail"),
    path("leads/<int:lead_id>/move/", LeadMoveApi.as_view(), name="lead_move"),
]

# Lead intelligence (leads/api/intelligence.py).
from .intelligence import LeadIntelligenceApi  # noqa: E402

urlpatterns += [
    path("leads/<int:lead_id>/intelligence/", LeadIntelligenceApi.as_view(), name="lead_intelligence"),
]
