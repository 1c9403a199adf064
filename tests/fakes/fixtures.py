"""Pytest fixtures for the fake vendor server (import them into a conftest.py).

``fake_vendor_server`` runs one server for the whole session on a free loopback port;
``fake_vendor`` hands it to a test with its recorded requests, counters and tunables reset.
"""

from __future__ import annotations

import pytest

from tests.fakes.vendor_server import FakeVendorServer


@pytest.fixture(scope="session")
def fake_vendor_server():
    server = FakeVendorServer(port=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_vendor(fake_vendor_server: FakeVendorServer) -> FakeVendorServer:
    fake_vendor_server.reset()
    return fake_vendor_server


@pytest.fixture(scope="session")
def strict_vendor_proxy(fake_vendor_server: FakeVendorServer):
    """The fake vendor behind aiohttp's strict HTTP/1.1 parser (see tests/fakes/strict_proxy.py)."""
    from tests.fakes.strict_proxy import StrictProxy

    proxy = StrictProxy(fake_vendor_server.url).start()
    try:
        yield proxy
    finally:
        proxy.stop()
