"""Drops cached host → workspace lookups when a workspace or a hostname changes."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Domain, Tenant
from .routing import tenant_cache_clear


@receiver([post_save, post_delete], sender=Tenant)
@receiver([post_save, post_delete], sender=Domain)
def clear_tenant_cache(**kwargs) -> None:
    tenant_cache_clear()
