"""AWS Bedrock through its official SDK (``boto3``): the Converse and ConverseStream APIs, which
speak one format for every model Bedrock hosts, signed with SigV4.

The region and the access key pair (and a session token, for temporary credentials) come from
the credential's declared fields; its base URL, when set, replaces the regional endpoint (a
VPC endpoint, or a test server). Botocore retries are off (the vendor manager retries) and
its timeouts are the credential's; a stream, once open, is kept to its first-token, idle and
total limits by the stall watchdog (watchdog.py), which cuts its socket, as for the others.
``boto3`` is imported with this module, when a credential of the ``bedrock`` kind is first
used.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import urllib3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from app.vendors.base import VendorHandler
from app.vendors.errors import (
    VendorAuthError,
    VendorModelNotFound,
    VendorRateLimited,
    VendorTimeout,
    VendorUnavailable,
    error_for_status,
    scrub,
)
from app.vendors.tracing import trace_headers
from app.vendors.types import (
    ChatMessage,
    ChatRequest,
    Credential,
    Delta,
    Part,
    Result,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from app.vendors.watchdog import StallLimits, StallWatchdog, socket_of_urllib3, stall_guard

STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
                "tool_use": "tool_calls", "content_filtered": "content_filter",
                "guardrail_intervened": "content_filter"}
# Error codes whose HTTP status alone would say less (or something else) than the code does.
ERROR_CODES = {"UnrecognizedClientException": VendorAuthError,
               "InvalidSignatureException": VendorAuthError,
               "AccessDeniedException": VendorAuthError,
               "ExpiredTokenException": VendorAuthError,
               "ThrottlingException": VendorRateLimited,
               "ServiceQuotaExceededException": VendorRateLimited,
               "ResourceNotFoundException": VendorModelNotFound,
               "ModelTimeoutException": VendorTimeout,
               "ModelNotReadyException": VendorUnavailable,
               "ModelStreamErrorException": VendorUnavailable,
               "InternalServerException": VendorUnavailable,
               "ServiceUnavailableException": VendorUnavailable}
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif",
                 "image/webp": "webp"}


class BedrockHandler(VendorHandler):
    def __init__(self, credential: Credential):
        super().__init__(credential)
        session = boto3.session.Session(
            aws_access_key_id=credential.option("aws_access_key_id"),
            aws_secret_access_key=credential.option("aws_secret_access_key"),
            aws_session_token=credential.option("aws_session_token"),
            region_name=credential.option("region"))
        config = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                        connect_timeout=credential.connect_timeout,
                        read_timeout=float(credential.option("idle_timeout")
                                           or credential.timeout),
                        max_pool_connections=50)
        endpoint = credential.base_url or None
        self.runtime = session.client("bedrock-runtime", endpoint_url=endpoint, config=config)
        self.runtime.meta.events.register("before-send.bedrock-runtime", _with_trace_context)
        self.control = session.client("bedrock", endpoint_url=endpoint, config=config)

    def close(self) -> None:
        self.runtime.close()
        self.control.close()

    def models(self) -> list[str]:
        with self.translated_errors():
            listed = self.control.list_foundation_models()
        return sorted(m["modelId"] for m in listed.get("modelSummaries") or ())

    def complete(self, request: ChatRequest) -> Result:
        with self.translated_errors():
            answer = self.runtime.converse(**self._params(request))
        with self.well_formed():
            text, thinking, calls = [], [], []
            for block in answer["output"]["message"]["content"]:
                if "text" in block:
                    text.append(block["text"])
                elif "toolUse" in block:
                    use = block["toolUse"]
                    calls.append(ToolCall(id=use["toolUseId"], name=use["name"],
                                          arguments=json.dumps(use.get("input") or {})))
                elif "reasoningContent" in block:
                    reasoning = block["reasoningContent"].get("reasoningText") or {}
                    thinking.append(Part("thinking", text=reasoning.get("text", ""),
                                         signature=reasoning.get("signature")))
            return Result(text="".join(text), finish_reason=_stop(answer.get("stopReason")),
                          usage=_usage(answer.get("usage")), model=request.model,
                          tool_calls=tuple(calls), thinking=tuple(thinking),
                          id=answer.get("ResponseMetadata", {}).get("RequestId", ""))

    def stream(self, request: ChatRequest) -> Iterator[Delta]:
        finish, usage, calls = None, None, {}
        limits, started = StallLimits.of(self.credential), time.monotonic()
        with stall_guard(self.credential.name) as guarded, self.translated_errors():
            events = self.runtime.converse_stream(**self._params(request))["stream"]
            guarded.watchdog = StallWatchdog(None, limits, started, sock=socket_of_urllib3(
                getattr(events, "_raw_stream", None)))
            try:
                for event in events:
                    guarded.watchdog.fed()
                    with self.well_formed("event"):
                        if "contentBlockStart" in event:
                            start = event["contentBlockStart"]
                            use = start.get("start", {}).get("toolUse")
                            if use:
                                calls[start["contentBlockIndex"]] = len(calls)
                                yield Delta(tool_call=ToolCallDelta(
                                    index=calls[start["contentBlockIndex"]],
                                    id=use["toolUseId"], name=use["name"]))
                        elif "contentBlockDelta" in event:
                            block = event["contentBlockDelta"]
                            delta = block["delta"]
                            if "text" in delta:
                                yield Delta(text=delta["text"])
                            elif "toolUse" in delta:
                                yield Delta(tool_call=ToolCallDelta(
                                    index=calls[block["contentBlockIndex"]],
                                    arguments=delta["toolUse"].get("input", "")))
                            elif "reasoningContent" in delta:
                                reasoning = delta["reasoningContent"]
                                yield Delta(thinking=reasoning.get("text", ""),
                                            signature=reasoning.get("signature", ""))
                        elif "messageStop" in event:
                            finish = _stop(event["messageStop"].get("stopReason"))
                        elif "metadata" in event:
                            usage = _usage(event["metadata"].get("usage"))
            finally:
                events.close()  # a client that hangs up closes the upstream too
        if finish is None:
            raise VendorUnavailable(f"{self.credential.name} ended the reply early",
                                    vendor=self.credential.name)
        yield Delta(finish_reason=finish, usage=usage or Usage())

    def _params(self, request: ChatRequest) -> dict:
        params: dict = {"modelId": request.model,
                        "messages": _messages(request.messages)}
        system = [{"text": m.content} for m in request.messages if m.role == "system"
                  and m.content]
        if system:
            params["system"] = system
        inference = {}
        if request.max_tokens is not None:
            inference["maxTokens"] = request.max_tokens
        if request.temperature is not None:
            inference["temperature"] = request.temperature
        if request.top_p is not None:
            inference["topP"] = request.top_p
        if request.stop:
            inference["stopSequences"] = list(request.stop)
        if inference:
            params["inferenceConfig"] = inference
        tools = [{"toolSpec": {"name": t.name, "description": t.description or t.name,
                               "inputSchema": {"json": dict(t.parameters)}}}
                 for t in request.tools if t.native is None]
        if tools and request.tool_choice != "none":
            params["toolConfig"] = {"tools": tools}
            choice = request.tool_choice
            if choice == "required":
                params["toolConfig"]["toolChoice"] = {"any": {}}
            elif choice and choice != "auto":
                params["toolConfig"]["toolChoice"] = {"tool": {"name": choice}}
        return params

    @contextmanager
    def translated_errors(self):
        """Botocore's errors as Parlor's (messages scrubbed of the secret key)."""
        name = self.credential.name
        secret = self.credential.option("aws_secret_access_key")
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error") or {}
            code = str(error.get("Code") or "")
            message = scrub(str(error.get("Message") or code or "Bedrock refused the call"),
                            secret)
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            cls = ERROR_CODES.get(code) or ERROR_CODES.get(code[:1].upper() + code[1:])
            if cls is not None:
                raise cls(message, vendor=name) from None
            raise error_for_status(status or 502, message, vendor=name) from None
        except (ConnectTimeoutError, ReadTimeoutError):
            raise VendorTimeout(f"{name} did not answer in time", vendor=name) from None
        except EndpointConnectionError:
            raise VendorUnavailable(f"could not reach {name}", vendor=name) from None
        except (BotoCoreError, urllib3.exceptions.HTTPError):
            # a broken stream (urllib3's own errors while botocore reads the events), a body
            # botocore could not read
            raise VendorUnavailable(f"{name} broke off the reply", vendor=name) from None

    @contextmanager
    def well_formed(self, what: str = "reply"):
        try:
            yield
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            raise VendorUnavailable(f"{self.credential.name} sent a malformed {what}",
                                    vendor=self.credential.name) from None


def _messages(messages: tuple[ChatMessage, ...]) -> list[dict]:
    """The conversation in Converse's shape: tool results ride in user turns, and turns of
    the same role next to each other are merged (Converse wants them alternating)."""
    out: list[dict] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            role, content = "user", [{"toolResult": {
                "toolUseId": message.tool_call_id, "content": [{"text": message.content}],
                **({"status": "error"} if message.is_error else {})}}]
        else:
            role = message.role
            content = [b for b in (_block(p) for p in message.parts) if b] if message.parts \
                else ([{"text": message.content}] if message.content else [])
            content += [{"toolUse": {"toolUseId": c.id, "name": c.name,
                                     "input": json.loads(c.arguments or "{}")}}
                        for c in message.tool_calls]
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(content)
        else:
            out.append({"role": role, "content": content or [{"text": " "}]})
    return out


def _block(part: Part) -> dict | None:
    if part.type == "text":
        return {"text": part.text}
    if part.type == "image" and part.has_source() and part.media_type in IMAGE_FORMATS:
        return {"image": {"format": IMAGE_FORMATS[part.media_type],
                          "source": {"bytes": part.raw()}}}
    if part.type == "document" and part.has_source() and part.media_type == "application/pdf":
        return {"document": {"format": "pdf", "name": (part.name or "document")[:200],
                             "source": {"bytes": part.raw()}}}
    if part.type == "document" and part.text:
        return {"text": f"{part.name or 'document'}:\n{part.text}"}
    return None


def _stop(reason: str | None):
    return STOP_REASONS.get(reason or "", "stop")


def _usage(usage: dict | None) -> Usage:
    usage = usage or {}
    return Usage(input_tokens=int(usage.get("inputTokens") or 0)
                 + int(usage.get("cacheReadInputTokens") or 0)
                 + int(usage.get("cacheWriteInputTokens") or 0),
                 output_tokens=int(usage.get("outputTokens") or 0),
                 cache_read_tokens=int(usage.get("cacheReadInputTokens") or 0),
                 cache_write_tokens=int(usage.get("cacheWriteInputTokens") or 0))


def _with_trace_context(request, **_) -> None:
    """The call's ``traceparent`` on the request, when the app traces: added once it is signed,
    so it is sent unsigned (the signature covers only the headers it lists)."""
    for name, value in (trace_headers(None) or {}).items():
        request.headers[name] = value
