"""Streaming a reply: one generation per message, told to the page as Server-Sent Events.

The vendor is read on a worker thread so the page still gets a ``: ping`` while the vendor is
silent and a Stop is noticed between chunks. The database is touched only in short
transactions (claim, cancel checks, the final write): SQLite stays unlocked while streaming.
"""

from __future__ import annotations

import html
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from app.extensions import db
from app.models import Conversation, Message, MessageStatus, User
from app.repositories import accounts as accounts_repo
from app.repositories import conversations as repo
from app.services import budgets, usage
from app.services.chat import describe_error, history
from app.services.vendors import vendor_manager
from app.vendors import ChatRequest, Route, Usage, VendorManager

log = logging.getLogger(__name__)

PING_SECONDS = 15.0
CANCEL_CHECK_SECONDS = 0.25
FOLLOW_POLL_SECONDS = 0.5
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

Render = Callable[[Message], str]


class Ledger(NamedTuple):
    """Where the reply's usage row is filed: who asked (``web`` or ``api``) and with which key."""

    source: str = "web"
    api_key_id: int | None = None


@dataclass
class StreamOutcome:
    """How a generation ended, filled in as its events arrive and stored by :func:`_finish`."""

    route: Route | None = None
    usage: Usage | None = None
    error: Exception | None = None
    status: MessageStatus = MessageStatus.COMPLETE


def html_text(text: str) -> str:
    """A delta for the page: escaped text the SSE extension may swap in as HTML."""
    return html.escape(text, quote=False)


def sse(event: str, data: str) -> str:
    """One Server-Sent Event; every line of ``data`` gets its own ``data:`` field."""
    lines = "".join(f"data: {line}\n" for line in _LINE_BREAK.split(data))
    return f"event: {event}\n{lines}\n"


def stream_reply(user: User, conversation: Conversation, message: Message,
                 render: Render, *, follow_timeout: float,
                 encode_delta: Callable[[str], str] = html_text, source: str = "web",
                 api_key_id: int | None = None) -> Iterator[str]:
    """Events for the reply ``message``: its generation if it is still pending, else (another
    request claimed it, or it has ended) its final state once there is one — never a second
    generation. Ends with a ``done`` event carrying ``render`` of the stored reply.

    ``encode_delta`` writes each chunk's text (escaped HTML for the page, JSON for the API);
    ``source`` and ``api_key_id`` go to the usage ledger."""
    yield ": stream\n\n"  # sends the headers now
    claimed = repo.claim_reply(message.id)
    db.session.commit()
    if claimed:
        yield from _generate(user, conversation, message.id, render, encode_delta,
                             Ledger(source, api_key_id))
    else:
        yield from _follow(message.id, render, follow_timeout)


def _follow(message_id: str, render: Render, timeout: float) -> Iterator[str]:
    deadline = last_sent = time.monotonic()
    deadline += timeout
    while repo.status_of(message_id) in repo.OPEN_STATUSES and time.monotonic() < deadline:
        db.session.commit()  # a fresh snapshot on the next look
        time.sleep(FOLLOW_POLL_SECONDS)
        if time.monotonic() - last_sent >= PING_SECONDS:
            last_sent = time.monotonic()
            yield ": ping\n\n"
    db.session.commit()
    yield sse("done", render(db.session.get(Message, message_id)))


class _VendorReader:
    """Reads the vendor stream on a thread into a queue; the reader alone closes the upstream."""

    def __init__(self, manager: VendorManager, model: str, request: ChatRequest, role: str,
                 refusal: Exception | None = None):
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run,
                                        args=(manager, model, request, role, refusal),
                                        name="parlor-reply", daemon=True)
        self._thread.start()

    def _run(self, manager, model, request, role, refusal) -> None:
        deltas = None
        try:
            if refusal is not None:  # e.g. the budget is spent: no vendor call at all
                raise refusal
            route, deltas = manager.open_stream(model, request, role)
            self.events.put(("route", route))
            for delta in deltas:
                if self._stop.is_set():
                    break
                self.events.put(("delta", delta))
        except Exception as exc:  # handed to the request thread, which reports it
            self.events.put(("error", exc))
        finally:
            if deltas is not None:
                deltas.close()  # closes the upstream request
            self.events.put(("end", None))

    def stop(self) -> None:
        self._stop.set()


def _generate(user: User, conversation: Conversation, message_id: str, render: Render,
              encode_delta: Callable[[str], str], ledger: Ledger) -> Iterator[str]:
    placeholder = db.session.get(Message, message_id)
    request = ChatRequest(model=conversation.model,
                          messages=tuple(history(conversation, placeholder.seq)))
    model, role, user_id = conversation.model, user.role.name, user.id
    refusal = _over_budget(user, ledger.api_key_id)
    reader = _VendorReader(vendor_manager(), model, request, role, refusal)
    db.session.commit()  # no transaction stays open while the vendor talks
    parts: list[str] = []
    outcome = StreamOutcome()
    if refusal is not None:
        outcome.usage = Usage()  # nothing was spent
    started = last_sent = last_check = time.monotonic()
    try:
        while True:
            try:
                kind, payload = reader.events.get(timeout=CANCEL_CHECK_SECONDS)
            except queue.Empty:
                kind, payload = "idle", None
            if kind == "end":
                break
            if kind == "route":
                outcome.route = payload
            elif kind == "error":
                outcome.error = payload
            elif kind == "delta":
                if payload.usage is not None:
                    outcome.usage = payload.usage
                if payload.text:
                    parts.append(payload.text)
                    last_sent = time.monotonic()
                    yield sse("delta", encode_delta(payload.text))
            now = time.monotonic()
            if now - last_check >= CANCEL_CHECK_SECONDS:
                last_check = now
                if _stop_requested(message_id):
                    outcome.status = MessageStatus.STOPPED
                    break
            if now - last_sent >= PING_SECONDS:
                last_sent = now
                yield ": ping\n\n"
    except GeneratorExit:  # the page went away: keep what was written
        outcome.status = MessageStatus.INCOMPLETE
        raise
    finally:
        reader.stop()
        _finish(message_id, user_id, model, request, "".join(parts), outcome,
                int((time.monotonic() - started) * 1000), ledger)
    yield sse("done", render(db.session.get(Message, message_id)))


def _over_budget(user: User, api_key_id: int | None) -> budgets.BudgetExceeded | None:
    """The refusal when the user's budget, or that of the key they send with, is spent."""
    try:
        # The identity map already holds the key this request authenticated with.
        budgets.check(user, accounts_repo.key_by_id(api_key_id) if api_key_id else None)
    except budgets.BudgetExceeded as exc:
        return exc
    return None


def _stop_requested(message_id: str) -> bool:
    status = repo.status_of(message_id)
    db.session.commit()
    return status == MessageStatus.STOPPED


def _finish(message_id: str, user_id: int, model: str, request: ChatRequest, text: str,
            outcome: StreamOutcome, latency_ms: int, ledger: Ledger) -> None:
    """Store the reply and its usage, whatever way the generation ended."""
    try:
        message = db.session.get(Message, message_id)
        if message is None:  # the conversation was deleted meanwhile
            db.session.rollback()
            return
        error = outcome.error
        if isinstance(error, budgets.BudgetExceeded):
            message.status, message.error = MessageStatus.ERROR, str(error)
        elif error is not None:
            log.warning("reply %s failed: %s", message_id, error)
            # A reply cut short (timeout, broken stream) keeps its text as ``incomplete``.
            message.status = MessageStatus.INCOMPLETE if text else MessageStatus.ERROR
            message.error = describe_error(error)
        elif message.status == MessageStatus.STOPPED:
            outcome.status = MessageStatus.STOPPED
        else:
            message.status = outcome.status
        spent = outcome.usage or _estimate(request, text)
        message.content = text
        message.input_tokens, message.output_tokens = spent.input_tokens, spent.output_tokens
        message.latency_ms = latency_ms
        message.conversation.updated_at = datetime.now(UTC)
        usage.record(user_id=user_id, model=model, route=outcome.route, usage=spent,
                     latency_ms=latency_ms, status=message.status, source=ledger.source,
                     api_key_id=ledger.api_key_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("could not store reply %s", message_id)


def _estimate(request: ChatRequest, text: str) -> Usage:
    """About four characters a token, for replies whose vendor sent no usage (stopped ones)."""
    prompt = sum(len(m.content) for m in request.messages)
    return Usage(input_tokens=-(-prompt // 4), output_tokens=-(-len(text) // 4))
