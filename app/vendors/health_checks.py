"""Active health checks: each deployment (route) that opts in (``Route.health_check``) is probed
at an interval with a one-token completion through its own adapter, and the result feeds the
same cooldown state as live calls (app/vendors/balancing.py).

A failed check counts as a transient failure of the deployment (``failures`` of them in the
window cool it down); a check of a half-open deployment takes the probe slot, so no client call
has to find out whether it healed: its success trusts the deployment again, its failure cools
it down again. A cooling deployment is left alone until its cooldown ends. Each check's time
and result are kept in the state for the admin screens; the observer hears each one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from app.vendors.errors import VendorError
from app.vendors.manager import VendorManager, error_kind
from app.vendors.observer import VendorObserver
from app.vendors.registry import HandlerPool
from app.vendors.types import ChatMessage, ChatRequest, Credential

log = logging.getLogger(__name__)

PROMPT = (ChatMessage("user", "ping"),)
MAX_CHECK_SECONDS = 10.0  # a check waits at most this long (or the interval, if shorter)
JOB = "deployment-health-checks"


class HealthChecker:
    """Checks the opted-in deployments of a manager's catalog, once per :meth:`run_once`."""

    def __init__(self, interval: float, observer: VendorObserver | None = None):
        self.interval = interval
        self.observer = observer or VendorObserver()
        self.pool = HandlerPool()  # its own clients: a check waits less than a call may
        self.timeout = max(min(MAX_CHECK_SECONDS, interval), 1.0)

    def run_once(self, manager: VendorManager) -> dict[str, str]:
        """Check the deployments that are due; each checked label's result."""
        state = manager.balancer.state
        if not state.claim(JOB, self.interval * 0.9):
            return {}  # another instance sharing the state checks this round
        routes = {route.label: route for route in manager.catalog.routes if route.health_check}
        if not routes:
            return {}
        statuses, now = state.statuses(routes), state.clock()
        results = {}
        self.pool.retain(self._credential(r.credential) for r in routes.values())
        for label, route in routes.items():
            phase = statuses[label].state(now)
            if phase == "cooling":
                continue  # out of rotation: its cooldown runs out first
            probe = phase == "half-open"
            if probe and (statuses[label].probing or not state.take_probe(label)):
                continue  # a client call is the probe now
            vendor = route.credential.name
            try:
                self.pool.get(self._credential(route.credential)).complete(ChatRequest(
                    model=route.upstream_model, messages=PROMPT, max_tokens=1))
            except VendorError as exc:
                results[label] = result = error_kind(exc)
                if exc.retryable and state.failed(label, result, probe=probe):
                    log.warning("route %s cooled down by its health check (%s)", label, result)
                    self.observer.cooldown(vendor)
            else:
                results[label] = result = "ok"
                if probe:
                    state.recovered(label)
            state.checked(label, result)
            self.observer.health_check(vendor, result)
        return results

    def _credential(self, credential: Credential) -> Credential:
        return replace(credential, timeout=min(credential.timeout, self.timeout),
                       connect_timeout=min(credential.connect_timeout, self.timeout))

    def close(self) -> None:
        self.pool.close()


class HealthCheckLoop:
    """Runs :meth:`HealthChecker.run_once` every ``interval`` seconds on a daemon thread (a
    greenlet under gevent's patching), on the manager ``current()`` gives each time."""

    def __init__(self, checker: HealthChecker, current: Callable[[], VendorManager]):
        self.checker = checker
        self.current = current
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> HealthCheckLoop:
        self._thread = threading.Thread(target=self._run, name="parlor-health-checks",
                                        daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopped.wait(self.checker.interval):
            started = time.monotonic()
            try:
                self.checker.run_once(self.current())
            except Exception:  # noqa: BLE001 - the loop must outlive one bad round
                log.exception("deployment health checks failed")
            log.debug("health checks took %.3f s", time.monotonic() - started)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.checker.close()
