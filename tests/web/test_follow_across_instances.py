"""Two Parlor instances (gunicorn, gevent) sharing PostgreSQL and Redis: a reply written by
one is followed live from the other (Redis pub/sub, checked against the saved text)."""

from __future__ import annotations

import re
import time

import pytest

from tests.conftest import PASSWORD, fake_vendor_env
from tests.processes import start_chat, web_session
from tests.web.conftest import MOCK_DELAY_MS, stream_urls
from tests.web.test_durable_replies_gunicorn import DELTA, _open_stream, _read_deltas


@pytest.fixture
def app(make_app, fake_vendor, own_postgres_url, redis_server):
    """The app of two instances sharing PostgreSQL and Redis."""
    fake_vendor.models = [*fake_vendor.models, "slow-stream"]
    return make_app(own_postgres_url, REDIS_URL=redis_server.url,
                    PARLOR_MOCK_DELAY_MS=MOCK_DELAY_MS, **fake_vendor_env(fake_vendor, "openai"))


def test_a_stream_served_by_one_instance_is_followed_live_from_another(
        app, make_user, fake_vendor, parlor_process, tmp_path):
    make_user("member@example.com")
    fake_vendor.chunk_delay = 0.01  # 5 s
    one = parlor_process()
    other = parlor_process(PARLOR_INSTANCE_PATH=tmp_path / "other-host")
    session = web_session(one.url, "member@example.com", PASSWORD)
    location = start_chat(session, one.url, "openai/slow-stream")
    writing = _open_stream(session, one.url, location)
    _read_deltas(writing, 150)  # 1.5 s: past the writer's first save (one a second)

    elsewhere = location.replace(one.url, other.url)
    page = session.get(elsewhere, timeout=10).text
    [url] = stream_urls(page)
    # the saved text the page shows (none yet if the writer has not saved its first second)
    shown = int(found.group(1)) if (found := re.search(r"offset=(\d+)", url)) else 0
    following = session.get(other.url + url, stream=True, timeout=30)
    arrivals, buffer = [], ""
    for chunk in following.iter_content(chunk_size=None, decode_unicode=True):
        buffer += chunk
        arrivals.append((time.monotonic(), len(DELTA.findall(buffer))))
        if "event: done" in buffer:
            break
    writing.close()

    texts = DELTA.findall(buffer)
    assert len(texts) > 20  # piece by piece, as the other instance writes them ...
    assert arrivals[-1][0] - arrivals[0][0] > 1  # ... over seconds, not all at the end
    assert shown > 0  # the page from the other instance shows the text saved so far ...
    assert "".join(texts) == ("tick " * 500)[shown:]  # ... its stream the rest, once each
    assert 'data-status="complete"' in buffer.split("event: done", 1)[1]

