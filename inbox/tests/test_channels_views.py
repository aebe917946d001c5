"""Settings → Channels: admins connect a support address (a form per kind, errors in words), secrets are never shown
again, "Test connection" and the test message round trip run against the real IMAP server; agents are refused."""

from __future__ import annotations

import pytest
from django.core import mail

from inbox.models import InboundEmail, Mailbox
from inbox.tasks.mailboxes import mailbox_poll_task
from inbox.tests.factories import MailboxFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def imap_form(account, **overrides) -> dict:
    return {
        "name": "Support",
        "address": "help@alpha.test",
        "display_name": "Alpha Support",
        "host": "127.0.0.1",
        "security": "ssl",
        "port": account.server.port if account else 993,
        "username": account.username if account else "help",
        "password": account.password if account else "pw",
        "folder": "INBOX",
        "after_import": "seen",
        "move_to": "",
    } | overrides


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_only_owners_and_admins_manage_channels(client, login, role):
    login(role)
    mailbox = MailboxFactory()

    responses = [
        client.get("/settings/channels/"),
        client.get("/settings/channels/connect/?kind=imap"),
        client.post("/settings/channels/connect/?kind=imap", imap_form(None)),
        client.post(f"/settings/channels/{mailbox.pk}/delete/"),
    ]

    assert [response.status_code for response in responses] == [403] * 4
    assert Mailbox.objects.count() == 1


def test_the_empty_list_invites_to_connect_an_address(client, login):
    login("admin")

    page = client.get("/settings/channels/").content.decode()

    assert "No support address yet" in page and 'href="/settings/channels/connect/"' in page
    for channel in ("chat/", "sms/", "webhooks/"):
        channel = f"/settings/channels/{channel}"
        assert f'href="{channel}"' in page  # the other channels are one click away


def test_every_kind_can_be_chosen_and_gmail_is_connected_by_googles_consent(client, login):
    login("owner")

    choose = client.get("/settings/channels/connect/").content.decode()
    gmail = client.get("/settings/channels/connect/?kind=gmail").content.decode()

    assert all(f"/settings/channels/connect/?kind={kind}" in choose for kind in Mailbox.Kind.values)
    assert 'data-testid="gmail-connect"' in gmail and 'formaction="/settings/channels/cloud/gmail/connect/"' in gmail
    assert client.get("/settings/channels/connect/?kind=nonsense").status_code == 404


def test_connecting_an_imap_mailbox_keeps_the_password_secret(client, login):
    login("admin")

    response = client.post("/settings/channels/connect/?kind=imap", imap_form(None, password="hunter2-secret"))

    mailbox = Mailbox.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/settings/channels/{mailbox.pk}/"
    assert mailbox.secrets() == {"password": "hunter2-secret"} and "hunter2" not in mailbox.secrets_encrypted
    assert mailbox.settings["host"] == "127.0.0.1" and mailbox.is_default
    for url in (f"/settings/channels/{mailbox.pk}/", f"/settings/channels/{mailbox.pk}/edit/"):
        page = client.get(url).content.decode()
        assert "hunter2-secret" not in page and "•••• set" in page


def test_an_edit_with_the_password_left_empty_keeps_it(client, login):
    login("admin")
    client.post("/settings/channels/connect/?kind=imap", imap_form(None, password="first-pass"))
    mailbox = Mailbox.objects.get()

    client.post(f"/settings/channels/{mailbox.pk}/edit/", imap_form(None, password="", folder="Support"))

    mailbox.refresh_from_db()
    assert mailbox.secrets() == {"password": "first-pass"} and mailbox.settings["folder"] == "Support"


def test_mistakes_are_explained_in_words(client, login):
    login("admin")
    MailboxFactory(address="taken@alpha.test")

    page = client.post(
        "/settings/channels/connect/?kind=imap",
        imap_form(
            None,
            address="taken@alpha.test",
            host="https://imap.example.com/",
            after_import="move",
            port=0,
            password="typed-secret",
        ),
    ).content.decode()
    internal = client.post(
        "/settings/channels/connect/?kind=imap", imap_form(None, host="169.254.169.254")
    ).content.decode()

    assert "Enter only the server&#x27;s name, e.g. imap.example.com, without https:// or /." in page
    assert "Name the folder to move imported mail to." in page
    assert "Ensure this value is greater than or equal to 1." in page
    assert "Switchboard does not connect there" in internal
    assert "typed-secret" not in page  # a password is never sent back, not even to correct the form
    assert Mailbox.objects.count() == 1


def test_an_address_already_connected_is_refused_in_words(client, login):
    login("admin")
    MailboxFactory(address="taken@alpha.test")

    page = client.post(
        "/settings/channels/connect/?kind=imap", imap_form(None, address="TAKEN@alpha.test")
    ).content.decode()

    assert "Another mailbox already receives mail for this address." in page


def test_microsoft_365_takes_the_app_registration(client, login):
    login("admin")
    form = {
        "name": "Support",
        "address": "help@alpha.test",
        "tenant_id": "2f4a9e1c-7c1e-4f3b-9d7e-0d5c0a8b1e11",
        "client_id": "6b8c1f2e-3d4a-4b5c-8d9e-0f1a2b3c4d5e",
        "client_secret": "m365-client-secret",
    }

    client.post("/settings/channels/connect/?kind=microsoft365", form)

    mailbox = Mailbox.objects.get(kind="microsoft365")
    assert mailbox.settings == {"tenant_id": form["tenant_id"], "client_id": form["client_id"]}
    assert mailbox.secrets() == {"client_secret": "m365-client-secret"}
    assert "m365-client-secret" not in client.get(f"/settings/channels/{mailbox.pk}/edit/").content.decode()


def test_forwarding_shows_where_and_how_to_forward(client, login, tenant):
    login("admin")
    client.post("/settings/channels/connect/?kind=forward", {"name": "Support", "address": "help@alpha.test"})
    mailbox = Mailbox.objects.get(kind="forward")

    page = client.get(f"/settings/channels/{mailbox.pk}/").content.decode()

    assert f"{tenant.schema_name}-{mailbox.pk}@inbound.switchboard.test" in page
    assert "Gmail or Google Workspace" in page and "Outlook or Microsoft 365" in page and "Any other provider" in page


def test_test_connection_turns_a_working_mailbox_green(client, login, imap_account):
    login("admin")
    client.post("/settings/channels/connect/?kind=imap", imap_form(imap_account))
    mailbox = Mailbox.objects.get()

    page = client.post(f"/settings/channels/{mailbox.pk}/test-connection/", **HTMX).content.decode()

    assert 'Connected to 127.0.0.1 and opened "INBOX" (0 messages).' in page.replace("&quot;", '"')
    assert 'hx-swap-oob="true"' in page and 'data-status="connected"' in page
    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.CONNECTED


def test_test_connection_says_what_is_wrong(client, login, imap_account):
    login("admin")
    client.post("/settings/channels/connect/?kind=imap", imap_form(imap_account, password="wrong"))
    mailbox = Mailbox.objects.get()

    page = client.post(f"/settings/channels/{mailbox.pk}/test-connection/", **HTMX).content.decode()

    assert "The server refused the user name or password: Authentication failed." in page
    assert 'data-status="failing"' in page


def test_test_connection_checks_the_folder_to_move_to(client, login, imap_account):
    login("admin")
    client.post("/settings/channels/connect/?kind=imap", imap_form(imap_account, after_import="move", move_to="Done"))
    mailbox = Mailbox.objects.get()

    response = client.post(f"/settings/channels/{mailbox.pk}/test-connection/", follow=True)

    assert "The folder “Done” to move imported mail to does not exist" in response.content.decode().replace(
        "&quot;", "“", 1
    ).replace("&quot;", "”", 1)


def test_a_test_message_makes_the_round_trip_and_files_no_ticket(client, login, imap_account):
    login("admin")
    client.post("/settings/channels/connect/?kind=imap", imap_form(imap_account))
    mailbox = Mailbox.objects.get()

    waiting = client.post(f"/settings/channels/{mailbox.pk}/test-message/", **HTMX).content.decode()
    sent = mail.outbox[-1]
    assert sent.to == ["help@alpha.test"] and sent.subject.startswith("Switchboard test message ST-")
    imap_account.deliver(sent.message().as_bytes())  # the mail server delivers it
    mailbox_poll_task(mailbox.pk)  # the next poll (queued by the page while it waits, or beat's)
    arrived = client.get(f"/settings/channels/{mailbox.pk}/test-message/", **HTMX).content.decode()

    assert 'data-state="waiting"' in waiting and 'hx-trigger="every 2s"' in waiting
    assert (
        'data-state="arrived"' in arrived and "made the round trip" in arrived and 'data-status="connected"' in arrived
    )
    assert InboundEmail.objects.count() == 0  # read and marked, not filed as a ticket
    assert all("\\Seen" in flags for flags in imap_account.flags())


def test_default_disable_and_delete(client, login):
    login("owner")
    first = MailboxFactory(is_default=True)
    second = MailboxFactory()
    third = MailboxFactory()

    client.post(f"/settings/channels/{second.pk}/default/")
    client.post(f"/settings/channels/{third.pk}/active/", {"active": "0"})
    confirm = client.get(f"/settings/channels/{second.pk}/delete/").content.decode()
    client.post(f"/settings/channels/{second.pk}/delete/")

    assert "Another address becomes the default for replies." in confirm and "Keep it" in confirm
    assert not Mailbox.objects.filter(pk=second.pk).exists()
    assert list(Mailbox.objects.filter(is_default=True)) == [first]  # the active one left takes over
    assert Mailbox.objects.get(pk=third.pk).active is False


@pytest.mark.parametrize("kind", Mailbox.Kind.values)
def test_each_connect_form_opens_at_one_h1_and_labels_every_field(client, login, kind):
    from config.tests.test_page_structure import outline

    login("admin")

    found = outline(client.get(f"/settings/channels/connect/?kind={kind}").content.decode())

    assert found.headings[:1] == ["h1"] and found.headings.count("h1") == 1 and found.unlabelled() == []


def test_the_settings_navigation_links_channels_for_admins_only(client, login):
    login("admin")
    assert 'data-testid="nav-channels"' in client.get("/settings/channels/").content.decode()
    client.logout()
    login("agent")
    assert 'data-testid="nav-channels"' not in client.get("/tickets/").content.decode()
