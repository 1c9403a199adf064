"""A route the admin marks ``reasoning`` takes the conversation's reasoning effort, whatever
its upstream model is called; the same model unmarked does not get it (over the real app,
the fake vendor over HTTP as a stored OpenAI-compatible vendor)."""

from __future__ import annotations

from tests.fakes.vendor_server import DEFAULT_API_KEY


def _last_chat(fake_vendor) -> dict:
    return [r for r in fake_vendor.requests if r.path.endswith("/chat/completions")][-1].body


def test_only_a_route_marked_reasoning_gets_the_effort(client, api, member, fake_vendor):
    assert api("post", "/vendors", json={"name": "house", "kind": "openai-compatible",
                                         "base_url": fake_vendor.openai_base_url,
                                         "api_key": DEFAULT_API_KEY}).status_code == 201
    for name, capabilities in (("house-thinker", ["reasoning"]), ("house-plain", [])):
        created = api("post", "/models", json={"public_name": name, "vendor": "house",
                                               "upstream_model": "fake-chat",
                                               "capabilities": capabilities})
        assert created.status_code == 201, created.get_json()
        assert created.get_json()["data"]["capabilities"] == capabilities

    for name, sent_effort in (("house-thinker", "medium"), ("house-plain", None)):
        conversation = client.post("/api/v1/conversations", headers=member, json={
            "model": name, "options": {"reasoning_effort": "medium"}}).get_json()["data"]
        assert conversation["options"]["reasoning_effort"] == "medium"  # stored either way
        sent = client.post(f"/api/v1/conversations/{conversation['id']}/messages",
                           headers=member, json={"content": "hi"})
        assert sent.status_code == 201, sent.get_json()
        assert _last_chat(fake_vendor).get("reasoning_effort") == sent_effort, name
