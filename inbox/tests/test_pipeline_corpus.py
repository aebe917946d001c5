"""Real-world mail (inbox/tests/mail/*.eml, as Outlook, Gmail, Apple Mail, Thunderbird, phones, mailing lists and
mail servers write it) through receive + process: the ticket text reads right, quotes and signatures are cut,
files are kept or held back with a reason, reports and loops open no ticket, and nothing crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk.models import Attachment, Ticket, TicketMessage
from helpdesk.tests.factories import TicketFactory
from inbox.models import InboundEmail
from inbox.services.inbound import inbound_receive
from inbox.tests.factories import MailboxFactory
from inbox.tests.pipeline_fixtures import outgoing_kinds_fixture  # noqa: F401  (the `outgoing_kinds` fixture)

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "mail"
MOJIBAKE = ("Ã", "â€", "\ufffd", "=?", "Â")

# file → what must come of it. `body`: in the ticket's text; `not_body`: cut from it; `files`: kept attachments;
# `reason`: on the InboundEmail; `bounce`: our sent Message-ID the report is about → its delivery status.
EXPECTED: dict[str, dict] = {
    "outlook_reply_cp1252.eml": {
        "subject": "RE: Réclamation – facture n°42",
        "sender": "francoise@client.example",
        "body": ["La facture n°42 coûte 12 € de plus que prévu – pouvez-vous vérifier ?", "Françoise"],
        "not_body": ["Sent:", "merci pour votre message"],
    },
    "gmail_reply_utf8.eml": {
        "subject": "Re: 🚨 Le serveur ne répond plus",
        "body": ["Servern svarar med fel 502 sedan i morse.", "Björn"],
        "not_body": ["wrote:", "Could you try again?", ">"],
    },
    "gmail_html_only_signature.eml": {
        "body": ["When I export Orders to CSV the file is empty:", "- Chrome 131", "(https://startup.example/orders)"],
        "not_body": ["alert(1)", "color:red", "CTO", "<"],
        "cc": ["ops@startup.example"],
    },
    "apple_mail_inline_image.eml": {
        "sender_name": "Chloé Martin",
        "body": ["Here is what I see when I click “Pay”:", "Chloé"],
        "not_body": ["Could you send us a screenshot?", "wrote:"],
        "files": ["error.png"],
        "inline": {"error.png": "F1E2D3C4-B5A6-4978-8A9B-0C1D2E3F4A5B@home"},
    },
    "thunderbird_flowed_latin1.eml": {
        "subject": "Anmeldung schlägt fehl (Grüße)",
        "sender_name": "Jürgen Müller",
        # format=flowed: the soft line breaks are joined back into one paragraph.
        "body": ["lautet »Ungültiges Token« und erscheint bei jedem Versuch, auch nach dem Löschen der Cookies."],
        "not_body": ["Bitte versuchen Sie es erneut", "Posteo Kundendienst", "schrieb"],
    },
    "thunderbird_attached_eml.eml": {
        "body": ["claims to come from you. Is it genuine?"],
        "files": ["Your account is suspended.eml"],
    },
    "iphone_reply.eml": {
        "body": ["the mug inside is broken 😞"],
        "not_body": ["Sent from my iPhone", "has shipped"],
    },
    "android_outlook_mobile.eml": {
        "subject": "Não consigo acessar minha conta",
        "body": ["A senha foi trocada e o código não chega.", "Ana"],
        "not_body": ["Get Outlook for Android"],
    },
    "outlook_html_only_reply.eml": {
        "subject": "AW: Lizenzverlängerung",
        "body": ["bitte verlängern Sie die Lizenz um 12 Monate.", "Gruß Tom"],
        "not_body": ["Gesendet", "läuft bald ab"],
        "cc": ["anna.becker@firma.example"],
    },
    "iso2022jp_japanese.eml": {
        "subject": "請求書の金額について",
        "sender_name": "山田 太郎",
        "body": ["今月の請求書の金額が先月と違います。確認をお願いします。"],
    },
    "koi8r_russian.eml": {
        "subject": "Не работает оплата картой",
        "sender_name": "Иван Петров",
        "body": ['При оплате картой появляется ошибка "Платёж отклонён".'],
        "not_body": ["Иван\n"],
    },
    "wrong_charset_ascii_is_cp1252.eml": {"body": ["The café invoice says “€ 40” – we paid £30."]},
    "wrong_charset_utf8_is_cp1252.eml": {
        "subject": "Naïve question about résumés",
        "sender_name": "Zoë Krämer",
        "body": ["Where do I upload my résumé? The page says “naïve” and nothing else."],
    },
    "outlook_winmail_dat.eml": {
        "body": ["Pozdrawiam, Piotr Łódź", "[File not kept: winmail.dat"],
        "reason": ["winmail.dat"],
        "files": [],
    },
    "smime_signed.eml": {
        "body": ["Please rotate the API key of our integration before Friday."],
        "not_body": ["smime.p7s", "cryptographically"],
        "reason": ["smime.p7s"],
    },
    "missing_message_id.eml": {"body": ["db-3: /var is 97% full."], "sender": "monitoring@probe.example"},
    "broken_headers.eml": {
        "sender": "mika@brokenheaders.example",
        "body": ["The export button does nothing — no error, no file."],
    },
    "mailing_list.eml": {
        "body": ["every webhook signature check fails"],
        "reason": ["Mailing list"],
        "no_acknowledgement": True,
    },
    "out_of_office.eml": {
        "body": ["I am out of the office until 14 December"],
        "reason": ["Auto-reply (Auto-Submitted: auto-replied)"],
        "no_acknowledgement": True,
    },
    "no_sender.eml": {"status": InboundEmail.Status.FAILED, "reason": ["no sender address"]},
    "loop_own_address.eml": {"status": InboundEmail.Status.IGNORED, "reason": ["Loop: sent from our own address"]},
    "dsn_postfix.eml": {
        "status": InboundEmail.Status.BOUNCE,
        "bounce": ("<reply-postfix-1@workspace.test>", "bounced", "550 5.1.1"),
    },
    "dsn_exchange.eml": {
        "status": InboundEmail.Status.BOUNCE,
        "bounce": ("<reply-exchange-1@workspace.test>", "bounced", "RESOLVER.ADR.RecipientNotFound"),
    },
    "bounce_nonstandard_delayed.eml": {
        "status": InboundEmail.Status.BOUNCE,
        "bounce": ("<reply-delay-1@workspace.test>", "deferred", "451 4.3.0"),
    },
}


def test_every_corpus_file_has_expectations():
    assert sorted(path.name for path in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_world_mail_is_filed_readably(name, django_capture_on_commit_callbacks, outgoing_kinds):
    expected = EXPECTED[name]
    mailbox = MailboxFactory(address="support@workspace.test")
    sent = None
    if "bounce" in expected:
        sent = TicketMessage.objects.create(
            ticket=TicketFactory(), kind=TicketMessage.Kind.REPLY, body="Sent.", external_id=expected["bounce"][0]
        )

    with django_capture_on_commit_callbacks(execute=True):
        inbound, created = inbound_receive(raw=(CORPUS / name).read_bytes(), source="imap", mailbox=mailbox)

    inbound.refresh_from_db()
    assert created
    assert inbound.status == expected.get("status", InboundEmail.Status.IMPORTED), inbound.reason
    for words in expected.get("reason", []):
        assert words in inbound.reason
    if sent is not None:
        sent.refresh_from_db()
        assert sent.delivery_status == expected["bounce"][1] and expected["bounce"][2] in sent.delivery_detail
    if inbound.status != InboundEmail.Status.IMPORTED:
        assert Ticket.objects.exclude(pk=getattr(getattr(sent, "ticket", None), "pk", None)).count() == 0
        return
    ticket = Ticket.objects.select_related("requester").get(pk=inbound.ticket_id)
    text = ticket.original_description
    assert not any(mark in text + ticket.subject + ticket.requester.name for mark in MOJIBAKE), (text, ticket.subject)
    for words in expected.get("body", []):
        assert words in text
    for words in expected.get("not_body", []):
        assert words not in text
    if "subject" in expected:
        assert ticket.subject == expected["subject"]
    if "sender" in expected:
        assert ticket.requester.email == expected["sender"]
    if "sender_name" in expected:
        assert ticket.requester.name == expected["sender_name"]
    if "cc" in expected:
        assert ticket.cc == expected["cc"]  # our own mailbox left out
    files = Attachment.objects.filter(message__ticket=ticket)
    if "files" in expected:
        assert sorted(files.values_list("filename", flat=True)) == sorted(expected["files"])
    for filename, content_id in expected.get("inline", {}).items():
        assert files.get(filename=filename).content_id == content_id
    acknowledged = ("acknowledgement", ticket.pk) in outgoing_kinds
    assert acknowledged is not expected.get("no_acknowledgement", False)
