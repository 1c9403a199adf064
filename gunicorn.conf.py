"""gunicorn settings for `make serve` (see the README's deployment section)."""

import shutil
from pathlib import Path

# not `import config`: gunicorn has a setting of that name
from config import serve_connections, serve_workers, share_metrics_dir

# The Makefile passes --bind from HOST and PORT. The app without Flask-Migrate and Alembic
# (~2 MB and their import time a worker): servers never run `flask db`; run.py's app, for the
# CLI, has it.
wsgi_app = "app:create_app(migrations=False)"
# gevent holds many long-lived streams per worker; one worker per core (WEB_CONCURRENCY, as
# gunicorn reads it, overrides): on 2 cores, two workers doubled c=16 throughput and halved the
# first token of a 1,000-stream burst (BENCHMARKS.md).
workers = serve_workers()
worker_class = "gevent"
# A worker admits PARLOR_MAX_CONCURRENT_REQUESTS (1,000) requests at once and answers the
# next ones 503 (app/admission.py); the 100 connections above that leave room for those
# answers, health checks, metrics scrapes and idle keep-alive connections.
worker_connections = serve_connections()
# A gevent worker's heartbeat is beaten by its own loop every second, so ``timeout`` kills
# only a worker whose loop is blocked, never a stream that waits minutes for a reasoning
# model (those limits are PARLOR_VENDOR_*_TIMEOUT; tests/api/test_request_limits.py).
timeout = 60
graceful_timeout = 30
keepalive = 5
# The app writes one JSON access line per request (logger parlor.access), so gunicorn's own
# access log is off. Turned back on (--access-logfile -), it uses this format: %(U)s is the path
# without the query string, where a key sent as ?api_key=... (refused by the API) would be.
accesslog = None
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'


def _metrics_dir(server) -> dict:
    """Where the workers share their metrics, and whether the master made it (then removes
    it). Kept on the arbiter: ``kill -HUP`` reloads this file, and a module-level value would
    be lost (child_exit then failed and took the master down mid-reload)."""
    return server.__dict__.setdefault("parlor_metrics_dir", {})


# A previous run's files in a directory the operator gave would add to this run's counts.
_METRICS_FILES = ("counter_*.db", "gauge_*.db", "histogram_*.db", "summary_*.db")


def on_starting(server):
    """Before the workers fork: the metrics directory they share, and JSON error lines."""
    path, made_here = share_metrics_dir()
    if not made_here:
        for pattern in _METRICS_FILES:
            for stale in Path(path).glob(pattern):
                stale.unlink()
    _metrics_dir(server).update(path=path, made_here=made_here)
    _json_error_log(server)


def on_reload(server):
    _json_error_log(server)  # a reload rebuilds gunicorn's log handlers


def child_exit(server, worker):
    """A worker's live gauges (streams it was sending) stop counting once it is gone."""
    from prometheus_client import multiprocess  # imported here: after on_starting set the dir

    multiprocess.mark_process_dead(worker.pid, _metrics_dir(server)["path"])


def on_exit(server):
    shared = _metrics_dir(server)
    if shared.get("made_here"):
        shutil.rmtree(shared["path"], ignore_errors=True)


def _json_error_log(server):
    """gunicorn's own lines (workers booting, timeouts) as JSON, like the app's."""
    from pythonjsonlogger.json import JsonFormatter

    formatter = JsonFormatter("%(levelname)s %(name)s %(message)s", timestamp=True,
                              rename_fields={"levelname": "level", "name": "logger"})
    for handler in server.log.error_log.handlers:
        handler.setFormatter(formatter)


def post_worker_init(worker):
    """The app is loaded: its objects (modules, routes, SDK models) never become garbage, so
    the collector stops walking them, and collects less often (a worker holding a thousand
    streams allocates fast; each full pass over its live objects stalls every stream)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    # A graceful stop (SIGTERM) waits graceful_timeout for streams, then the master kills the
    # worker: just before that, the replies it still writes are declared interrupted.
    from app.services import reply_leases

    reply_leases.watch_shutdown(lambda: worker.alive, worker.cfg.graceful_timeout)


def worker_int(worker):
    """A quick stop (SIGINT, SIGQUIT): the replies this worker writes end interrupted."""
    from app.services import reply_leases

    reply_leases.interrupt_here()


def worker_exit(server, worker):
    """The worker leaves (its streams ended, or the grace period is over): any reply it still
    writes is declared interrupted, with its text (a SIGKILL leaves that to the lease); the
    spans it still holds are sent, when it traces."""
    from app import telemetry
    from app.services import reply_leases

    reply_leases.interrupt_here()
    telemetry.shutdown()


GC_THRESHOLDS = (50_000, 20, 100)
