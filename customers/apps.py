from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from .timeline import OWN_PROVIDER, provider_register

        # Notes and tasks on the timeline; other apps register theirs from their own ready().
        provider_register(OWN_PROVIDER)
