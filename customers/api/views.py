"""REST endpoints for customers and contacts under /api/v1/: parse, call a selector or service, serialize."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import HasCapability
from core.api.pagination import KeysetCursorPagination
from core.api.params import form_parameters, validated_query
from core.keyset import KeysetOrder

from .. import selectors, services
from ..forms import ContactFilterForm, CustomerFilterForm
from ..models import Contact, Customer
from .serializers import (
    ContactCreateSerializer,
    ContactOutputSerializer,
    ContactUpdateSerializer,
    CustomerHealthOutputSerializer,
    CustomerInputSerializer,
    CustomerOutputSerializer,
)


class _CustomerApi(GenericAPIView):
    permission_classes = [HasCapability]
    read_capability = "customers.view"
    write_capability = "customers.edit"
    delete_capability = "customers.delete"


def _customer(customer_id: int) -> Customer:
    try:
        return selectors.customer_get(customer_id=customer_id)
    except Customer.DoesNotExist:
        raise NotFound(f"No customer has the id {customer_id} in this workspace.") from None


def _contact(contact_id: int) -> Contact:
    try:
        return selectors.contact_get(contact_id=contact_id)
    except Contact.DoesNotExist:
        raise NotFound(f"No contact has the id {contact_id} in this workspace.") from None


# --- Customers ----------------------------------------------------------------------------------


class CustomerListApi(_CustomerApi):
    serializer_class = CustomerOutputSerializer
    pagination_class = KeysetCursorPagination

    def keyset_order(self, request: Request) -> KeysetOrder:
        return selectors.customer_order(request.query_params.get("sort"))

    @extend_schema(
        summary="List customers",
        # The filters as the list page reads them; cursor and page_size come with the pagination.
        parameters=form_parameters(CustomerFilterForm, exclude=["cursor"]),
        responses=CustomerOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = validated_query(CustomerFilterForm, request.query_params).query(user=request.user)
        page = self.paginate_queryset(selectors.customer_queryset(filters=query.filters))
        return self.get_paginated_response(CustomerOutputSerializer(page, many=True).data)

    @extend_schema(summary="Add a customer", request=CustomerInputSerializer, responses={201: CustomerOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = CustomerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_create(actor=request.user, **serializer.validated_data)
        return Response(CustomerOutputSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerDetailApi(_CustomerApi):
    serializer_class = CustomerOutputSerializer

    @extend_schema(summary="Get a customer", responses=CustomerOutputSerializer)
    def get(self, request: Request, customer_id: int) -> Response:
        return Response(CustomerOutputSerializer(_customer(customer_id)).data)

    @extend_schema(
        summary="Change a customer",
        description="Only the fields sent are changed.",
        request=CustomerInputSerializer(partial=True),
        responses=CustomerOutputSerializer,
    )
    def patch(self, request: Request, customer_id: int) -> Response:
        customer = _customer(customer_id)
        serializer = CustomerInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.customer_update(customer=customer, actor=request.user, data=serializer.validated_data)
        return Response(CustomerOutputSerializer(_customer(customer_id)).data)

    @extend_schema(
        summary="Delete a customer and its contacts",
        description="Refused (409) while the customer still has tickets: reassign or delete them first.",
        responses={204: None},
    )
    def delete(self, request: Request, customer_id: int) -> Response:
        services.customer_delete(customer=_customer(customer_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Contacts -----------------------------------------------------------------------------------


class ContactListApi(_CustomerApi):
    serializer_class = ContactOutputSerializer
    pagination_class = KeysetCursorPagination

    def keyset_order(self, request: Request) -> KeysetOrder:
        return selectors.contact_order(request.query_params.get("sort"))

    @extend_schema(
        summary="List contacts",
        parameters=form_parameters(ContactFilterForm, exclude=["cursor"]),
        responses=ContactOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        form = validated_query(ContactFilterForm, request.query_params)
        page = self.paginate_queryset(selectors.contact_queryset(filters=form.query().filters))
        return self.get_paginated_response(ContactOutputSerializer(page, many=True).data)

    @extend_schema(summary="Add a contact", request=ContactCreateSerializer, responses={201: ContactOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = ContactCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_create(actor=request.user, **serializer.validated_data)
        return Response(ContactOutputSerializer(contact).data, status=status.HTTP_201_CREATED)


class ContactDetailApi(_CustomerApi):
    serializer_class = ContactOutputSerializer
    # Removing a person from a company's contacts is everyday editing, unlike deleting the company.
    delete_capability = "customers.edit"

    @extend_schema(summary="Get a contact", responses=ContactOutputSerializer)
    def get(self, request: Request, contact_id: int) -> Response:
        return Response(ContactOutputSerializer(_contact(contact_id)).data)

    @extend_schema(
        summary="Change a contact",
        description="Only the fields sent are changed.",
        request=ContactUpdateSerializer(partial=True),
        responses=ContactOutputSerializer,
    )
    def patch(self, request: Request, contact_id: int) -> Response:
        contact = _contact(contact_id)
        context = {"customer": contact.customer, "contact_id": contact.pk}
        serializer = ContactUpdateSerializer(data=request.data, partial=True, context=context)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_update(contact=contact, actor=request.user, data=serializer.validated_data)
        return Response(ContactOutputSerializer(contact).data)

    @extend_schema(
        summary="Remove a contact",
        description="Refused (409) while the contact is still the requester of tickets.",
        responses={204: None},
    )
    def delete(self, request: Request, contact_id: int) -> Response:
        services.contact_delete(contact=_contact(contact_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerHealthApi(_CustomerApi):
    serializer_class = CustomerHealthOutputSerializer

    @extend_schema(
        summary="Get a customer's health",
        description="The latest score (0–100), its band and drivers, and one score a day for the last 90 days.",
        responses=CustomerHealthOutputSerializer,
    )
    def get(self, request: Request, customer_id: int) -> Response:
        customer = _customer(customer_id)
        customer.history = selectors.customer_health_history(customer_id=customer.pk)
        return Response(CustomerHealthOutputSerializer(customer).data)
