from tests.fakes.fixtures import fake_vendor, fake_vendor_server, strict_vendor_proxy  # noqa: F401


def chat_calls_and_sdk_headers(handler, vendor, request) -> tuple[list, dict]:
    """A plain and a streamed call through ``handler`` as the fake vendor received them, and the
    headers the handler's SDK client sends on a call of its own (its model listing)."""
    handler.complete(request)
    list(handler.stream(request))
    calls = vendor.requests
    sdk_headers = handler.client.models.with_raw_response.list().http_request.headers
    assert len(calls) == 2
    return calls, sdk_headers
