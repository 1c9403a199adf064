"""The one streaming relay: how every audience reads a vendor stream — the browser chat's and
the REST API's reply writer (services/chat_stream.py) and the ``/v1`` gateway
(api/streaming.py).

:func:`open_relay` checks the caller's budgets, opens the routed stream through the gateway
(retries and fallbacks before the first piece; metering, and one usage row however the stream
ends: finished, failed, left by its client, stopped) and reads it off the request
(:class:`~app.services.keepalive.Paced`: its own greenlet, and a ``PING`` after each silent
interval, so a client gone or a Stop is noticed between chunks). Closing the relay closes the
upstream, and its usage row is filed as ``ended()`` says (default ``stopped``). What the
audiences add is theirs: the wire encoders of ``/v1`` (which stores nothing per token), the
chat's saved text, lease and followers.
"""

from __future__ import annotations

from collections.abc import Callable

from app.services import gateway, keepalive
from app.vendors import ChatRequest, Route


def open_relay(caller: gateway.Caller, model: str, request: ChatRequest, *,
               interval: float | None = None,
               ended: Callable[[], str] | None = None) -> tuple[Route, keepalive.Paced]:
    """The route and the paced deltas of a streamed completion (``keepalive.PING`` after each
    ``interval`` of silence, default ``keepalive.PING_SECONDS``); errors before the first
    delta (budget, unknown model, vendor) are raised here. Iterate it in an app context."""
    route, deltas = gateway.open_stream(caller, model, request, ended=ended)
    return route, keepalive.Paced(deltas, interval)
