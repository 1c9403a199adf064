"""The OpenAPI document covers every JSON route; the docs page renders it under the strict CSP;
and the REST API works over real HTTP, streaming and stopping included."""

from __future__ import annotations

import json
import re
import urllib.request

from app.api import openapi
from app.api.schemas.rest import MessageCreate
from tests.api_rest.conftest import bearer

CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def documented_operations(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items()
            for method in item}


def test_every_v1_and_api_v1_route_is_in_the_document(app):
    document = app.test_client().get("/api/openapi.json").get_json()
    routes = {(method, CONVERTER.sub(r"{\1}", rule.rule))
              for rule in app.url_map.iter_rules()
              if rule.rule.startswith(("/v1/", "/api/v1/"))
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes, "no JSON routes found"
    assert routes - documented_operations(document) == set()
    assert documented_operations(document) - routes == set()


def test_document_is_openapi_3_1_with_both_key_schemes_and_real_shapes():
    document = openapi.document()
    assert document["openapi"] == "3.1.0"
    assert {"bearer", "x-api-key"} <= set(document["components"]["securitySchemes"])
    send = document["paths"]["/api/v1/conversations/{conversation_id}/messages"]["post"]
    assert "text/event-stream" in send["responses"]["200"]["content"]
    chat = document["paths"]["/v1/chat/completions"]["post"]
    assert "text/event-stream" in chat["responses"]["200"]["content"]
    assert chat["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/OpenAIError")
    messages = document["paths"]["/v1/messages"]["post"]
    assert messages["responses"]["400"]["content"]["application/json"]["schema"][
        "$ref"].endswith("/AnthropicError")
    schema_name = send["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    generated = document["components"]["schemas"][schema_name.rsplit("/", 1)[1]]
    assert generated["properties"] == MessageCreate.model_json_schema()["properties"]


def test_docs_page_renders_the_document_without_csp_violations(page, live_server, screenshot):
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    external = []
    page.on("request", lambda request: external.append(request.url)
            if not request.url.startswith(live_server) else None)
    response = page.goto(live_server + "/api/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_text("/api/v1/conversations/{conversation_id}/messages").first.wait_for()
    assert page.get_by_text("Parlor API").first.is_visible()
    assert violations == [] and external == []
    screenshot("api-docs")


def read_events(response):
    """Yield (event, data) pairs from a streamed HTTP response as they arrive."""
    name, data = None, []
    for raw in response:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif not line and name:
            yield name, "\n".join(data)
            name, data = None, []


def call(url: str, key: str, method="GET", body=None):
    request = urllib.request.Request(url, method=method, headers={
        **bearer(key), "Content-Type": "application/json"},
        data=json.dumps(body).encode() if body is not None else None)
    return urllib.request.urlopen(request, timeout=30)  # noqa: S310 - the test's own server


def test_stream_over_http_can_be_stopped_and_keeps_the_partial_reply(live_server, make_key,
                                                                     fake_vendor):
    fake_vendor.chunk_delay = 0.05
    key = make_key()
    with call(live_server + "/api/v1/conversations", key, "POST",
              {"model": "openai/slow-stream"}) as created:
        conversation = json.load(created)["data"]
    base = f"{live_server}/api/v1/conversations/{conversation['id']}/messages"
    with call(base, key, "POST", {"content": "go", "stream": True}) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        events = read_events(stream)
        name, data = next(events)
        reply_id = json.loads(data)["reply"]["id"]
        assert name == "start"
        assert next(events)[0] == "delta"
        with call(f"{base}/{reply_id}/stop", key, "POST") as stopped:
            assert json.load(stopped)["data"]["stopped"] is True
        rest = list(events)
    assert rest[-1][0] == "done"
    final = json.loads(rest[-1][1])
    assert final["status"] == "stopped" and final["content"]
    with call(f"{live_server}/api/v1/conversations/{conversation['id']}", key) as detail:
        assert json.load(detail)["data"]["messages"][-1]["status"] == "stopped"
