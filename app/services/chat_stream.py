"""Streaming a reply: one writer per message, any number of followers, told to each page as
Server-Sent Events.

The stream request that claims a pending reply starts its *writer* on a background greenlet
(a thread outside gevent): it reads the vendor through the relay /v1 uses too
(services/relay.py: budget check, metering, the usage ledger, the off-thread read),
saves the text as it grows (one UPDATE a second at most, never one per token; the saves of
all the process's writers in one transaction, services/reply_saver.py) under a lease it
renews, and hands each piece (of its text, or of the model's thinking) to its followers
(services/reply_hub.py). Every stream request, the claiming one included, is a *follower*
(services/reply_followers.py): it sends what its client does not have yet, then the pieces
as they come, then ``done`` with the stored reply. A follower that leaves does not end the writer (a
reload or a second tab picks the reply up); a reply nobody follows for
``PARLOR_REPLY_ORPHAN_SECONDS`` is ended as ``incomplete``, a Stop ends it as ``stopped``.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial

from flask import current_app

from app import admission, telemetry
from app.extensions import commit_keeping_loaded, db
from app.models import Conversation, Message, MessageStatus, User
from app.repositories import replies as replies_repo
from app.services import (
    budgets,
    chat,
    chat_titles,
    gateway,
    keepalive,
    keys,
    relay,
    reply_followers,
    reply_hub,
    reply_leases,
    reply_saver,
)
from app.services.chat import describe_error, reply_request
from app.vendors import ChatMessage, ChatRequest, Route, Usage

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0  # how often the writer saves the text, renews its lease, looks for a Stop
RENEW_SECONDS = 3.0  # the longest a silent writer goes without renewing its lease
CLOSE_WAIT_SECONDS = 2.0  # a stopped vendor stream gets this long to file its usage row
CONTINUE_PROMPT = ("Continue your previous reply exactly where it stopped. Do not repeat any "
                   "of it and do not comment on it: write only what comes next.")

Render = Callable[[Message], str]


def html_text(text: str) -> str:
    """A delta for the page: escaped text the SSE extension may swap in as HTML."""
    return html.escape(text, quote=False)


@dataclass(frozen=True)
class Job:
    """What a writer needs, as plain data (it runs outside the request)."""

    message_id: str
    conversation_id: str
    caller: gateway.Caller
    request: ChatRequest
    prefix: str  # the text a continued reply already has
    turn: Callable[[], None]  # ends the request's turn at the start gate (as the vendor is called)


@dataclass
class Outcome:
    """How a generation ended, filled in as it runs and stored by :func:`_store`."""

    status: str = MessageStatus.COMPLETE
    route: Route | None = None
    usage: Usage | None = None
    error: str | None = None


def stream_reply(user: User | keys.KeyOwner, conversation: Conversation, message: Message,
                 render: Render, *, follow_timeout: float,
                 encode_delta: Callable[[str], str] = html_text, source: str = "web",
                 key: keys.VerifiedKey | None = None,
                 start: reply_followers.Position | None = None,
                 claimed: bool = False, request: ChatRequest | None = None) -> Iterator[str]:
    """Events for the reply ``message`` from ``start`` (what the client already has; default
    nothing): its writer is started if it is still pending (never a second one), and its
    thinking and text are followed live wherever they are written. Ends with a ``done`` event
    carrying ``render`` of the stored reply.

    ``encode_delta`` writes each piece (escaped HTML for the page, JSON for the API);
    ``source`` and ``key`` (the API key called with) go to the usage ledger. ``claimed``: this
    request claimed the reply when it stored it (``chat.send_and_claim``), and the objects
    given are as stored; ``request``: the vendor request already built for it."""
    owner = _owner(user, key)  # now: the events are made after the request's session is gone
    turn = admission.keep_turn()  # the request's start goes on until the writer calls the vendor

    def events() -> Iterator[str]:
        yield ": stream\n\n"  # sends the headers now
        live = _start(owner, conversation, message, source, key, background=True,
                      claimed=claimed, turn=turn, request=request)
        yield from reply_followers.follow(message.id, render, encode_delta,
                                          start or reply_followers.position(), follow_timeout,
                                          live)

    return events()


def generate_reply(user: User | keys.KeyOwner, conversation: Conversation, message: Message, *,
                   source: str = "api", key: keys.VerifiedKey | None = None,
                   claimed: bool = False, request: ChatRequest | None = None) -> Message:
    """Write the pending reply ``message`` here and now (no events) and return it as stored;
    a reply already claimed elsewhere is returned as it stands."""
    _start(_owner(user, key), conversation, message, source, key, background=False,
           claimed=claimed, request=request)
    db.session.commit()  # a fresh snapshot
    return db.session.get(Message, message.id, populate_existing=True)


def stop(conversation: Conversation, message_id: str) -> bool:
    """Stop a reply being written (its writer keeps the text so far); False when it has
    already ended. A writer in this process hears at once, one elsewhere within a second."""
    stopped = chat.stop(conversation, message_id)
    if stopped:
        reply_hub.cancel(message_id, MessageStatus.STOPPED)
    return stopped


def continue_reply(conversation: Conversation, message_id: str) -> Message:
    """Make a reply cut short (interrupted or incomplete, with some text) pending again, its
    text kept: its stream asks the model to go on from it and appends what comes to the same
    message."""
    reply = chat.message(conversation, message_id)
    replies_repo.interrupt_lapsed(datetime.now(UTC))  # its writer may be gone unnoticed
    if reply is None or reply.role != "assistant" or not replies_repo.reopen(message_id):
        db.session.rollback()
        raise chat.ChatError("Only a reply that was cut short can be continued.")
    db.session.commit()
    return reply


def _owner(user: User | keys.KeyOwner, key: keys.VerifiedKey | None) -> keys.KeyOwner:
    """Who the reply is for, as plain data (the writer's budget check reads it off the
    request): the key's owner as verified, else the signed-in user's row, read now."""
    if key is not None:
        return key.user
    return user if isinstance(user, keys.KeyOwner) else keys.KeyOwner.of(user)


def _start(owner, conversation, message, source, key, *, background: bool, claimed: bool,
           turn: Callable[[], None] | None = None, request: ChatRequest | None = None):
    """Claim the reply (unless this request already has) and start its writer; the writer's
    :class:`LiveReply`, or None when the reply was claimed by another request (or has
    ended). ``turn`` ends the request's turn at the start gate (app/admission.py): the writer
    calls it as it calls the vendor (by default: when it calls it from this request)."""
    turn = turn or admission.vendor_called
    reply_leases.sweep_if_due()
    if not claimed:
        won = replies_repo.claim(message.id, reply_leases.lease_until())
        db.session.commit()
        if not won:
            turn()
            return None
    job = _job(owner, conversation, message, source, key, fresh=claimed, turn=turn,
               request=request)
    commit_keeping_loaded()  # no transaction stays open while the vendor talks
    live = reply_hub.open_reply(message.id, job.prefix)
    # the writer's vendor call is a span of this request's trace, when the app traces
    run = telemetry.carried(partial(_run, current_app._get_current_object(), job, live,
                                    background))
    if background:
        keepalive.spawn(run)
    else:
        run()
    return live


def _job(owner: keys.KeyOwner, conversation, message, source, key, *, fresh: bool,
         turn: Callable[[], None], request: ChatRequest | None) -> Job:
    if not fresh:  # as stored now, in this session (a stream runs after its request's commit)
        conversation = db.session.get(Conversation, conversation.id, populate_existing=True)
        message = db.session.get(Message, message.id, populate_existing=True)
    request = request or reply_request(conversation, message)
    prefix = message.content or ""
    if prefix:  # a continuation: the partial reply is the last turn, then the instruction
        request = replace(request, messages=(*request.messages,
                                             ChatMessage(role="assistant", content=prefix),
                                             ChatMessage(role="user", content=CONTINUE_PROMPT)))
    # The caller's rows as plain data: the writer's budget check reads them, no query.
    caller = gateway.Caller(user_id=owner.id, role=owner.role.name,
                            api_key_id=key.id if key is not None else None, source=source,
                            user=owner, key=key)
    return Job(message.id, conversation.id, caller, request, prefix, turn)


# -- the writer ------------------------------------------------------------------------------


def _run(app, job: Job, live: reply_hub.LiveReply, followed: bool) -> None:
    with app.app_context():
        bus = reply_hub.bus(app)
        try:
            _write(job, live, bus, followed)
        except Exception:
            log.exception("reply %s: the writer failed", job.message_id)
        finally:
            job.turn()  # (had the writer failed before it called the vendor)
            reply_hub.close_reply(live)
            bus.publish_end(job.message_id)


def _write(job: Job, live: reply_hub.LiveReply, bus, followed: bool) -> None:
    outcome = Outcome()
    started = time.monotonic()
    paced = None
    try:
        job.turn()  # the vendor is called now: the request that started it has had its turn
        try:
            outcome.route, paced = relay.open_relay(
                job.caller, job.request.model, job.request, interval=TICK_SECONDS,
                ended=lambda: outcome.status)
        except budgets.BudgetExceeded as exc:
            outcome.status, outcome.error = MessageStatus.ERROR, str(exc)
            return
        except Exception as exc:  # the vendor refused or failed before its first piece
            log.warning("reply %s failed: %s", job.message_id, exc)
            outcome.status, outcome.error = MessageStatus.ERROR, describe_error(exc)
            return
        _relay(job, live, bus, paced, outcome, followed)
    finally:
        if paced is not None:
            paced.close(wait=CLOSE_WAIT_SECONDS)  # the usage row is filed before the reply
        _store(job, live, outcome, started)


def _relay(job: Job, live: reply_hub.LiveReply, bus, paced, outcome: Outcome,
           followed: bool) -> None:
    lease_seconds = current_app.config["PARLOR_REPLY_LEASE_SECONDS"]
    orphan_seconds = current_app.config["PARLOR_REPLY_ORPHAN_SECONDS"]
    saved = (len(job.prefix), 0)
    last_tick = last_lease = time.monotonic()
    try:
        for delta in paced:
            if delta is not keepalive.PING:
                if delta.usage is not None:
                    outcome.usage = delta.usage
                if delta.thinking:
                    bus.publish(job.message_id, live.append(delta.thinking, reply_hub.THINKING),
                                delta.thinking, reply_hub.THINKING)
                if delta.text:
                    bus.publish(job.message_id, live.append(delta.text), delta.text)
            if live.cancel:
                outcome.status = live.cancel
                return
            now = time.monotonic()
            if now - last_tick < TICK_SECONDS:
                continue
            last_tick = now
            if followed and live.alone_for() >= orphan_seconds \
                    and not bus.watched(job.message_id):
                outcome.status = MessageStatus.INCOMPLETE  # nobody is reading it any more
                return
            text, thinking = live.text(), live.thinking()
            changed = (len(text), len(thinking)) != saved
            # Unchanged, the lease is still renewed every few seconds: that write is also
            # how a Stop sent to another worker is noticed while the vendor is silent (the
            # saver sets ``live.cancel`` for a reply no longer streaming).
            if changed or now - last_lease >= min(lease_seconds / 4, RENEW_SECONDS):
                reply_saver.save(live, reply_leases.lease_until(), text if changed else None,
                                 thinking if changed else None)
                saved, last_lease = (len(text), len(thinking)), now
                if live.cancel:  # stopped elsewhere, declared interrupted, or deleted
                    outcome.status = live.cancel
                    return
    except Exception as exc:  # the vendor failed mid-stream: keep what was written
        log.warning("reply %s failed: %s", job.message_id, exc)
        outcome.error = describe_error(exc)
        outcome.status = MessageStatus.INCOMPLETE if live.text() else MessageStatus.ERROR


def _store(job: Job, live: reply_hub.LiveReply, outcome: Outcome, started: float) -> None:
    """Store the reply, whatever way the generation ended."""
    text = live.text()
    spent = outcome.usage or Usage(
        input_tokens=gateway.estimate_tokens("".join(m.content for m in job.request.messages)),
        output_tokens=gateway.estimate_tokens(text[len(job.prefix):]))
    try:
        stored = replies_repo.finish(
            job.message_id, job.conversation_id, datetime.now(UTC), status=outcome.status,
            content=text, thinking=live.thinking(), error=outcome.error,
            input_tokens=spent.input_tokens,
            output_tokens=spent.output_tokens,
            latency_ms=int((time.monotonic() - started) * 1000))
        db.session.commit()
        if stored is not None:
            live.stored = stored  # its followers here render ``done`` from it, with no read
            chat_titles.reply_stored(job.message_id)  # a first reply: its conversation's title
    except Exception:
        db.session.rollback()
        log.exception("could not store reply %s", job.message_id)
