"""Leases of replies being written: a writer renews its reply's lease as it saves the text;
a lapsed lease means the writer is gone (its worker was killed, its host died), and the reply
becomes ``interrupted`` with the text saved so far. No cron: lapsed leases are released before
a send is refused, when a follower finds one, and by a light sweep (at most every
``SWEEP_SECONDS`` a process, when a conversation is read or a stream starts). A worker that
shuts down declares its own replies interrupted, with their text (:func:`interrupt_here`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from flask import current_app

from app.extensions import db
from app.models import MessageStatus
from app.repositories import replies as repo
from app.services import keepalive, reply_hub

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0


def lease_until() -> datetime:
    """When a lease taken or renewed now lapses."""
    return datetime.now(UTC) + timedelta(seconds=current_app.config["PARLOR_REPLY_LEASE_SECONDS"])


def release_lapsed() -> int:
    """Declare every reply whose lease has lapsed interrupted (committed); how many."""
    released = repo.interrupt_lapsed(datetime.now(UTC))
    db.session.commit()
    if released:
        log.warning("%d reply(ies) lost their writer: interrupted, text kept", released)
    return released


def sweep_if_due() -> None:
    """:func:`release_lapsed`, at most every ``SWEEP_SECONDS`` in this process's app."""
    last = current_app.extensions.setdefault("parlor_lease_sweep", [0.0])
    if time.monotonic() - last[0] >= SWEEP_SECONDS:
        last[0] = time.monotonic()
        release_lapsed()


def still_open(open_ids: Iterable[str]) -> bool:
    """Whether any of these replies, open when read, is still being written once the lapsed
    leases are released and the replies no writer claimed within a lease period are given
    up (in the caller's transaction: it commits)."""
    open_ids = list(open_ids)
    if not open_ids:
        return False
    now = datetime.now(UTC)
    repo.interrupt_lapsed(now)
    lease = timedelta(seconds=current_app.config["PARLOR_REPLY_LEASE_SECONDS"])
    repo.abandon_pending(open_ids, now - lease)  # never claimed by any writer
    return any(found is not None and found.status in (MessageStatus.PENDING,
                                                      MessageStatus.STREAMING)
               for found in map(repo.progress, open_ids))


def interrupt_here() -> int:
    """Declare the replies this process is writing interrupted, with their text so far, and
    end their writers (a worker shutting down); how many."""
    done = 0
    for live in reply_hub.live_replies():
        live.cancel = MessageStatus.INTERRUPTED
        try:
            with live.app.app_context():
                done += repo.interrupt(live.message_id, live.text(), live.thinking())
                db.session.commit()
        except Exception:
            log.exception("could not mark reply %s interrupted", live.message_id)
    if done:
        log.warning("shutting down: %d reply(ies) interrupted, text kept", done)
    return done


def watch_shutdown(alive: Callable[[], bool], grace_seconds: float) -> None:
    """For gunicorn's workers: once ``alive()`` turns false (SIGTERM: a graceful stop), wait
    most of the grace period for streams to end on their own, then :func:`interrupt_here`
    (before the master kills the worker at the period's end)."""
    margin = min(5.0, grace_seconds / 2)

    def watch() -> None:
        while alive():
            time.sleep(0.5)
        time.sleep(max(0.0, grace_seconds - margin))
        interrupt_here()

    keepalive.spawn(watch)
