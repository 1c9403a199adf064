"""Issue 20 item 6: OpenTelemetry traces. Parlor as ``make serve`` runs it (gunicorn, gevent
worker) exports over OTLP/HTTP to a receiver decoding the protocol's protobuf
(tests/otel_receiver.py): a SERVER span per request, a CLIENT span per vendor call after the
GenAI semantic conventions under it, the trace context sent on to the vendor, and no prompt
on any span unless content capture is on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anthropic
import openai
import pytest

import config
from app.extensions import db
from app.models import ModelRoute, VendorCredential
from app.services.encryption import secret_box
from tests.conftest import PASSWORD, fake_vendor_env
from tests.fakes.bedrock import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from tests.otel_receiver import OTLPReceiver
from tests.processes import start_chat, web_session
from tests.web.conftest import stored_messages, stream_urls

ROOT = Path(__file__).resolve().parent.parent.parent
SERVER, CLIENT = 2, 3  # the protocol's SpanKind values
PROMPT = "the lighthouse keeper counts nine gulls"
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def app(make_app, fake_vendor):
    return make_app(**fake_vendor_env(fake_vendor, "openai", "anthropic"))


@pytest.fixture
def otlp_receiver():
    receiver = OTLPReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def traced_parlor(parlor_process, otlp_receiver):
    """Start gunicorn exporting its spans to the receiver (batches sent every 50 ms)."""

    def start(**env):
        return parlor_process(OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.url,
                              OTEL_BSP_SCHEDULE_DELAY=50, **env)

    return start


def client_spans(receiver: OTLPReceiver, name: str, count: int = 1):
    return receiver.wait_for(lambda s: s.kind == CLIENT and s.name == name, count)


def server_span_of(receiver: OTLPReceiver, client_span):
    [server] = receiver.wait_for(lambda s: s.span_id == client_span.parent_span_id)
    return server


def ids_sent(request) -> tuple[str, str]:
    """The trace and parent span ids of the W3C traceparent the vendor got."""
    version, trace_id, span_id, _flags = request.headers["traceparent"].split("-")
    assert version == "00"
    return trace_id, span_id


def every_attribute_value(receiver: OTLPReceiver) -> str:
    return json.dumps([[s.name, s.attributes, s.resource] for s in receiver.spans])


def test_gateway_calls_are_server_and_genai_client_spans_with_the_context_sent_to_the_vendor(
        app, make_key, fake_vendor, traced_parlor, otlp_receiver):
    server = traced_parlor()
    key = make_key()
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0)

    plain = client.chat.completions.create(
        model="openai/fake-chat", max_tokens=50, temperature=0.5,
        messages=[{"role": "user", "content": PROMPT}],
        extra_headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"})
    streamed = client.chat.completions.create(
        model="openai/fake-stream", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": PROMPT}])
    chunks = list(streamed)
    usage = next(c.usage for c in chunks if c.usage)
    message = anthropic.Anthropic(base_url=server.url, api_key=key, max_retries=0).messages.create(
        model="anthropic/fake-claude", max_tokens=64,
        messages=[{"role": "user", "content": PROMPT}])
    embedded = client.embeddings.create(model="openai/fake-embed", input=PROMPT)

    [chat] = client_spans(otlp_receiver, "chat fake-chat")
    assert chat.attributes == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai", "gen_ai.request.model": "fake-chat",
        "gen_ai.request.max_tokens": 50, "gen_ai.request.temperature": 0.5,
        "parlor.vendor.name": "openai", "server.address": "127.0.0.1",
        "server.port": fake_vendor.port, "gen_ai.response.model": "fake-chat",
        "gen_ai.response.id": "chatcmpl-fake", "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": plain.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": plain.usage.completion_tokens,
    }
    request_span = server_span_of(otlp_receiver, chat)
    assert request_span.kind == SERVER
    assert request_span.name == "POST /v1/chat/completions"
    assert request_span.attributes["http.route"] == "/v1/chat/completions"
    assert request_span.attributes["http.request.method"] == "POST"
    assert request_span.attributes["http.response.status_code"] == 200
    assert request_span.resource["service.name"] == "parlor"
    # the caller's traceparent is the request's parent; the vendor gets the client span's
    assert (request_span.trace_id, request_span.parent_span_id) == (CALLER_TRACE, CALLER_SPAN)
    assert chat.trace_id == CALLER_TRACE
    [sent] = fake_vendor.requests_for("fake-chat")
    assert ids_sent(sent) == (CALLER_TRACE, chat.span_id)
    assert sent.header_names.count("traceparent") == 1

    # a stream's span ends with the stream, its tokens and finish reason from the last event
    [stream] = client_spans(otlp_receiver, "chat fake-stream")
    assert stream.attributes["gen_ai.usage.input_tokens"] == usage.prompt_tokens
    assert stream.attributes["gen_ai.usage.output_tokens"] == usage.completion_tokens
    assert stream.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    stream_request = server_span_of(otlp_receiver, stream)
    assert stream_request.trace_id == stream.trace_id != CALLER_TRACE
    assert stream_request.parent_span_id == ""  # a new trace: the caller sent none
    [sent] = fake_vendor.requests_for("fake-stream")
    assert ids_sent(sent) == (stream.trace_id, stream.span_id)

    [claude] = client_spans(otlp_receiver, "chat fake-claude")
    assert claude.attributes["gen_ai.provider.name"] == "anthropic"
    assert claude.attributes["gen_ai.usage.output_tokens"] == message.usage.output_tokens
    assert claude.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert server_span_of(otlp_receiver, claude).name == "POST /v1/messages"

    [embeddings] = client_spans(otlp_receiver, "embeddings fake-embed")
    assert embeddings.attributes["gen_ai.operation.name"] == "embeddings"
    assert embeddings.attributes["gen_ai.usage.input_tokens"] == embedded.usage.prompt_tokens
    assert server_span_of(otlp_receiver, embeddings).name == "POST /v1/embeddings"

    assert PROMPT not in every_attribute_value(otlp_receiver)
    assert "gen_ai.input.messages" not in every_attribute_value(otlp_receiver)
    assert otlp_receiver.content_types[0] == "application/x-protobuf"


def test_gemini_and_bedrock_calls_are_spans_of_their_providers_and_get_the_trace_context(
        app, make_key, fake_vendor, traced_parlor, otlp_receiver):
    server = traced_parlor(GEMINI_API_KEY=fake_vendor.api_key, GEMINI_BASE_URL=fake_vendor.url,
                           BEDROCK_REGION="us-west-2", BEDROCK_BASE_URL=fake_vendor.url,
                           AWS_ACCESS_KEY_ID=ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=make_key(), max_retries=0)

    for model, provider, path in (("gemini/gem-chat", "gcp.gemini", "/v1/models/gem-chat:"),
                                  ("bedrock/bed-chat", "aws.bedrock", "/model/bed-chat/")):
        fake_vendor.reset()
        list(client.chat.completions.create(model=model, stream=True,
                                            messages=[{"role": "user", "content": PROMPT}]))
        upstream = model.split("/")[1]
        [span] = client_spans(otlp_receiver, f"chat {upstream}")
        assert span.attributes["gen_ai.provider.name"] == provider
        assert span.attributes["gen_ai.response.finish_reasons"] == ["stop"]
        assert span.attributes["gen_ai.usage.output_tokens"] > 0
        [sent] = [r for r in fake_vendor.requests if r.path.startswith(path)]
        assert ids_sent(sent) == (span.trace_id, span.span_id)
    assert PROMPT not in every_attribute_value(otlp_receiver)


def test_native_responses_api_calls_are_spans_with_the_response_objects_usage(
        app, make_key, fake_vendor, traced_parlor, otlp_receiver):
    with app.app_context():  # a vendor of kind openai: /v1/responses goes to it as sent
        credential = VendorCredential(name="official", kind="openai",
                                      base_url=fake_vendor.openai_base_url,
                                      encrypted_secret=secret_box().encrypt(fake_vendor.api_key))
        db.session.add(ModelRoute(public_name="gpt-native", credential=credential,
                                  upstream_model="fake-native"))
        db.session.commit()
    server = traced_parlor()
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=make_key(), max_retries=0)

    plain = client.responses.create(model="gpt-native", input=PROMPT)
    events = list(client.responses.create(model="gpt-native", input=PROMPT, stream=True))

    whole, streamed = client_spans(otlp_receiver, "chat fake-native", count=2)
    # the vendor's id (the caller gets Parlor's own, which names the stored response)
    assert whole.attributes["gen_ai.response.id"].startswith("resp_fake")
    assert whole.attributes["gen_ai.usage.input_tokens"] == plain.usage.input_tokens
    assert whole.attributes["gen_ai.usage.output_tokens"] == plain.usage.output_tokens
    assert whole.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    final = events[-1].response
    assert streamed.attributes["gen_ai.usage.output_tokens"] == final.usage.output_tokens
    assert streamed.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert server_span_of(otlp_receiver, streamed).name == "POST /v1/responses"
    assert [ids_sent(r) for r in fake_vendor.requests if r.path.endswith("/responses")] == [
        (whole.trace_id, whole.span_id), (streamed.trace_id, streamed.span_id)]
    assert PROMPT not in every_attribute_value(otlp_receiver)


def test_each_attempt_is_a_span_and_a_failed_one_carries_its_error_type(
        app, make_key, traced_parlor, otlp_receiver):
    server = traced_parlor(PARLOR_VENDOR_RETRIES=1)
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=make_key(), max_retries=0)

    client.chat.completions.create(model="openai/flaky-1-then-fine",
                                   messages=[{"role": "user", "content": PROMPT}])
    failed, answered = client_spans(otlp_receiver, "chat flaky-1-then-fine", count=2)
    assert failed.attributes["error.type"] == "VendorUnavailable" and failed.status_code == 2
    assert "error.type" not in answered.attributes and answered.status_code != 2
    assert answered.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert failed.parent_span_id == answered.parent_span_id  # both under the one request

    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="openai/error-429",
                                       messages=[{"role": "user", "content": PROMPT}])

    first, retried = client_spans(otlp_receiver, "chat error-429", count=2)  # Retry-After: 1
    for failed in (first, retried):
        assert failed.attributes["error.type"] == "VendorRateLimited"
        assert failed.status_code == 2
        assert "gen_ai.usage.input_tokens" not in failed.attributes
    request_span = server_span_of(otlp_receiver, retried)
    assert request_span.attributes["http.response.status_code"] == 429
    assert PROMPT not in every_attribute_value(otlp_receiver)


def test_with_content_capture_on_a_chat_send_carries_the_prompt_and_the_reply(
        app, make_user, make_key, fake_vendor, traced_parlor, otlp_receiver):
    make_user("member@example.com")
    server = traced_parlor(OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")
    session = web_session(server.url, "member@example.com", PASSWORD)
    location = start_chat(session, server.url, "openai/fake-chat", PROMPT)
    for url in stream_urls(session.get(location, timeout=10).text):
        session.get(server.url + url.replace("&amp;", "&"), timeout=30)
    reply = stored_messages(app, location.rsplit("/", 1)[1])[-1]
    assert reply.content == f"Echo: {PROMPT}"

    [chat] = client_spans(otlp_receiver, "chat fake-chat")
    assert json.loads(chat.attributes["gen_ai.input.messages"])[-1] == {
        "role": "user", "parts": [{"type": "text", "content": PROMPT}]}
    assert json.loads(chat.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": f"Echo: {PROMPT}"}],
         "finish_reason": "stop"}]
    assert chat.attributes["gen_ai.usage.output_tokens"] > 0
    # the reply's writer runs apart from the request that started it, in the same trace
    request_span = server_span_of(otlp_receiver, chat)
    assert request_span.kind == SERVER and request_span.trace_id == chat.trace_id
    [sent] = fake_vendor.requests_for("fake-chat")
    assert ids_sent(sent) == (chat.trace_id, chat.span_id)


def test_a_stopping_worker_sends_the_spans_it_still_holds(
        app, make_key, parlor_process, otlp_receiver):
    server = parlor_process(OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.url,
                            OTEL_BSP_SCHEDULE_DELAY=600_000)  # no batch goes out by itself
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=make_key(), max_retries=0)
    client.chat.completions.create(model="openai/fake-chat",
                                   messages=[{"role": "user", "content": PROMPT}])
    assert otlp_receiver.wait_for(lambda s: s.kind == CLIENT, timeout=1) == []

    server.stop()

    assert client_spans(otlp_receiver, "chat fake-chat", count=1)


def test_traces_are_off_without_an_endpoint_or_when_the_sdk_is_disabled(monkeypatch):
    assert config.TestingConfig().OTEL_TRACING is False
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert config.TestingConfig().OTEL_TRACING is True
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert config.TestingConfig().OTEL_TRACING is False
    monkeypatch.delenv("OTEL_SDK_DISABLED")
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces")
    assert config.TestingConfig().OTEL_TRACING is True


def test_a_worker_that_does_not_trace_loads_no_opentelemetry_sdk():
    script = (
        "import sys, runpy\n"
        "from gunicorn.util import import_app\n"
        "settings = runpy.run_path('gunicorn.conf.py')\n"
        "app = import_app(settings['wsgi_app'])\n"
        "print('parlor.telemetry' not in app.extensions,\n"
        "      any(m.startswith('opentelemetry.sdk') for m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, check=True, env=env)
    assert result.stdout.split()[-2:] == ["True", "False"]
