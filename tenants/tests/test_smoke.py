import pytest
from django.db import connection

from customers.models import Customer


@pytest.mark.django_db
def test_tests_run_inside_workspace_alpha(tenant):
    assert connection.schema_name == tenant.schema_name == "t_alpha"
    Customer.objects.create(name="Canary")
    assert Customer.objects.count() == 1
