"""Large images and documents go to the vendor base64-encoded as the request body is written
(app/vendors/streamed_body.py): the vendor gets exactly the JSON it got before, with a normal
Content-Length (through aiohttp's strict parser), and the sender holds the source and one
chunk, never the base64 text, data URL or JSON of the whole image."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tracemalloc

import pytest

from app.vendors import streamed_body
from app.vendors.anthropic import AnthropicHandler
from app.vendors.openai import OpenAIHandler
from app.vendors.streamed_body import STREAM_FROM, Base64String, StreamedBody, encode
from app.vendors.types import Blob, ChatMessage, ChatRequest, Credential, Part

BIG = 3 * STREAM_FROM + 1  # not a multiple of 3 or of a chunk: padding at the very end


def handler_for(kind: str, base_url: str, api_key: str):
    handler_class = AnthropicHandler if kind == "anthropic" else OpenAIHandler
    return handler_class(Credential(name="strict", kind=kind, api_key=api_key,
                                    base_url=base_url, timeout=10.0, connect_timeout=2.0))


def blob_part(kind: str, content: bytes, media_type: str = "image/png") -> Part:
    return Part(kind, media_type=media_type, name="big",
                blob=Blob(content, hashlib.sha256(content).hexdigest()))


def request_with(*parts: Part, native_format=None) -> ChatRequest:
    return ChatRequest(model="fake-vision", native_format=native_format, messages=(
        ChatMessage("user", "Describe", parts=(*parts, Part("text", text="Describe"))),))


def sent_calls(fake_vendor, strict_vendor_proxy, kind: str, request: ChatRequest):
    """A plain and a streamed call through aiohttp's strict parser, as the fake received them."""
    suffix = "/v1" if kind == "openai" else ""
    handler = handler_for(kind, strict_vendor_proxy.url + suffix, fake_vendor.api_key)
    try:
        result = handler.complete(request)
        deltas = list(handler.stream(request))
    finally:
        handler.close()
    assert result.finish_reason == "stop" and deltas[-1].finish_reason == "stop"
    calls = [r for r in fake_vendor.requests if r.method == "POST"]
    assert len(calls) == 2
    for call in calls:
        assert call.header_names.count("content-length") == 1
        assert "transfer-encoding" not in call.headers  # a normal body, never chunked
        assert len(call.header_names) == len(set(call.header_names))
    return calls


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_large_stored_image_reaches_the_vendor_whole_with_its_length(
        fake_vendor, strict_vendor_proxy, kind):
    image = os.urandom(BIG)
    calls = sent_calls(fake_vendor, strict_vendor_proxy, kind,
                       request_with(blob_part("image", image)))
    encoded = base64.b64encode(image).decode()
    for call in calls:
        first = call.body["messages"][-1]["content"][0]
        if kind == "openai":
            assert first == {"type": "image_url",
                             "image_url": {"url": f"data:image/png;base64,{encoded}"}}
        else:
            assert first == {"type": "image", "source": {
                "type": "base64", "media_type": "image/png", "data": encoded}}
        assert int(call.headers["content-length"]) > len(encoded)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_large_pdf_goes_in_each_vendors_document_shape(fake_vendor, strict_vendor_proxy, kind):
    pdf = b"%PDF-1.7\n" + os.urandom(BIG)
    calls = sent_calls(fake_vendor, strict_vendor_proxy, kind,
                       request_with(blob_part("document", pdf, "application/pdf")))
    encoded = base64.b64encode(pdf).decode()
    first = calls[0].body["messages"][-1]["content"][0]
    if kind == "openai":
        assert first["file"] == {"file_data": f"data:application/pdf;base64,{encoded}",
                                 "filename": "big"}
    else:
        assert first["source"]["data"] == encoded and first["title"] == "big"


def test_a_clients_large_base64_image_is_streamed_from_its_own_text(
        fake_vendor, strict_vendor_proxy):
    encoded = base64.b64encode(os.urandom(BIG)).decode()
    value = streamed_body.base64_value(Part("image", media_type="image/png", data=encoded))
    assert isinstance(value, Base64String) and value.source is encoded  # not decoded, no copy
    calls = sent_calls(fake_vendor, strict_vendor_proxy, "openai", request_with(
        Part("image", media_type="image/png", data=encoded)))
    assert calls[0].body["messages"][-1]["content"][0]["image_url"]["url"] == \
        f"data:image/png;base64,{encoded}"


def test_an_anthropic_clients_own_large_block_is_forwarded_as_sent(
        fake_vendor, strict_vendor_proxy):
    encoded = base64.b64encode(os.urandom(BIG)).decode()
    block = {"type": "image", "source": {"type": "base64", "media_type": "image/webp",
                                         "data": encoded}, "cache_control": {"type": "ephemeral"}}
    part = Part("image", media_type="image/webp", data=encoded, native=block,
                cache_control={"type": "ephemeral"})
    calls = sent_calls(fake_vendor, strict_vendor_proxy, "anthropic",
                       request_with(part, native_format="anthropic"))
    assert calls[0].body["messages"][-1]["content"][0] == block


def test_base64_text_that_needs_escaping_goes_as_one_plain_string_still_valid():
    text = "A" * STREAM_FROM + '"\n\\'  # not base64: streamed as is, it would break the JSON
    assert streamed_body.base64_text(text) == text
    body = encode({"data": streamed_body.base64_text(text)})
    assert isinstance(body, bytes) and json.loads(body) == {"data": text}


def test_a_small_body_is_the_compact_json_it_always_was():
    body = {"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": streamed_body.base64_value(
            blob_part("image", b"tiny png"), "data:image/png;base64,")}}]}]}
    assert encode(body) == json.dumps(body, separators=(",", ":")).encode()


def test_the_length_is_what_is_sent_and_client_text_cannot_split_the_body():
    image = os.urandom(BIG)
    body = {"text": '"parlor-streamed-" parlor-streamed-00', "a": Base64String(image, 'x"y:'),
            "b": [Base64String(base64.b64encode(image).decode())], "c": "end"}
    streamed = encode(body)
    assert isinstance(streamed, StreamedBody)
    sent = b"".join(streamed)
    assert len(sent) == streamed.length
    encoded = base64.b64encode(image).decode()
    assert json.loads(sent) == {"text": body["text"], "a": 'x"y:' + encoded, "b": [encoded],
                                "c": "end"}


def test_something_not_json_is_still_refused():
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode({"when": object()})


def test_writing_a_10_mb_image_body_holds_one_chunk_beyond_the_stored_bytes():
    image = os.urandom(10 * 1024 * 1024)
    part = blob_part("image", image)
    handler = OpenAIHandler(Credential(name="o", kind="openai", api_key="k",
                                       base_url="http://127.0.0.1:9/v1"))
    try:
        tracemalloc.start()
        body = encode(handler._params(request_with(part)))
        length = sum(len(piece) for piece in body)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        handler.close()
    assert length == body.length == 4 * ((len(image) + 2) // 3) + len(
        json.dumps(handler._params(request_with(Part("image", media_type="image/png",
                                                     data=""))), separators=(",", ":")))
    assert peak < 1024 * 1024, f"{peak / 1024 / 1024:.1f} MB held beyond the stored image"


def test_a_blob_names_its_content_never_its_bytes():
    part = blob_part("image", b"secret pixels")
    assert "secret" not in repr(part) and "secret" not in str(part.blob)
    assert part.raw() == b"secret pixels" and part.base64() == "c2VjcmV0IHBpeGVscw=="
    assert part.has_source() and part.source_size() == 13
