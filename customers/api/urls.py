"""Customer and contact endpoints, mounted under /api/v1/."""

from django.urls import path

from .views import ContactDetailApi, ContactListApi, CustomerDetailApi, CustomerHealthApi, CustomerListApi

app_name = "customers_api"
urlpatterns = [
    path("customers/", CustomerListApi.as_view(), name="customer_list"),
    path("customers/<int:customer_id>/", CustomerDetailApi.as_view(), name="customer_detail"),
    path("customers/<int:customer_id>/health/", CustomerHealthApi.as_view(), name="customer_health"),
    path("contacts/", ContactListApi.as_view(), name="contact_list"),
    path("contacts/<int:contact_id>/", ContactDetailApi.as_view(), name="contact_detail"),
]
