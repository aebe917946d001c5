"""SMS URLs: the settings pages (Settings → Channels → SMS) and the public endpoints Twilio calls."""

from django.urls import path

from ..views import sms

app_name = "sms"

urlpatterns = [
    path("settings/channels/sms/", sms.number_list, name="number_list"),
    path("settings/channels/sms/new/", sms.number_create, name="number_create"),
    path("settings/channels/sms/<int:sms_number_id>/edit/", sms.number_update, name="number_update"),
    path("settings/channels/sms/<int:sms_number_id>/delete/", sms.number_delete, name="number_delete"),
    path("settings/channels/sms/<int:sms_number_id>/test/", sms.number_test, name="number_test"),
    path("inbox/sms/twilio/inbound/", sms.inbound, name="inbound"),
    path("inbox/sms/twilio/status/", sms.status, name="status"),
]
