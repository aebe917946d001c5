from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import (
            health,  # noqa: F401 (the start-up grace of /healthz counts from this import)
            links,
            lookups,
        )

        lookups.register()
        links.links_watch()
