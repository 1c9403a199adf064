"""The gateway: completions for API clients, each written once to the usage ledger.

Resolve the model for the caller's role, call the vendor manager (which retries and falls
back), and record who spent what, whether the call succeeded, failed or was cut short.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TypeVar

from flask import g

from app import admission
from app.extensions import db
from app.models import ApiKey, MessageStatus, User
from app.services import budgets, teams, usage
from app.services.keys import KeyOwner, VerifiedKey
from app.services.vendors import vendor_manager
from app.vendors import (
    ChatRequest,
    Delta,
    ModelInfo,
    Result,
    Route,
    UnknownModelError,
    Usage,
    VendorError,
    VendorManager,
)
from app.vendors.embeddings import EmbeddingRequest, Embeddings
from app.vendors.responses_api import ResponseEvent, ResponsesCall, usage_of

T = TypeVar("T")
CHARS_PER_TOKEN = 4  # a rough estimate, used only when a vendor reported no usage
CACHED = "cached"  # a usage row's status for an answer from the response cache
# A native Responses stream's events read for an output estimate (only if usage never comes).
_DELTA_EVENTS = frozenset({"response.output_text.delta", "response.function_call_arguments.delta"})


@dataclass(frozen=True)
class Caller:
    """Who a completion is for, as the ledger records it."""

    user_id: int
    role: str
    api_key_id: int | None = None
    source: str = "api"
    # The caller's rows, already loaded: the budget check then needs no query to find them.
    user: User | KeyOwner | None = field(default=None, compare=False, repr=False)
    key: ApiKey | VerifiedKey | None = field(default=None, compare=False, repr=False)
    # Spend attribution (x-parlor-tags / metadata.tags), stored with the usage row.
    tags: tuple[str, ...] = ()
    # The team the call counts towards: worked out from the key and user when not given.
    team_id: int | None = None

    def __post_init__(self) -> None:
        if self.team_id is None:  # read now, while the caller's rows are still loaded
            object.__setattr__(self, "team_id", budgets.team_id_of(self.user, self.key))


def models(role: str, team_id: int | None = None) -> list[ModelInfo]:
    """The model names ``role`` may use (and, with ``team_id``, that team too)."""
    found = vendor_manager().models(role)
    allowed = teams.allowed_models(team_id)
    return found if allowed is None else [m for m in found if teams.allows(allowed, m.id)]


def find_model(model_id: str, role: str, team_id: int | None = None) -> ModelInfo | None:
    return next((m for m in models(role, team_id) if m.id == model_id), None)


def complete(caller: Caller, model: str, request: ChatRequest) -> tuple[Result, Route]:
    """A whole completion; the ledger gets one row whatever happens."""
    (result, route), started = _vendor_call(caller, model, lambda manager: manager.complete(
        model, request, caller.role, cache_scope=_cache_scope(caller),
        cache_ttl=_cache_ttl(caller)))
    _note_cache(route, result.cached, caller)
    if result.cached:  # no vendor call: a cache hit at no cost
        _record(caller, model, _free(route), result.usage, started, CACHED)
    else:
        _record(caller, model, route, result.usage, started, MessageStatus.COMPLETE)
    return result, route


def embed(caller: Caller, model: str, request: EmbeddingRequest) -> tuple[Embeddings, Route]:
    """Embeddings of the request's input; the ledger gets one row (input tokens only), with
    an estimate when the vendor reported no usage."""
    (result, route), started = _vendor_call(
        caller, model, lambda manager: manager.embed(model, request, caller.role))
    if not result.usage.input_tokens:
        estimated = request.token_count() + estimate_tokens("".join(request.texts()))
        result = replace(result, usage=Usage(input_tokens=estimated))
    _record(caller, model, route, result.usage, started, MessageStatus.COMPLETE)
    return result, route


def count_tokens(caller: Caller, model: str, request: ChatRequest) -> tuple[int, Route]:
    """The request's input tokens: the vendor's count where it offers one (Anthropic), else
    an estimate of about four characters a token over system, messages and tools. Not a
    completion: nothing goes to the usage ledger."""
    manager = vendor_manager()
    _release_database()
    counted, route = manager.count_tokens(model, request, caller.role)
    if counted is None:
        tools = "".join(t.name + t.description + json.dumps(t.parameters) for t in request.tools)
        counted = estimate_tokens(_prompt_text(request) + tools)
    return counted, route


def open_stream(caller: Caller, model: str, request: ChatRequest, *,
                ended: Callable[[], str] | None = None) -> tuple[Route, Iterator[Delta]]:
    """Start a streamed completion; errors before its first delta are raised here.

    Iterate the returned deltas inside an app context (``stream_with_context``): the usage
    row is written when the stream ends, fails or is closed because the client left (filed
    as ``stopped``, or as what ``ended()`` then says: the chat knows why it closed a stream).
    """
    (route, deltas), started = _vendor_call(caller, model, lambda manager: manager.open_stream(
        model, request, caller.role, cache_scope=_cache_scope(caller),
        cache_ttl=_cache_ttl(caller)))
    cached = bool(getattr(deltas, "cached", False))
    _note_cache(route, cached, caller)
    return route, _metered(caller, model, request, route, deltas, started, ended, cached=cached)


def speaks_responses(caller: Caller, model: str) -> bool:
    """Whether ``model``'s routes all go to vendors that speak the Responses API natively."""
    return vendor_manager().speaks_responses(model, caller.role)


def respond(caller: Caller, model: str, call: ResponsesCall) -> tuple[dict, Route]:
    """A Responses API call sent as is to a vendor that speaks it: the vendor's response
    object; the ledger gets one row (its usage, or an estimate) whatever happens."""
    (answer, route), started = _vendor_call(
        caller, model, lambda manager: manager.respond(model, call, caller.role))
    status = MessageStatus.ERROR if answer.get("status") == "failed" else MessageStatus.COMPLETE
    _record(caller, model, route, usage_of(answer) or _estimated(call, ""), started, status)
    return answer, route


def open_response_stream(caller: Caller, model: str,
                         call: ResponsesCall) -> tuple[Route, Iterator[ResponseEvent]]:
    """A streamed Responses API call sent as is to a vendor that speaks it: its events, with
    errors before the first one raised here; one usage row when the stream ends however."""
    (route, events), started = _vendor_call(
        caller, model, lambda manager: manager.open_response_stream(model, call, caller.role))
    return route, _metered_events(caller, model, call, route, events, started)


def _vendor_call(caller: Caller, model: str, call: Callable[[VendorManager], T]) -> tuple[T, float]:
    """``call(manager)`` for the caller, and when it started: the caller's budgets and team are
    checked first (BudgetExceeded before any vendor call), the request's database session is
    released before the vendor is called, and a call that fails gets its error row here."""
    budgets.check_caller(caller.user_id, caller.api_key_id, user=caller.user, key=caller.key)
    teams.check_model(caller.team_id, model)
    manager = vendor_manager()  # may re-read the catalog from the database: before the release
    _release_database()
    started = time.monotonic()
    try:
        return call(manager), started
    except (VendorError, UnknownModelError):
        _record(caller, model, None, Usage(), started, MessageStatus.ERROR)
        raise


def _metered_events(caller, model, call, route, events, started) -> Iterator[ResponseEvent]:
    sent: list[str] = []
    status, recorded = MessageStatus.ERROR, False
    try:
        for event in events:
            if event.type in _DELTA_EVENTS:
                sent.append(str(json.loads(event.data).get("delta") or ""))
            if event.final:  # written before the last event goes out
                failed = event.type == "response.failed"
                _record(caller, model, route,
                        usage_of(event.response) or _estimated(call, "".join(sent)), started,
                        MessageStatus.ERROR if failed else MessageStatus.COMPLETE)
                recorded = True
            yield event
    except GeneratorExit:
        status = MessageStatus.STOPPED
        raise
    finally:
        events.close()
        if not recorded:
            _record(caller, model, route, _estimated(call, "".join(sent)), started, status)


def _estimated(call: ResponsesCall, output: str) -> Usage:
    prompt = json.dumps([call.body.get("instructions"), call.body.get("input")])
    return Usage(input_tokens=estimate_tokens(prompt), output_tokens=estimate_tokens(output))


def cache_state() -> str | None:
    """``hit`` or ``miss`` for this request's completion on a route that caches answers (the
    ``x-parlor-cache`` header), else None."""
    return g.get("parlor_cache")


def _cache_scope(caller: Caller) -> str:
    """Whose cached answers a caller may get (a route may share them with everyone)."""
    return f"user:{caller.user_id}"


def _cache_ttl(caller: Caller) -> int | None:
    """The caller's key's own response-cache opt-in (seconds), for routes that keep none."""
    return getattr(caller.key, "response_cache_ttl", None) if caller.api_key_id else None


def _note_cache(route: Route, cached: bool, caller: Caller) -> None:
    if route.cache_ttl or _cache_ttl(caller):
        g.parlor_cache = "hit" if cached else "miss"


def _free(route: Route) -> Route:
    """The route priced at nothing: a cached answer cost no vendor call."""
    return replace(route, input_price=Decimal(0), output_price=Decimal(0),
                   cache_read_price=Decimal(0), cache_write_price=Decimal(0))


def _metered(caller, model, request, route, deltas, started, ended=None, *,
             cached: bool = False) -> Iterator[Delta]:
    sent: list[str] = []
    status, recorded = MessageStatus.ERROR, False

    def spent(reported: Usage | None) -> Usage:
        return reported or Usage(input_tokens=estimate_tokens(_prompt_text(request)),
                                 output_tokens=estimate_tokens("".join(sent)))

    try:
        for delta in deltas:
            if delta.text:
                sent.append(delta.text)
            if delta.tool_call:
                sent.append((delta.tool_call.name or "") + delta.tool_call.arguments)
            if delta.finish_reason:  # the last delta: the ledger is written before it goes out
                _record(caller, model, _free(route) if cached else route, spent(delta.usage),
                        started, CACHED if cached else MessageStatus.COMPLETE)
                recorded = True
            yield delta
    except GeneratorExit:
        status = ended() if ended is not None else MessageStatus.STOPPED
        raise
    finally:
        deltas.close()
        if not recorded:
            _record(caller, model, route, spent(None), started, status)


def _release_database() -> None:
    """End the request's transaction, and its turn at the start gate, before the vendor
    call: a worker holds hundreds of streams, each minutes long, and a pooled connection kept
    by each would starve the rest. (The caller's rows stay readable, detached, with what they
    had loaded.) Nothing to do when the request never opened a session."""
    if db.session.registry.has():
        db.session.close()
    admission.vendor_called()  # and its turn to start ends: the vendor's wait holds none


def estimate_tokens(text: str) -> int:
    """Tokens in ``text``, roughly, for streams that ended before the vendor counted them."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _prompt_text(request: ChatRequest) -> str:
    return "".join(m.content + "".join(c.arguments for c in m.tool_calls)
                   for m in request.messages)


def _record(caller: Caller, model: str, route: Route | None, spent: Usage, started: float,
            status: str) -> None:
    """Queue the call's ledger row: it is written off the request path (see usage_writer)."""
    usage.submit(user_id=caller.user_id, api_key_id=caller.api_key_id, model=model,
                 route=route, usage=spent, status=status, source=caller.source,
                 latency_ms=int((time.monotonic() - started) * 1000), tags=caller.tags,
                 team_id=caller.team_id)
