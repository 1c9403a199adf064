"""An exact-match cache of completions, for routes that opt in (``Route.cache_ttl``).

The key is a digest of the routed request (every field the vendor would get, normalised as
JSON with sorted keys), the route and a scope: the caller's own (``user:42``) unless the route
shares its answers (``Route.cache_shared``), so one user's answer never reaches another by
default. An entry holds the answer (its text as it streamed, tool calls, reasoning, finish
and usage): a plain call and a stream of the same request share it, and a stream is replayed
as a stream, piece by piece. Entries live in Redis when one is set (every instance shares
them, each expiring after the route's TTL), else in this process (bounded, least recently
used first out).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections import OrderedDict
from typing import Any

from app.vendors.catalog import Route
from app.vendors.types import ChatRequest, Delta, Part, Result, ToolCall, ToolCallDelta, Usage


def cache_key(route: Route, request: ChatRequest, scope: str | None) -> str:
    """The entry of ``request`` (as routed) on ``route`` for ``scope``."""
    fields = dataclasses.asdict(request)
    normal = json.dumps({"route": route.label, "scope": "shared" if route.cache_shared
                         else scope, "request": fields}, sort_keys=True, default=str,
                        separators=(",", ":"))
    return hashlib.sha256(normal.encode()).hexdigest()


class MemoryStore:
    """Entries in this process: at most ``max_entries``, each until its TTL."""

    def __init__(self, max_entries: int = 1000):
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class RedisStore:
    """Entries in Redis, expiring by themselves; a Redis failure is a miss, never an error."""

    def __init__(self, client, errors: tuple[type[BaseException], ...] = (),
                 prefix: str = "parlor:cache:"):
        self.client = client
        self.errors = errors
        self.prefix = prefix

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get(self.prefix + key)
        except self.errors:
            return None

    def set(self, key: str, value: bytes, ttl: int) -> None:
        try:
            self.client.set(self.prefix + key, value, ex=ttl)
        except self.errors:
            pass


class ResponseCache:
    """Looks answers up and keeps them, for the vendor manager."""

    def __init__(self, store: MemoryStore | RedisStore | None = None):
        self.store = store or MemoryStore()

    def lookup(self, route: Route, request: ChatRequest, scope: str | None,
               ttl: int | None = None) -> dict | None:
        """The kept answer, if the route keeps answers (or ``ttl``, the caller's own opt-in,
        says to on a route that keeps none)."""
        if not (route.cache_ttl or ttl):
            return None
        raw = self.store.get(cache_key(route, request, scope))
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def keep(self, route: Route, request: ChatRequest, scope: str | None, entry: dict,
             ttl: int | None = None) -> None:
        kept_for = route.cache_ttl or ttl
        if kept_for and entry.get("finish") not in (None, "error"):
            self.store.set(cache_key(route, request, scope), json.dumps(entry).encode(),
                           kept_for)


def entry_of(result: Result) -> dict:
    """A whole answer as a cache entry."""
    return {"pieces": [result.text] if result.text else [], "model": result.model,
            "finish": result.finish_reason, "usage": dataclasses.asdict(result.usage),
            "tool_calls": [[c.id, c.name, c.arguments] for c in result.tool_calls],
            "thinking": [[p.text, p.signature] for p in result.thinking if p.type == "thinking"]}


def result_of(entry: dict, model: str) -> Result:
    return Result(text="".join(entry["pieces"]), finish_reason=entry["finish"],
                  usage=Usage(**entry["usage"]), model=entry.get("model") or model,
                  tool_calls=tuple(ToolCall(*call) for call in entry["tool_calls"]),
                  thinking=tuple(Part("thinking", text=t, signature=s)
                                 for t, s in entry["thinking"]), cached=True)


class Replay:
    """A cached answer as a stream: its pieces as they first streamed, then its finish."""

    cached = True

    def __init__(self, entry: dict):
        self._deltas = iter(_deltas(entry))

    def __iter__(self) -> Replay:
        return self

    def __next__(self) -> Delta:
        return next(self._deltas)

    def close(self) -> None:
        self._deltas = iter(())


def _deltas(entry: dict) -> list[Delta]:
    deltas = [Delta(thinking=text, signature=signature or "")
              for text, signature in entry["thinking"]]
    deltas += [Delta(text=piece) for piece in entry["pieces"]]
    deltas += [Delta(tool_call=ToolCallDelta(index=i, id=call_id, name=name, arguments=args))
               for i, (call_id, name, args) in enumerate(entry["tool_calls"])]
    deltas.append(Delta(finish_reason=entry["finish"], usage=Usage(**entry["usage"])))
    return deltas


class Recording:
    """A live stream passed through unchanged; once it finishes whole, its answer is kept."""

    cached = False

    def __init__(self, upstream, keep):
        self._upstream = upstream
        self._keep = keep
        self._entry: dict[str, Any] = {"pieces": [], "tool_calls": [], "thinking": []}
        self._calls: dict[int, list[str]] = {}

    def __iter__(self) -> Recording:
        return self

    def __next__(self) -> Delta:
        delta = next(self._upstream)
        entry = self._entry
        if delta.text:
            entry["pieces"].append(delta.text)
        if delta.thinking or delta.signature:
            if not entry["thinking"]:
                entry["thinking"].append(["", ""])
            entry["thinking"][-1][0] += delta.thinking
            entry["thinking"][-1][1] += delta.signature
        if delta.tool_call is not None:
            call = self._calls.setdefault(delta.tool_call.index, ["", "", ""])
            call[0] = delta.tool_call.id or call[0]
            call[1] = delta.tool_call.name or call[1]
            call[2] += delta.tool_call.arguments
        if delta.finish_reason:
            entry["finish"] = delta.finish_reason
            entry["usage"] = dataclasses.asdict(delta.usage or Usage())
            entry["tool_calls"] = [self._calls[i] for i in sorted(self._calls)]
            self._keep(entry)
        return delta

    def close(self) -> None:
        self._upstream.close()
