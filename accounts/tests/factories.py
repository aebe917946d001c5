"""Test data for people."""

import secrets
from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Invitation, Role, User
from accounts.services import token_hash


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    name = factory.Faker("name")
    role = Role.AGENT
    password = factory.django.Password("Sw1tchboard-test-pass")

    @factory.post_generation
    def verified_email(user, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)


class InvitationFactory(factory.django.DjangoModelFactory):
    """An open invitation. Only the hash is stored; use `with_token()` when the test needs the link's token."""

    class Meta:
        model = Invitation

    class Params:
        token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))

    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = Role.AGENT
    invited_by = factory.SubFactory(UserFactory, role=Role.OWNER)
    token_hash = factory.LazyAttribute(lambda invitation: token_hash(invitation.token))
    expires = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))

    @classmethod
    def with_token(cls, **fields) -> tuple[Invitation, str]:
        token = secrets.token_urlsafe(32)
        return cls(token=token, **fields), token
