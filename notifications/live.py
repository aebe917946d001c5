"""Live pushes of notifications: the bell's unread count (and a toast with the new notice) to each recipient's
open pages, after commit, over their user group (core.realtime). The fragments are the ones the pages render."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.template.loader import render_to_string

from core.realtime import group_send_bounded, user_group

from . import selectors


def bell_html(count: int, *, oob: bool = False) -> str:
    return render_to_string("notifications/_bell_count.html", {"unread": count, "oob": oob})


def notifications_push_on_commit(notifications: Sequence) -> None:
    """After commit: every recipient's bell count, one query for all of them, and a toast with the title."""
    notices = {row.user_id: (row.title, row.link) for row in notifications}

    def send() -> None:
        counts = selectors.unread_counts(list(notices))
        for user_id, (title, _link) in notices.items():
            toast = render_to_string("components/toast.html", {"text": title, "level": "info"})
            html = (
                bell_html(counts.get(user_id, 0), oob=True) + f'<div id="toasts" hx-swap-oob="beforeend">{toast}</div>'
            )
            group_send_bounded(user_group(user_id), {"type": "push.html", "html": html})

    transaction.on_commit(send, robust=True)


def bell_push_on_commit(user_id: int) -> None:
    """The count after a read mark: the person's other tabs follow."""

    def send() -> None:
        count = selectors.unread_counts([user_id]).get(user_id, 0)
        group_send_bounded(user_group(user_id), {"type": "push.html", "html": bell_html(count, oob=True)})

    transaction.on_commit(send, robust=True)
