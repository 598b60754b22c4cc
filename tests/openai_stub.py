"""A scripted local stand-in for OpenAI's Responses API (tests only; never the network).

Point Codex CLI at it with ``-c model_provider=stub -c model_providers.stub.base_url=
<base_url>/v1 -c model_providers.stub.wire_api=responses``. ``POST /v1/responses`` answers
with a server-sent event stream (``response.created``, ``response.output_item.added`` /
``response.output_text.delta`` / ``response.output_item.done`` for each message and
``function_call`` item, then ``response.completed`` with ``usage``: input tokens with
``input_tokens_details.cached_tokens``, output tokens with ``output_tokens_details.
reasoning_tokens``); a :class:`Fail` is an HTTP error in the API's error shape (``{"error":
{"message", "type", "code"}}``) with its headers; ``Fail(200, code=...)`` is instead a
``response.failed`` event inside the stream (how the API reports ``context_length_exceeded``).
``GET /v1/models`` lists the default model.

``POST /v1/chat/completions`` is the Chat Completions API (opencode's ``@ai-sdk/openai-compatible``
provider, Qwen Code, Aider): with ``"stream": true`` a server-sent ``chat.completion.chunk``
stream (the text, then each ``tool_calls`` delta, a chunk with ``finish_reason``, a last chunk
with no choices and ``usage``: ``prompt_tokens`` with ``prompt_tokens_details.cached_tokens``,
``completion_tokens`` with ``completion_tokens_details.reasoning_tokens``; then ``[DONE]``),
otherwise one ``chat.completion`` object. A tool's answer comes back as a ``"role": "tool"``
message (:func:`tool_messages`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api_stub import Call, Fail, Handler, Reply, Request, StubServer, Tokens, new_id

DEFAULT_MODEL = "gpt-5-codex"

ERROR_TYPES = {401: "invalid_request_error", 403: "permission_error", 429: "rate_limit_error",
               500: "server_error", 502: "server_error", 503: "server_error"}


def usage_json(t: Tokens) -> dict[str, Any]:
    return {"input_tokens": t.input, "input_tokens_details": {"cached_tokens": t.cached},
            "output_tokens": t.output,
            "output_tokens_details": {"reasoning_tokens": t.reasoning},
            "total_tokens": t.input + t.output}


def codex_limit_headers(used_percent: float, resets_at: float,
                        window_minutes: int = 300) -> dict[str, str]:
    """The ``x-codex-primary-*`` rate-limit headers of a ChatGPT-plan account's responses."""
    return {"x-codex-primary-used-percent": f"{used_percent:g}",
            "x-codex-primary-window-minutes": str(window_minutes),
            "x-codex-primary-reset-at": str(int(resets_at))}


def usage_limit(resets_in: float = 3600.0) -> Fail:
    """The 429 a ChatGPT-plan account gets when its usage limit is spent (with the rate-limit
    headers saying which window and when it resets)."""
    at = time.time() + resets_in
    return Fail(429, message="The usage limit has been reached", code="usage_limit_reached",
                headers=codex_limit_headers(100, at),
                extra={"type": "usage_limit_reached", "plan_type": "plus",
                       "resets_at": int(at), "resets_in_seconds": int(resets_in)})


class OpenAIStub(StubServer):
    name = "openai-stub"
    default_model = DEFAULT_MODEL

    def is_model_call(self, method: str, path: str) -> bool:
        return method == "POST" and path.split("?")[0].rstrip("/").endswith(
            ("/responses", "/chat/completions"))

    def model_of(self, req: Request) -> str:
        return str(req.body.get("model", "")) if isinstance(req.body, dict) else ""

    def other(self, h: Handler, req: Request) -> None:
        if req.method == "GET" and req.path.split("?")[0].rstrip("/").endswith("/models"):
            h.send_json(200, {"object": "list", "data": [
                {"id": DEFAULT_MODEL, "object": "model", "owned_by": "stub"}]}, req)
            return
        super().other(h, req)

    def render(self, h: Handler, req: Request, answer: Reply | Fail) -> None:
        if isinstance(answer, Reply) and is_chat(req):
            self._chat(h, req, answer)
            return
        if isinstance(answer, Fail):
            if answer.status == 200:
                self._failed_in_stream(h, req, answer)
                return
            err = {"message": answer.message or f"stub error {answer.status}",
                   "type": ERROR_TYPES.get(answer.status, "api_error"),
                   "param": None, "code": answer.code or None, **answer.extra}
            h.send_json(answer.status, {"error": err}, req, answer.headers)
            return
        model = answer.model or self.model_of(req) or DEFAULT_MODEL
        rid = new_id("resp_")
        base = {"id": rid, "object": "response", "created_at": int(time.time()),
                "model": model, "status": "in_progress", "output": []}
        h.start_sse(req, answer.headers)
        h.sse({"type": "response.created", "response": base}, "response.created")
        seq = 0
        output: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        if answer.text is not None:
            items.append({"type": "message", "id": new_id("msg_"), "role": "assistant",
                          "status": "completed",
                          "content": [{"type": "output_text", "text": answer.text,
                                       "annotations": []}]})
        for call in answer.calls:
            items.append(_call_item(call))
        for index, item in enumerate(items):
            seq += 1
            added = dict(item, status="in_progress")
            if item["type"] == "message":
                added["content"] = []
            h.sse({"type": "response.output_item.added", "output_index": index,
                   "item": added, "sequence_number": seq}, "response.output_item.added")
            if item["type"] == "message":
                seq += 1
                h.sse({"type": "response.output_text.delta", "item_id": item["id"],
                       "output_index": index, "content_index": 0,
                       "delta": item["content"][0]["text"], "sequence_number": seq},
                      "response.output_text.delta")
            seq += 1
            h.sse({"type": "response.output_item.done", "output_index": index, "item": item,
                   "sequence_number": seq}, "response.output_item.done")
            output.append(item)
        done = dict(base, status="completed", output=output, usage=usage_json(answer.tokens))
        h.sse({"type": "response.completed", "response": done, "sequence_number": seq + 1},
              "response.completed")

    def _chat(self, h: Handler, req: Request, answer: Reply) -> None:
        model = answer.model or self.model_of(req) or DEFAULT_MODEL
        cid = new_id("chatcmpl-")
        calls = [{"id": c.id or new_id("call_"), "type": "function",
                  "function": {"name": c.name, "arguments": json.dumps(dict(c.arguments))}}
                 for c in answer.calls]
        finish = "tool_calls" if calls else "stop"
        usage = chat_usage(answer.tokens)
        body = req.body if isinstance(req.body, dict) else {}
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": answer.text}
            if calls:
                message["tool_calls"] = calls
            h.send_json(200, {"id": cid, "object": "chat.completion", "created": int(time.time()),
                              "model": model, "choices": [{"index": 0, "message": message,
                                                           "finish_reason": finish}],
                              "usage": usage}, req, answer.headers)
            return
        head = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model}

        def chunk(delta: dict[str, Any], reason: str | None = None) -> None:
            h.sse(dict(head, choices=[{"index": 0, "delta": delta, "finish_reason": reason}]))

        h.start_sse(req, answer.headers)
        chunk({"role": "assistant", "content": ""})
        if answer.text is not None:
            chunk({"content": answer.text})
        for index, call in enumerate(calls):
            chunk({"tool_calls": [dict(call, index=index)]})
        chunk({}, finish)
        h.sse(dict(head, choices=[], usage=usage))
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()

    def _failed_in_stream(self, h: Handler, req: Request, answer: Fail) -> None:
        rid = new_id("resp_")
        base = {"id": rid, "object": "response", "created_at": int(time.time()),
                "model": self.model_of(req) or DEFAULT_MODEL, "status": "in_progress",
                "output": []}
        h.start_sse(req, answer.headers)
        h.sse({"type": "response.created", "response": base}, "response.created")
        failed = dict(base, status="failed", error={"code": answer.code or "server_error",
                                                    "message": answer.message or "failed"})
        h.sse({"type": "response.failed", "response": failed}, "response.failed")


def is_chat(req: Request) -> bool:
    return req.path.split("?")[0].rstrip("/").endswith("/chat/completions")


def chat_usage(t: Tokens) -> dict[str, Any]:
    return {"prompt_tokens": t.input, "completion_tokens": t.output,
            "total_tokens": t.input + t.output,
            "prompt_tokens_details": {"cached_tokens": t.cached},
            "completion_tokens_details": {"reasoning_tokens": t.reasoning}}


def tool_messages(req: Request) -> list[dict[str, Any]]:
    """The ``"role": "tool"`` messages of a Chat Completions request (answers to tool calls)."""
    body = req.body if isinstance(req.body, dict) else {}
    msgs = body.get("messages")
    return [m for m in msgs if isinstance(m, dict) and m.get("role") == "tool"
            ] if isinstance(msgs, list) else []


def _call_item(call: Call) -> dict[str, Any]:
    return {"type": "function_call", "id": new_id("fc_"), "status": "completed",
            "call_id": call.id or new_id("call_"), "name": call.name,
            "arguments": json.dumps(dict(call.arguments))}


def function_outputs(req: Request) -> list[dict[str, Any]]:
    """The ``function_call_output`` items the request sends back (answers to tool calls)."""
    body = req.body if isinstance(req.body, dict) else {}
    items = body.get("input")
    return [i for i in items if isinstance(i, dict) and i.get("type") == "function_call_output"
            ] if isinstance(items, list) else []


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    stub = OpenAIStub().start()
    try:
        yield stub
    finally:
        stub.stop()
