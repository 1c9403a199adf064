"""Saving replies' text as it grows: the saves of all of a process's writers in one transaction.

Each reply's writer (services/chat_stream.py) hands :func:`save` its text and thinking so far,
or only its lease to renew, at most once a tick (one UPDATE per reply per second, never one
per token). The writer that finds no save under way writes them all, the others' included:
the UPDATEs as one ``executemany`` and one commit (and a SELECT of those replies' statuses
when some UPDATE found its reply no longer streaming); what is handed in meanwhile it writes
next, before it goes back to its own reply. A burst of a thousand
replies then commits a few times a second, not a thousand.

A reply found no longer streaming (stopped from another process, declared interrupted after
its lease lapsed, deleted) has its writer told through :attr:`LiveReply.cancel
<app.services.reply_hub.LiveReply.cancel>`, as a Stop here would: ``stopped``, else
``interrupted``.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import NamedTuple

from flask import current_app

from app.extensions import db
from app.models import MessageStatus
from app.repositories import replies as repo
from app.services.reply_hub import LiveReply

log = logging.getLogger(__name__)
EXTENSION = "parlor.reply_saver"


class Save(NamedTuple):
    live: LiveReply
    lease_until: datetime
    content: str | None  # None: the lease alone is renewed
    thinking: str | None


class _Saves:
    """One app's saves handed in and not yet written, and whether a writer is writing them."""

    def __init__(self) -> None:
        self.pending: dict[str, Save] = {}
        self.writing = False
        self.lock = threading.Lock()


def save(live: LiveReply, lease_until: datetime, content: str | None = None,
         thinking: str | None = None) -> None:
    """Save the reply's ``content`` and ``thinking`` so far (each unless None) and renew its
    lease, in the next batch; this writer writes the batch when nobody else is (in its app
    context). A newer save of the same reply replaces one not yet written."""
    saves: _Saves = current_app.extensions.setdefault(EXTENSION, _Saves())
    with saves.lock:
        saves.pending[live.message_id] = Save(live, lease_until, content, thinking)
        if saves.writing:
            return
        saves.writing = True
    while True:
        with saves.lock:
            batch, saves.pending = saves.pending, {}
            if not batch:
                saves.writing = False
                return
        try:
            _write(batch)
        except BaseException:  # (a greenlet killed mid-write) the next save writes again
            with saves.lock:
                saves.writing = False
            raise


def _write(batch: dict[str, Save]) -> None:
    texts = [(message_id, s.lease_until, s.content, s.thinking) for message_id, s in batch.items()
             if s.content is not None]
    leases = [(message_id, s.lease_until) for message_id, s in batch.items()
              if s.content is None]
    try:
        written = repo.save_texts(texts) + repo.renew_leases(leases)
        # Every reply still streaming (each UPDATE found its row): no status to read.
        statuses = None if written == len(batch) and repo.counts_each_row() \
            else repo.statuses(list(batch))
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("could not save %d replies' text (each is saved again next tick)",
                      len(batch))
        return
    if statuses is None:
        return
    for message_id, saved in batch.items():
        status = statuses.get(message_id)
        if status != MessageStatus.STREAMING and not saved.live.cancel:
            saved.live.cancel = MessageStatus.STOPPED if status == MessageStatus.STOPPED \
                else MessageStatus.INTERRUPTED
