"""allauth hooks: in a workspace nobody signs up on their own; people join by invitation."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Workspaces are created on the public site's sign-up page; teammates arrive by invitation.
        return False
