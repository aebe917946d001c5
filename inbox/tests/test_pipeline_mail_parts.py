"""The pure parts of the pipeline, without a database: charsets, headers, quote and signature stripping, HTML to
text, auto-reply detection and delivery reports."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from inbox.mail.autoreply import auto_reply_reason, mailing_list
from inbox.mail.charsets import decode_bytes, decode_header
from inbox.mail.dsn import delivery_report
from inbox.mail.parse import mail_parse, sender_parse, unflow
from inbox.mail.quotes import html_to_text, visible_text


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"),
        ("=?utf-8?B?w6nDqQ==?= =?utf-8?B?w6k=?=", "ééé"),  # the space between adjacent encoded words goes
        ("=?ISO-2022-JP?B?GyRCJEskWyRzJDQbKEI=?=", "にほんご"),
        ("=?koi8-r?B?8NLJ18XU?=", "Привет"),
        ("=?windows-1252?Q?Caf=E9_=80?=", "Café €"),
        ("=?no-such-charset?Q?Caf=E9?=", "Café"),
        ("=?utf\x00-8?Q?Caf=E9?=", "Café"),  # not even a charset name
        ("=?utf-8?Q?Caf=E9?=", "Café"),  # declared UTF-8, written in Windows-1252
        ("Re: =?utf-8?Q?unfinished_word", "Re: unfinished word"),
        ("=?utf-8?B?!!!?=", "=?utf-8?B?!!!?="),  # broken base64 is shown as it came
        ("Caf\udcc3\udca9 raw 8-bit", "Café raw 8-bit"),  # bytes the parser kept as surrogate escapes
        ("folded\r\n\tacross lines", "folded across lines"),
    ],
)
def test_headers_decode_in_any_charset_without_raising(raw, text):
    assert decode_header(raw) == text


@pytest.mark.parametrize(
    ("data", "charset", "text"),
    [
        ("café".encode(), "utf-8", "café"),
        ("café – €".encode("cp1252"), "us-ascii", "café – €"),
        ("café – €".encode("cp1252"), "utf-8", "café – €"),
        ("naïve".encode("cp1252"), "iso-8859-1", "naïve"),
        ("Привет".encode("koi8-r"), "koi8-r", "Привет"),
        (b"\x81\x8d\x8f\x90\x9d", "bogus", "\x81\x8d\x8f\x90\x9d"),  # undefined even in cp1252: latin-1 takes all
    ],
)
def test_bodies_decode_with_a_fallback_for_a_wrong_charset(data, charset, text):
    assert decode_bytes(data, charset) == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ann <ann@example.com>", ("Ann", "ann@example.com")),
        ('"Broken, Quote <mika@example.com>', ("Broken, Quote", "mika@example.com")),
        ("mika@example.com (Mika)", ("Mika", "mika@example.com")),
        ("<>", ("", "")),
        ("undisclosed-recipients:;", ("", "")),
    ],
)
def test_senders_are_read_from_broken_from_headers(value, expected):
    assert sender_parse(value) == expected


def test_format_flowed_text_is_joined_back_into_paragraphs():
    assert unflow("one \ntwo \nthree\n-- \nsig") == "one two three\n-- \nsig"
    assert unflow("one\u0020\n>quoted", delsp=True) == "one>quoted"


def test_a_message_with_no_structure_at_all_still_parses():
    parsed = mail_parse(b"\x00\xff garbage without headers")

    assert parsed.from_address == "" and parsed.message_id == "" and isinstance(parsed.text, str)


# --- Quotes and signatures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kept", "cut"),
    [
        ("Fixed.\n\nOn Mon, 7 Dec 2026 at 09:00, Support <s@x.test> wrote:\n> Try again", "Fixed.", "Try"),
        ("Ja.\n\nAm 07.12.2026 um 09:00 schrieb Support <s@x.test>:\n> Versuchen", "Ja.", "Versuchen"),
        ("Oui.\n\nLe lun. 7 déc. 2026 à 09:00, Support <s@x.test> a écrit :\n> Essayez", "Oui.", "Essayez"),
        ("Yes.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nTry", "Yes.", "Try"),
        ("Yes.\n\nFrom: Support <s@x.test>\nSent: Monday, 7 December\nTo: Ann\nSubject: Re: x\n\nTry", "Yes.", "Try"),
        ("Yes.\n\n________________________________\nVon: Support\nGesendet: Montag\nTry", "Yes.", "Try"),
        ("Done.\n\n> earlier\n> history\n", "Done.", "history"),
        ("Done.\n-- \nAnn Example\nACME Corp", "Done.", "ACME"),
        ("Done.\n\nSent from my iPhone", "Done.", "iPhone"),
        ("Done.\n\nGet Outlook for iOS", "Done.", "Outlook"),
        ("Done.\n\nVon meinem iPhone gesendet", "Done.", "gesendet"),
    ],
)
def test_quoted_history_and_signatures_are_cut(text, kept, cut):
    visible = visible_text(text)

    assert visible == kept and cut not in visible


def test_interleaved_answers_keep_the_quotes_they_answer():
    text = "> Which version?\n4.2\n> Which browser?\nFirefox"

    assert visible_text(text) == text


def test_a_from_line_in_a_persons_text_is_not_a_quote_header():
    text = "From: the start the export failed.\nIt still fails."

    assert visible_text(text) == text


def test_a_message_that_is_only_a_quote_is_shown_whole():
    assert visible_text("> just the quote") == "> just the quote"


# --- HTML ---------------------------------------------------------------------------------------


def test_html_becomes_readable_text_without_scripts_or_quotes():
    html = (
        "<html><head><title>t</title><style>p{}</style></head><body><p>Hello&nbsp;there,</p><ul><li>one</li>"
        '<li>two</li></ul><p>See <a href="https://x.test/a">the page</a>.<br>Bye</p><script>alert(1)</script>'
        '<div class="gmail_quote">On Mon … wrote:<blockquote>old</blockquote></div>'
        '<blockquote type="cite">Apple quote</blockquote></body></html>'
    )

    assert html_to_text(html) == "Hello there,\n\n- one\n\n- two\n\nSee the page (https://x.test/a).\nBye"


def test_outlook_html_history_after_its_reply_header_is_dropped():
    html = '<div>Answer</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg">From: x</div><p>old</p>'

    assert html_to_text(html) == "Answer"


def test_broken_html_still_gives_text():
    assert html_to_text("<div><p>unclosed <b>bold <i>text</div> tail") == "unclosed bold text\ntail"


# --- Auto-replies and reports -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "subject", "automatic"),
    [
        ({"auto-submitted": ["auto-replied"]}, "", True),
        ({"auto-submitted": ["no"]}, "", False),
        ({"precedence": ["bulk"]}, "", True),
        ({"precedence": ["junk"]}, "", True),
        ({"x-auto-response-suppress": ["All"]}, "", True),
        ({"x-auto-response-suppress": ["RN, NRN"]}, "", False),  # read receipts only: a person's Outlook mail
        ({"x-autoreply": ["yes"]}, "", True),
        ({}, "Out of Office: back on Monday", True),
        ({}, "Automatic reply: Your request", True),
        ({}, "Question about automatic replies", False),
    ],
)
def test_auto_replies_are_recognised(headers, subject, automatic):
    assert bool(auto_reply_reason(headers, subject)) is automatic


def test_mailing_lists_are_recognised_by_their_headers():
    assert mailing_list({"list-id": ["Dev <dev.lists.example.org>"]}) == "Dev <dev.lists.example.org>"
    assert mailing_list({"subject": ["[dev] hi"]}) == ""


def test_a_person_writing_undeliverable_in_a_subject_is_no_bounce():
    parsed = mail_parse(b"From: ann@x.test\r\nSubject: Undeliverable parcel\r\n\r\nMy parcel never came.\r\n")

    assert delivery_report(parsed.message, subject=parsed.subject, sender=parsed.from_address) is None


# --- Damaged mail -------------------------------------------------------------------------------

_SPLICES = [b"\n", b"\r\n", b"=?", b"?=", b"--", b"\x00", b"<", b'"', b";", b"=?utf-8?B?", b'charset="', b"=\n",
            b"Content-Type: multipart/mixed; boundary=x\n", b"Content-Type: message/rfc822\n\n", b"name*0=",
            b'Content-Type: multipart/report; report-type=delivery-status; boundary="', b"filename*=utf-8''%E9%ZZ",
            b"<blockquote type=cite>", b"<div id=appendonsend>", b"format=flowed"]  # fmt: skip


def test_damaged_real_world_mail_never_makes_the_parsers_raise():
    corpus = [path.read_bytes() for path in sorted((Path(__file__).parent / "mail").glob("*.eml"))]
    rng = random.Random(11)
    for _ in range(1500):
        raw = bytearray(rng.choice(corpus))
        for _ in range(rng.randint(1, 30)):
            at = rng.randrange(len(raw) or 1)
            choice = rng.random()
            if choice < 0.35:
                raw[at : at + 1] = bytes([rng.randrange(256)])
            elif choice < 0.6:
                del raw[at : at + rng.randint(1, 80)]
            else:
                raw[at:at] = rng.choice(_SPLICES)
        parsed = mail_parse(bytes(raw))

        visible_text(parsed.text) if parsed.text.strip() else visible_text(html_to_text(parsed.html))
        delivery_report(parsed.message, subject=parsed.subject, sender=parsed.from_address)
        auto_reply_reason(parsed.headers, parsed.subject)
        mailing_list(parsed.headers)
