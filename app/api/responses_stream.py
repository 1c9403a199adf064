"""Normalised deltas as the Responses API's stream of events.

``response.created`` and ``response.in_progress`` first; then per output item (reasoning, a
message, a function or custom tool call) ``response.output_item.added``, its content events
(``reasoning_summary_part.added``, ``reasoning_summary_text.delta``... ``.done``,
``reasoning_summary_part.done``; ``content_part.added``, ``output_text.delta``...
``output_text.done``, ``content_part.done``; ``function_call_arguments.delta``... ``.done``;
``custom_tool_call_input.delta``, ``.done``: a custom tool's input is whole only once its
arguments are, so it goes in one delta) and ``response.output_item.done``; last
``response.completed`` (or ``response.incomplete``) with the usage. Every event carries a
``sequence_number`` and goes out as ``event: <type>\\ndata: <json>\\n\\n``. It has the encoder
interface :func:`app.api.streaming.relay` drives (``start`` / ``feed`` / ``error``), so a
failure after the start becomes ``response.failed``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from app.api.responses_objects import (
    ResponseDraft,
    custom_input,
    output_text,
    status_for,
    summary_text,
)
from app.vendors import Part

# OpenAI error types (errors.KINDS) -> the codes a failed response's error carries.
FAILURE_CODES = {"requests": "rate_limit_exceeded", "insufficient_quota": "rate_limit_exceeded",
                 "invalid_request_error": "invalid_prompt"}


def _json(payload) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


class ResponsesStream:
    """The events of one streamed response; ``on_done`` gets the final response object
    before its last event goes out (so a stored response can be read as soon as it is seen)."""

    def __init__(self, draft: ResponseDraft, on_done: Callable[[dict], None] | None = None):
        self.draft = draft
        self.on_done = on_done
        self.sequence = 0
        self.output: list[dict] = []  # the items so far, as they stand
        self.open: dict | None = None  # the item being streamed
        self.calls: dict[int, dict] = {}  # tool-call index -> its item
        self.text: list[str] = []  # the open message's text so far
        self.arguments: dict[str, str] = {}  # a call item's id -> its arguments so far
        self.reasoning: list[str] | None = None  # the open reasoning's summary text so far
        self.signed = False  # the open reasoning's block is whole (its signature came)
        self._text_head = ""  # the open message's delta event up to the delta itself

    def _event(self, type_: str, **fields) -> str:
        payload = {"type": type_, **fields, "sequence_number": self.sequence}
        self.sequence += 1
        return f"event: {type_}\ndata: {_json(payload)}\n\n"

    def start(self) -> str:
        response = self.draft.response("in_progress", [])
        return (self._event("response.created", response=response)
                + self._event("response.in_progress", response=response))

    def feed(self, delta) -> list[str]:
        """The events for one normalised delta (none, one or several)."""
        events = []
        if delta.thinking or delta.signature:
            events += self._feed_reasoning(delta.thinking, delta.signature)
        if delta.redacted_thinking:  # arrives whole: an item added and done at once
            events += self._close("completed")
            events.append(self._add(self.draft.reasoning_item(
                Part(type="redacted_thinking", data=delta.redacted_thinking))))
            events += self._close("completed")
        if delta.text:
            if self.open is None or self.open["type"] != "message":
                events += self._open_message()
            self.text.append(delta.text)
            # Most of a stream: written around the delta's JSON, the rest rendered once.
            events.append(f'{self._text_head}{_json(delta.text)},"sequence_number":'
                          f'{self.sequence}}}\n\n')
            self.sequence += 1
        call = delta.tool_call
        if call is not None:
            events += self._feed_call(call)
        if delta.finish_reason:
            events += self._finish(delta.finish_reason, delta.usage)
        return events

    def _add(self, item: dict) -> str:
        self.open = item
        self.output.append(item)
        return self._event("response.output_item.added", output_index=len(self.output) - 1,
                           item=item)

    def _feed_reasoning(self, thinking: str, signature: str) -> list[str]:
        events = []
        item = self.open
        if item is None or item["type"] != "reasoning" or (self.signed and thinking):
            events += self._close("completed")
            item = self.draft.reasoning_item()
            events.append(self._add(item))
            self.reasoning, self.signed = None, False
        index = len(self.output) - 1
        if thinking:
            if self.reasoning is None:
                self.reasoning = []
                events.append(self._event("response.reasoning_summary_part.added",
                                          item_id=item["id"], output_index=index,
                                          summary_index=0, part=summary_text("")))
            self.reasoning.append(thinking)
            events.append(self._event("response.reasoning_summary_text.delta",
                                      item_id=item["id"], output_index=index,
                                      summary_index=0, delta=thinking))
        if signature:
            item["encrypted_content"] = (item["encrypted_content"] or "") + signature
            self.signed = True
        return events

    def _open_message(self) -> list[str]:
        events = self._close("completed")
        item = self.draft.message_item(None, "in_progress")
        events.append(self._add(item))
        index = len(self.output) - 1
        events.append(self._event("response.content_part.added", item_id=item["id"],
                                  output_index=index, content_index=0, part=output_text("")))
        self._text_head = (
            'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
            f'"item_id":{_json(item["id"])},"output_index":{index},"content_index":0,'
            '"logprobs":[],"delta":')
        return events

    def _feed_call(self, call) -> list[str]:
        events = []
        if call.id:
            events += self._close("completed")
            item = self.draft.call_item(call.id, call.name or "", "", "in_progress")
            self.calls[call.index] = item
            events.append(self._add(item))
        item = self.calls.get(call.index)
        if item is None or not call.arguments:
            return events
        arguments = self.arguments[item["id"]] = (
            self.arguments.get(item["id"], "") + call.arguments)
        # A fragment for a call already closed (vendors stream calls one after another, so
        # this is rare) still counts in the final response, with no event of its own.
        if item["type"] == "custom_tool_call":
            item["input"] = custom_input(arguments)
            return events
        item["arguments"] = arguments
        if item is self.open:
            events.append(self._event("response.function_call_arguments.delta",
                                      item_id=item["id"], output_index=self._index(item),
                                      delta=call.arguments))
        return events

    def _index(self, item: dict) -> int:
        return next(i for i, seen in enumerate(self.output) if seen is item)

    def _close(self, status: str) -> list[str]:
        """The done events of the open item, if any (a message ends with ``status``; a call
        whose arguments all arrived is always complete)."""
        item, self.open = self.open, None
        if item is None:
            return []
        index = self._index(item)
        if item["type"] == "message":
            text = "".join(self.text)
            self.text = []
            item["status"], item["content"] = status, [output_text(text)]
            events = [
                self._event("response.output_text.done", item_id=item["id"], output_index=index,
                            content_index=0, text=text, logprobs=[]),
                self._event("response.content_part.done", item_id=item["id"],
                            output_index=index, content_index=0, part=output_text(text))]
        elif item["type"] == "reasoning":
            events = []
            if self.reasoning is not None:
                text = "".join(self.reasoning)
                item["summary"] = [summary_text(text)]
                events = [
                    self._event("response.reasoning_summary_text.done", item_id=item["id"],
                                output_index=index, summary_index=0, text=text),
                    self._event("response.reasoning_summary_part.done", item_id=item["id"],
                                output_index=index, summary_index=0,
                                part=summary_text(text))]
            self.reasoning, self.signed = None, False
        elif item["type"] == "custom_tool_call":
            events = [
                self._event("response.custom_tool_call_input.delta", item_id=item["id"],
                            output_index=index, delta=item["input"]),
                self._event("response.custom_tool_call_input.done", item_id=item["id"],
                            output_index=index, input=item["input"])]
        else:
            item["status"] = "completed"
            events = [self._event("response.function_call_arguments.done", item_id=item["id"],
                                  output_index=index, arguments=item["arguments"])]
        return events + [self._event("response.output_item.done", output_index=index,
                                     item=item)]

    def _finish(self, finish_reason: str, usage) -> list[str]:
        status, details = status_for(finish_reason)
        if all(item["type"] == "reasoning" for item in self.output):
            # an answer with no text and no call is still one (empty) message, as when whole
            events = self._open_message()
        else:
            events = []
        events += self._close("incomplete" if status == "incomplete" else "completed")
        response = self.draft.response(status, self.output, usage=usage,
                                       incomplete_details=details)
        if self.on_done is not None:
            self.on_done(response)
        events.append(self._event(f"response.{status}", response=response))
        return events

    def error(self, message: str, type_: str = "server_error") -> str:
        """A failure after the start: ``response.failed`` with what was produced so far."""
        if self.open is not None:
            if self.open["type"] in ("message", "function_call"):
                self.open["status"] = "incomplete"
            if self.open["type"] == "message":
                self.open["content"] = [output_text("".join(self.text))]
        error = {"code": FAILURE_CODES.get(type_, "server_error"), "message": message}
        response = self.draft.response("failed", self.output, error=error)
        return self._event("response.failed", response=response)
