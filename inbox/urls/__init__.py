"""The inbox's pages and endpoints, each area in its own module, all under the `inbox:` namespace (mounted at the
workspace's root: the paths say where they live)."""

from . import webhooks

app_name = "inbox"
urlpatterns = [*webhooks.urlpatterns]
