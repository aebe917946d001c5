from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # Ticket events that change a company's health queue its recompute (customers.health).
        from . import receivers  # noqa: F401
