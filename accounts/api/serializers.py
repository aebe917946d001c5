"""What the API says about people."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import User
from accounts.roles import user_capabilities


class MeSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(source="get_role_display")
    capabilities = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "name", "initials", "role", "role_label", "capabilities", "date_joined", "last_login"]
        read_only_fields = fields

    def get_capabilities(self, user: User) -> list[str]:
        return user_capabilities(user)
