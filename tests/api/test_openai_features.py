"""Today's Chat Completions features through /v1, with the real OpenAI SDK: structured outputs,
reasoning, images and files, prompt-cache usage, to an OpenAI-type vendor and across to
Anthropic."""

from __future__ import annotations

import base64
import json

import pydantic

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
PDF = base64.b64encode(b"%PDF-1.4\n%fake\n").decode()


class Answer(pydantic.BaseModel):
    city: str
    days: int


def user_text(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_parse_with_a_pydantic_model_forwards_json_schema_to_an_openai_vendor(
        openai_client, fake_vendor):
    completion = openai_client.chat.completions.parse(
        model="openai/fake-chat", messages=user_text("Lisbon"), response_format=Answer)
    assert completion.choices[0].message.parsed == Answer(city="Lisbon", days=1)
    sent = fake_vendor.last_request.body["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "Answer"
    assert sent["json_schema"]["strict"] is True
    assert sent["json_schema"]["schema"]["properties"]["days"] == {"title": "Days",
                                                                   "type": "integer"}


def test_parse_with_a_pydantic_model_works_on_an_anthropic_model(openai_client, fake_vendor):
    completion = openai_client.chat.completions.parse(
        model="anthropic/fake-chat", messages=user_text("Porto"), response_format=Answer)
    assert completion.choices[0].message.parsed == Answer(city="Porto", days=1)
    assert completion.choices[0].finish_reason == "stop"
    sent = fake_vendor.last_request.body
    assert sent["tool_choice"] == {"type": "tool", "name": "Answer"}
    assert sent["tools"][0]["input_schema"]["properties"]["city"]["type"] == "string"


def test_json_object_streams_as_text_from_an_anthropic_model(openai_client):
    stream = openai_client.chat.completions.create(
        model="anthropic/fake-chat", messages=user_text("Faro"), stream=True,
        response_format={"type": "json_object"})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert isinstance(json.loads(text), dict)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_reasoning_effort_is_forwarded_and_reasoning_text_relayed(openai_client, fake_vendor):
    completion = openai_client.chat.completions.create(
        model="openai/fake-chat", messages=user_text("think"), reasoning_effort="high")
    assert fake_vendor.last_request.body["reasoning_effort"] == "high"
    message = completion.choices[0].message
    assert message.content == "Echo: think"
    assert message.model_extra["reasoning_content"].startswith("The user wants an echo.")


def test_streamed_reasoning_content_comes_before_the_text(openai_client):
    stream = openai_client.chat.completions.create(
        model="openai/fake-reasoning", messages=user_text("hi"), stream=True)
    kinds = []
    for chunk in stream:
        delta = chunk.choices[0].delta if chunk.choices else None
        if delta is not None and (delta.model_extra or {}).get("reasoning_content"):
            kinds.append("reasoning")
        elif delta is not None and delta.content:
            kinds.append("text")
    assert kinds[0] == "reasoning" and kinds[-1] == "text"
    assert "reasoning" not in kinds[kinds.index("text"):]


def test_reasoning_effort_becomes_a_thinking_budget_for_anthropic(openai_client, fake_vendor):
    openai_client.chat.completions.create(
        model="anthropic/fake-chat", messages=user_text("hi"), reasoning_effort="low",
        max_completion_tokens=100)
    sent = fake_vendor.last_request.body
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert sent["max_tokens"] > 2048  # a budget must stay under max_tokens


def test_an_image_reaches_each_vendor_in_its_own_format(openai_client, fake_vendor):
    content = [{"type": "text", "text": "What is this?"},
               {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
               {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]
    openai_client.chat.completions.create(
        model="openai/fake-chat", messages=[{"role": "user", "content": content}])
    sent = fake_vendor.last_request.body["messages"][0]["content"]
    assert sent[1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    assert sent[2] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
    openai_client.chat.completions.create(
        model="anthropic/fake-chat", messages=[{"role": "user", "content": content}])
    blocks = fake_vendor.last_request.body["messages"][0]["content"]
    assert blocks[1] == {"type": "image", "source": {"type": "base64",
                                                     "media_type": "image/png", "data": PNG}}
    assert blocks[2] == {"type": "image", "source": {"type": "url",
                                                     "url": "https://example.com/cat.jpg"}}


def test_a_pdf_file_part_reaches_anthropic_as_a_document_block(openai_client, fake_vendor):
    content = [{"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}",
                                         "filename": "report.pdf"}},
               {"type": "text", "text": "Summarise"}]
    openai_client.chat.completions.create(
        model="openai/fake-chat", messages=[{"role": "user", "content": content}])
    assert fake_vendor.last_request.body["messages"][0]["content"][0] == {
        "type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}",
                                 "filename": "report.pdf"}}
    openai_client.chat.completions.create(
        model="anthropic/fake-chat", messages=[{"role": "user", "content": content}])
    block = fake_vendor.last_request.body["messages"][0]["content"][0]
    assert block["type"] == "document"
    assert block["source"] == {"type": "base64", "media_type": "application/pdf", "data": PDF}


def test_cached_prompt_tokens_are_reported(openai_client):
    ask = dict(model="openai/fake-chat", messages=user_text("one two three"),
               prompt_cache_key="conversation-7")
    first = openai_client.chat.completions.create(**ask)
    second = openai_client.chat.completions.create(**ask)
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    assert second.usage.prompt_tokens_details.cached_tokens == second.usage.prompt_tokens > 0
