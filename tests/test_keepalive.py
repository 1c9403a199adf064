"""Keep-alive pings for relayed streams: one per silence of the interval, none while deltas flow."""

from __future__ import annotations

import threading
import time

from app.services import keepalive


def slow(items, pause: float):
    for item in items:
        time.sleep(pause)
        yield item


def collected(app, deltas, interval: float) -> list:
    with app.app_context():
        paced = keepalive.Paced(deltas, interval)
        try:
            return list(paced)
        finally:
            paced.close()


def test_a_silent_vendor_gets_a_ping_each_interval_and_the_deltas_keep_their_order(app):
    out = collected(app, slow(["a", "b"], 0.45), interval=0.1)

    assert [x for x in out if x is not keepalive.PING] == ["a", "b"]
    before_a = out[:out.index("a")]
    assert 2 <= len(before_a) <= 5 and all(x is keepalive.PING for x in before_a)


def test_deltas_that_keep_coming_get_no_ping(app):
    assert collected(app, slow(range(20), 0.01), interval=0.5) == list(range(20))


def test_streams_with_different_intervals_each_get_their_own_pings(app):
    results: dict[str, list] = {}

    def run(name: str, interval: float) -> None:
        results[name] = collected(app, slow(["x"], 0.6), interval)

    threads = [threading.Thread(target=run, args=("fast", 0.1)),
               threading.Thread(target=run, args=("slow", 1.0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results["fast"].count(keepalive.PING) >= 3
    assert results["slow"] == ["x"]



def test_an_ended_stream_is_freed_at_once_not_held_by_the_pinger_until_its_next_round(app):
    import gc
    import weakref

    with app.app_context():
        # A long interval: the pinger's next round is seconds away when the stream ends.
        paced = keepalive.Paced(slow(["a"], 0.3), 30.0)
        assert list(paced) == ["a"]
        paced.close()
        reader = weakref.ref(paced._reader)
        del paced
    gc.collect()
    assert reader() is None


def test_a_follower_of_a_silent_reply_pings_its_client_with_no_timer_of_its_own(
        app, monkeypatch):
    from app.services import reply_followers, reply_hub

    monkeypatch.setattr(reply_followers, "PING_SECONDS", 0.1)
    got: list[str] = []
    with app.app_context():
        live = reply_hub.open_reply("silent-reply")
        events = reply_followers.follow("silent-reply", lambda _: "stored", str,
                                        reply_followers.position(), 5, live)
        started = time.monotonic()
        got.append(next(events))  # nothing written: the pinger's ping
        waited = time.monotonic() - started
        live.append("hello")
        got.append(next(events))
        reply_hub.close_reply(live)
        got += list(events)
    assert got[0] == ": ping\n\n" and 0.05 <= waited < 2
    assert got[1] == "id: 5\nevent: delta\ndata: hello\n\n"
    assert got[-1] == "event: done\ndata: stored\n\n" and ": ping\n\n" not in got[2:-1]
