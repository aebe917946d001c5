"""Connecting Microsoft 365 and Gmail from the settings pages: forms, connection tests, Google's consent round trip."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from inbox.models import Mailbox
from inbox.services.cloudmail import GMAIL_SESSION_KEY
from inbox.tests.factories import MailboxFactory, raw_email
from inbox.tests.fakes import fixtures
from inbox.tests.fakes.gmail import ACCOUNT, redirect_query
from inbox.tests.fakes.microsoft365 import CLIENT_ID, CLIENT_SECRET, TENANT_ID

pytestmark = pytest.mark.django_db
mail_ca, graph_fake, gmail_fake = fixtures.mail_ca, fixtures.graph_fake, fixtures.gmail_fake

CONNECT_M365 = "/settings/channels/connect/?kind=microsoft365"
HTMX = {"HTTP_HX_REQUEST": "true"}
GMAIL_CONNECT = "/settings/channels/cloud/gmail/connect/"
GMAIL_CALLBACK = "/settings/channels/cloud/gmail/callback/"


def m365_form(**overrides) -> dict[str, str]:
    return {
        "name": "Contoso support",
        "address": "help@contoso.example",
        "tenant_id": TENANT_ID,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    } | overrides


def _connect_microsoft365(client, **overrides) -> Mailbox:
    client.post(CONNECT_M365, m365_form(**overrides))
    return Mailbox.objects.get(address="help@contoso.example")


def test_a_microsoft365_mailbox_is_connected_on_the_channel_pages_and_tested(client, login, graph_fake):
    login("owner")
    graph_fake.deliver("help@contoso.example", raw_email())
    mailbox = _connect_microsoft365(client)

    page = client.post(f"/settings/channels/{mailbox.pk}/test-connection/", **HTMX).content.decode()

    mailbox.refresh_from_db()
    assert mailbox.kind == Mailbox.Kind.MICROSOFT365 and mailbox.status == Mailbox.Status.CONNECTED
    assert mailbox.secrets() == {"client_secret": CLIENT_SECRET} and CLIENT_SECRET not in mailbox.secrets_encrypted
    assert "the app reads help@contoso.example" in page and CLIENT_SECRET not in page


def test_a_microsoft365_mailbox_that_does_not_work_turns_failing_with_the_reason(client, login, graph_fake):
    login("owner")
    mailbox = _connect_microsoft365(client, client_secret="wrong")

    client.post(f"/settings/channels/{mailbox.pk}/test-connection/", **HTMX)

    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.FAILING and "invalid_client" in mailbox.last_error


def test_editing_keeps_the_stored_secret_when_left_blank(client, login, graph_fake):
    login("owner")
    mailbox = _connect_microsoft365(client)

    client.post(f"/settings/channels/{mailbox.pk}/edit/", m365_form(client_secret="", name="Help"))

    mailbox.refresh_from_db()
    assert mailbox.name == "Help" and mailbox.secrets() == {"client_secret": CLIENT_SECRET}


def test_the_channel_list_shows_each_cloud_mailboxs_health(client, login):
    login("owner")
    MailboxFactory(kind=Mailbox.Kind.GMAIL, address="a@gmail.test", status="failing", last_error="Google refused.")

    page = client.get("/settings/channels/").content.decode()

    assert "a@gmail.test" in page and "Failing" in page


def test_agents_cannot_connect_mailboxes(client, login):
    login("agent")

    assert client.post(CONNECT_M365, m365_form()).status_code == 403
    assert client.post(GMAIL_CONNECT).status_code == 403


def test_gmail_consent_round_trip_connects_the_mailbox(client, login, gmail_fake):
    login("owner")
    gmail_fake.deliver(raw_email())

    started = client.post(GMAIL_CONNECT, {"name": "Gmail support"})
    auth_url = started.context["auth_url"]
    back = gmail_fake.browse(auth_url)  # the admin consents at Google, which redirects to the callback
    assert back.startswith(f"http://{client.defaults['HTTP_HOST']}{GMAIL_CALLBACK}?")
    finished = client.get(GMAIL_CALLBACK, redirect_query(back), follow=True)

    mailbox = Mailbox.objects.get(address=ACCOUNT)
    assert (mailbox.kind, mailbox.name, mailbox.status) == ("gmail", "Gmail support", "connected")
    assert mailbox.secrets()["refresh_token"] in gmail_fake.refresh_tokens
    assert "Gmail is connected" in finished.content.decode()
    consent = gmail_fake.requests_to("/o/oauth2/auth")[0].query
    assert consent["access_type"] == "offline" and consent["code_challenge_method"] == "S256"
    assert urlsplit(auth_url).netloc == urlsplit(gmail_fake.origin).netloc
    assert GMAIL_SESSION_KEY not in client.session
    assert mailbox.settings["after_import"] == "seen"  # the consent asked for gmail.modify: mail is marked read
    assert "https://www.googleapis.com/auth/gmail.modify" in consent["scope"].split()


def test_a_gmail_mailboxs_after_import_choice_is_edited_with_its_label(client, login):
    login("owner")
    mailbox = MailboxFactory(kind="gmail", address=ACCOUNT, settings={"client_id": "own", "after_import": "seen"})
    edit = f"/settings/channels/{mailbox.pk}/edit/"
    form = {"name": "Gmail support", "address": ACCOUNT, "display_name": ""}

    assert 'name="after_import"' in client.get(edit).content.decode()
    refused = client.post(edit, form | {"after_import": "move", "move_to": "inbox"})
    client.post(edit, form | {"after_import": "move", "move_to": " Imported "})

    assert "not one of Gmail" in refused.content.decode()
    mailbox.refresh_from_db()
    assert mailbox.settings == {"client_id": "own", "after_import": "move", "move_to": "Imported"}


def test_a_callback_with_another_state_connects_nothing(client, login, gmail_fake):
    login("owner")
    started = client.post(GMAIL_CONNECT)
    query = redirect_query(gmail_fake.browse(started.context["auth_url"]))

    response = client.get(GMAIL_CALLBACK, query | {"state": "forged"})

    assert response.status_code == 400 and "does not match a connection you started" in response.content.decode()
    assert not Mailbox.objects.filter(kind="gmail").exists()
    assert gmail_fake.token_requests == []  # the code was never redeemed


def test_a_callback_without_a_consent_started_in_this_session_connects_nothing(client, login, gmail_fake):
    login("owner")

    response = client.get(GMAIL_CALLBACK, {"state": "x", "code": "4/0stolen"})

    assert response.status_code == 400 and not Mailbox.objects.exists()


def test_a_declined_consent_says_so(client, login, gmail_fake):
    login("owner")
    gmail_fake.consent_denied = True
    started = client.post(GMAIL_CONNECT)

    response = client.get(GMAIL_CALLBACK, redirect_query(gmail_fake.browse(started.context["auth_url"])))

    assert response.status_code == 400 and "access_denied" in response.content.decode()
    assert not Mailbox.objects.exists()


def test_the_test_button_reports_a_failing_gmail_mailbox(client, login, gmail_fake):
    login("owner")
    mailbox = MailboxFactory(kind=Mailbox.Kind.GMAIL, address=ACCOUNT, settings={})
    mailbox.secrets_set({"refresh_token": "1//revoked"})
    mailbox.save()

    page = client.post(f"/settings/channels/{mailbox.pk}/test-connection/", **HTMX).content.decode()

    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.FAILING and "Google refused the saved consent" in page


def test_reconnecting_a_gmail_mailbox_needs_the_same_account(client, login, gmail_fake):
    login("owner")
    other = MailboxFactory(kind=Mailbox.Kind.GMAIL, address="other@gmail.test", settings={})

    started = client.post(GMAIL_CONNECT, {"mailbox": other.pk})
    response = client.get(GMAIL_CALLBACK, redirect_query(gmail_fake.browse(started.context["auth_url"])))

    assert response.status_code == 400 and f"You signed in as {ACCOUNT}" in response.content.decode()
    assert not Mailbox.objects.filter(address=ACCOUNT).exists()


def test_reconnecting_a_gmail_mailbox_replaces_its_refresh_token(client, login, gmail_fake):
    login("owner")
    mailbox = MailboxFactory(kind=Mailbox.Kind.GMAIL, address=ACCOUNT, settings={}, status="failing")
    mailbox.secrets_set({"refresh_token": "1//revoked"})
    mailbox.save()

    started = client.post(GMAIL_CONNECT, {"mailbox": mailbox.pk})
    client.get(GMAIL_CALLBACK, redirect_query(gmail_fake.browse(started.context["auth_url"])))

    mailbox.refresh_from_db()
    assert mailbox.status == "connected" and mailbox.secrets()["refresh_token"] in gmail_fake.refresh_tokens


def test_a_consent_without_every_permission_connects_nothing_and_says_which(client, login, gmail_fake):
    login("owner")
    gmail_fake.granted_scopes = {"https://www.googleapis.com/auth/gmail.readonly"}  # "send" left unticked
    started = client.post(GMAIL_CONNECT)

    response = client.get(GMAIL_CALLBACK, redirect_query(gmail_fake.browse(started.context["auth_url"])))

    assert response.status_code == 400 and "left out gmail.send" in response.content.decode()
    assert not Mailbox.objects.exists()


def test_a_code_google_refuses_connects_nothing(client, login, gmail_fake):
    login("owner")
    started = client.post(GMAIL_CONNECT)
    query = redirect_query(gmail_fake.browse(started.context["auth_url"]))
    gmail_fake.codes.clear()  # expired, or already used

    response = client.get(GMAIL_CALLBACK, query)

    assert response.status_code == 400 and "Google refused the consent" in response.content.decode()
    assert not Mailbox.objects.exists()
