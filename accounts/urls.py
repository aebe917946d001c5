"""Workspace URLs under /team/: member and invitation actions, accepting an invitation, the personal API token.
The members page itself is /people/ (config/urls/people.py); /team/ sends old bookmarks there."""

from django.urls import path
from django.views.generic import RedirectView

from . import views
from .permissions import capability_required


def _to_people(page: str):
    return RedirectView.as_view(pattern_name=f"people:{page}", permanent=True, query_string=True)


app_name = "accounts"
urlpatterns = [
    path("", capability_required("team.view")(_to_people("members")), name="team"),
    path("members/<int:user_id>/role/", views.member_role, name="member_role"),
    path("members/<int:user_id>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("members/<int:user_id>/reactivate/", views.member_reactivate, name="member_reactivate"),
    path("invitations/new/", views.invitation_create, name="invitation_create"),
    path("invitations/<int:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("join/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("api-token/", views.api_token, name="api_token"),
    path("api-token/new/", views.api_token_create, name="api_token_create"),
    path("api-token/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
