"""The start gate (app/admission.py): a worker starts at most PARLOR_START_CONCURRENCY requests
at once; a turn ends when the request calls its vendor, and a stuck gate never stalls a worker."""

from __future__ import annotations

import io
import threading

import httpx2
import openai
from flask import Flask
from werkzeug.serving import make_server

from app import admission
from app.admission import GATE_TURN, StartGate
from tests.conftest import bearer


def _waiting_enter(gate: StartGate, environ: dict | None = None) -> tuple[threading.Thread, list]:
    entered: list = []
    thread = threading.Thread(target=lambda: entered.append(gate.enter(environ or {})),
                              daemon=True)
    thread.start()
    return thread, entered


def test_no_more_than_its_size_start_at_once_and_a_turn_ended_lets_the_next_in(monkeypatch):
    monkeypatch.setattr(StartGate, "STUCK_SECONDS", 30.0)
    gate = StartGate(2)
    first, second = gate.enter({}), gate.enter({})
    thread, entered = _waiting_enter(gate)
    thread.join(0.3)
    assert thread.is_alive() and not entered  # a third waits its turn
    first()
    first()  # ending a turn twice frees one place, not two
    thread.join(5)
    assert entered and not thread.is_alive()
    later, entered_later = _waiting_enter(gate)
    later.join(0.3)
    assert later.is_alive()  # the gate is full again: the second and the third hold it
    second()
    later.join(5)
    assert entered_later


def test_a_gate_nobody_gets_through_lets_its_waiters_pass(monkeypatch):
    monkeypatch.setattr(StartGate, "STUCK_SECONDS", 0.05)
    gate = StartGate(1)
    gate.enter({})  # a turn that never ends (a slow identity provider, say)
    thread, entered = _waiting_enter(gate)
    thread.join(5)
    assert entered and not thread.is_alive()


def _returns(enter) -> bool:
    """Whether ``enter()`` returns without waiting (on a thread: a wait would hang)."""
    thread = threading.Thread(target=enter, daemon=True)
    thread.start()
    thread.join(5)
    return not thread.is_alive()


def test_a_small_body_is_read_before_the_request_queues_and_a_large_one_is_not_gated(
        monkeypatch):
    monkeypatch.setattr(StartGate, "STUCK_SECONDS", 60.0)  # a full gate makes waiters wait
    gate = StartGate(1)
    small = {"CONTENT_LENGTH": "5", "wsgi.input": io.BufferedReader(io.BytesIO(b"hello"))}
    gate.enter(small)  # the one turn, kept
    assert small["wsgi.input"].read() == b"hello"  # the app reads it as usual
    large = {"CONTENT_LENGTH": str(StartGate.READ_FIRST + 1), "wsgi.input": io.BytesIO(b"x")}
    chunked = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"x")}
    assert _returns(lambda: gate.enter(large)) and _returns(lambda: gate.enter(chunked))
    assert large["wsgi.input"].read() == b"x"  # left for the app to read as it goes
    assert not _returns(lambda: gate.enter({}))  # while a gated request does wait


def test_no_gate_at_zero(monkeypatch):
    monkeypatch.setattr(StartGate, "STUCK_SECONDS", 60.0)
    gate = StartGate(0)
    assert _returns(lambda: [gate.enter({}) for _ in range(100)])  # none ends its turn


def test_the_turn_ends_when_the_request_calls_its_vendor():
    ended: list = []
    app = Flask(__name__)
    with app.test_request_context(environ_base={GATE_TURN: lambda: ended.append(True)}):
        admission.vendor_called()
    assert ended == [True]
    with app.app_context():
        admission.vendor_called()  # off a request (a reply's writer): nothing to end


def test_a_request_waiting_on_its_vendor_holds_no_turn(make_app, vendor_env, fake_vendor,
                                                      make_key, monkeypatch):
    monkeypatch.setattr(StartGate, "STUCK_SECONDS", 60.0)  # never let waiters pass on their own
    app = make_app(PARLOR_START_CONCURRENCY="1", **vendor_env)
    key = make_key()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                     daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    finished: list[str] = []

    def slow():
        with openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0) as client:
            client.chat.completions.create(model="openai/slow-first-byte-3",
                                           messages=[{"role": "user", "content": "hi"}])
        finished.append("slow completion")

    try:
        thread = threading.Thread(target=slow, daemon=True)
        thread.start()
        for _ in range(500):  # until Parlor has called its vendor, which then waits 3 s
            if fake_vendor.requests_for("slow-first-byte-3"):
                break
            threading.Event().wait(0.01)
        assert fake_vendor.requests_for("slow-first-byte-3")
        models = httpx2.get(base + "/v1/models", headers=bearer(key), timeout=30)
        finished.append("models")
        thread.join(30)
    finally:
        server.shutdown()
    assert models.status_code == 200
    # The only turn was the slow request's until it called its vendor: had it kept it while
    # the vendor waited, /v1/models would have waited for the completion to end.
    assert finished == ["models", "slow completion"]


# -- starts first: a stream under way holds its next pieces while requests wait to start --


def test_waiting_for_starts_returns_at_once_when_none_wait_and_when_the_last_one_enters(
        monkeypatch):
    monkeypatch.setattr(StartGate, "STUCK_SECONDS", 60.0)
    gate = StartGate(1, defer_seconds=5)
    assert gate.wait_for_starts(5) == 0.0  # nobody waits (no gate made yet)
    first = gate.enter({})
    assert gate.wait_for_starts(5) < 0.5  # the gate is full, but nobody waits for it
    thread, entered = _waiting_enter(gate)
    threading.Timer(0.3, first).start()  # its turn comes in 0.3 s
    waited = gate.wait_for_starts(5)
    thread.join(5)
    assert entered and 0.2 <= waited < 3
    stuck, _ = _waiting_enter(gate)  # waits behind a turn that does not end
    stuck.join(0.1)
    assert 0.15 <= gate.wait_for_starts(0.2) < 1  # "most" bounds the wait


def _held_gate(app, monkeypatch) -> tuple[StartGate, list]:
    """The app's gate, its one turn taken and a request waiting for it (for as long as the
    test runs); the functions that end those turns."""
    monkeypatch.setattr(StartGate, "STUCK_SECONDS", 60.0)
    gate = app.extensions[admission.EXTENSION].gate
    held = [gate.enter({})]
    thread, entered = _waiting_enter(gate)
    thread.join(0.2)
    assert thread.is_alive()
    return gate, held + [lambda: entered and entered[0]()]


def _arrivals(app, deltas) -> list[tuple[object, float]]:
    """Each item of a paced stream of ``deltas`` with the seconds since the stream began."""
    import time

    from app.services import keepalive

    with app.app_context():
        paced, began, out = keepalive.Paced((d for d in deltas), 30), time.monotonic(), []
        try:
            for item in paced:
                out.append((item, time.monotonic() - began))
        finally:
            paced.close()
    return out


def test_after_its_first_token_a_stream_lets_waiting_starts_go_first_for_a_bounded_time(
        make_app, monkeypatch):
    from app.vendors import Delta

    app = make_app(PARLOR_START_CONCURRENCY="1", PARLOR_STARTS_FIRST_SECONDS="0.6")
    _gate, turns = _held_gate(app, monkeypatch)
    try:
        got = _arrivals(app, [Delta(), Delta(text="a"), Delta(text="b"), Delta(text="c")])
    finally:
        for end in turns:
            end()
    times = {delta.text: at for delta, at in got}
    assert times[""] < 0.3 and times["a"] < 0.3  # nothing held before the first token
    assert 0.5 <= times["b"] < 2  # then held while a request waits, at most 0.6 s in all
    assert times["c"] - times["b"] < 0.3  # the stream's allowance is spent: it flows


def test_a_stream_flows_when_no_request_waits_or_when_starts_first_is_off(make_app, monkeypatch):
    from app.vendors import Delta

    deltas = [Delta(text=t) for t in "abcd"]
    assert _arrivals(make_app(), deltas)[-1][1] < 0.3  # a gate nobody waits for
    app = make_app(PARLOR_START_CONCURRENCY="1", PARLOR_STARTS_FIRST_SECONDS="0")
    _gate, turns = _held_gate(app, monkeypatch)
    try:
        assert _arrivals(app, deltas)[-1][1] < 0.3
    finally:
        for end in turns:
            end()
