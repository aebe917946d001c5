from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # Ticket events that change a company's health queue its recompute (customers.health).
        from . import receivers  # noqa: F401
        from .timeline import OWN_PROVIDER, provider_register

        # Notes and tasks on the timeline; other apps register theirs from their own ready().
        provider_register(OWN_PROVIDER)
        # The churn-risk model's training rows, for the AI models page (customers/churn.py).
        from .churn import register as churn_register

        churn_register()
