"""Adapters never follow a redirect: an approved base URL cannot bounce calls elsewhere."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.vendors.anthropic import AnthropicHandler
from app.vendors.errors import VendorError
from app.vendors.openai import OpenAIHandler
from app.vendors.types import ChatMessage, ChatRequest, Credential


@pytest.fixture
def redirector(fake_vendor):
    """A server that answers every request with a 307 to the fake vendor."""

    class Redirect(BaseHTTPRequestHandler):
        def _bounce(self):
            self.send_response(307)
            self.send_header("Location", fake_vendor.url + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _bounce

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("handler_class, kind, suffix", [
    (OpenAIHandler, "openai-compatible", "/v1"), (AnthropicHandler, "anthropic", ""),
])
def test_redirect_to_another_host_is_not_followed(redirector, fake_vendor, handler_class, kind,
                                                   suffix):
    handler = handler_class(Credential(name="bounced", kind=kind, api_key=fake_vendor.api_key,
                                       base_url=redirector + suffix))
    request = ChatRequest(model="fake-chat", messages=(ChatMessage(role="user", content="hi"),),
                          max_tokens=10)
    try:
        with pytest.raises(VendorError):
            handler.complete(request)
        with pytest.raises(VendorError):
            list(handler.stream(request))
    finally:
        handler.close()
    assert fake_vendor.requests == []  # the redirect target never saw a call
