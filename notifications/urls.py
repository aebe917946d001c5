from django.urls import path

from . import views, views_admin

app_name = "notifications"

urlpatterns = [
    path("", views.notification_centre, name="centre"),
    path("bell/", views.notification_bell, name="bell"),
    path("latest/", views.notification_latest, name="latest"),
    path("open/", views.notification_open, name="open"),
    path("read-all/", views.notifications_read_all, name="read_all"),
    path("preferences/", views.preferences, name="preferences"),
    path("push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("push/unsubscribe/", views.push_unsubscribe, name="push_unsubscribe"),
    path("people/", views.mention_people, name="mention_people"),
    path("follow/ticket/<int:ticket_id>/", views.follow_toggle, name="follow"),
    path("defaults/", views_admin.workspace_defaults, name="defaults"),
    path("deliveries/", views_admin.delivery_log, name="deliveries"),
    path("templates/", views_admin.template_list, name="template_list"),
    path("templates/<str:event>/<slug:channel>/", views_admin.template_edit, name="template_edit"),
    path("templates/<str:event>/<slug:channel>/preview/", views_admin.template_preview, name="template_preview"),
    path("templates/<str:event>/<slug:channel>/reset/", views_admin.template_reset, name="template_reset"),
]
