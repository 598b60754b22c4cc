"""A scripted local stand-in for the Gemini API (tests only; never the network).

Point Gemini CLI at it with ``GOOGLE_GEMINI_BASE_URL=<base_url>`` (and API-key auth selected in
its settings). ``POST /v1beta/models/<model>:streamGenerateContent?alt=sse`` answers with
server-sent ``data:`` chunks of a ``GenerateContentResponse``: the text, then each
``functionCall`` part, the last chunk with ``finishReason`` and ``usageMetadata``
(``promptTokenCount`` including ``cachedContentTokenCount``, ``candidatesTokenCount``,
``thoughtsTokenCount``, ``totalTokenCount``); ``:generateContent`` answers the same as one JSON
object. A :class:`Fail` is the API's error shape: ``{"error": {"code", "message", "status",
"details"}}``. ``:countTokens`` answers an estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api_stub import Fail, Handler, Reply, Request, StubServer, Tokens, new_id

DEFAULT_MODEL = "gemini-2.5-pro"

STATUS_WORDS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


def usage_metadata(t: Tokens) -> dict[str, Any]:
    out = {"promptTokenCount": t.input, "candidatesTokenCount": t.output - t.reasoning,
           "totalTokenCount": t.input + t.output}
    if t.cached:
        out["cachedContentTokenCount"] = t.cached
    if t.reasoning:
        out["thoughtsTokenCount"] = t.reasoning
    return out


def daily_quota() -> Fail:
    """The 429 of a spent daily quota (the free tier's requests per day): no reset time."""
    return Fail(429, message="You exceeded your current quota, please check your plan and "
                "billing details.", code="RESOURCE_EXHAUSTED", extra={"details": [{
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [{"quotaMetric": "generativelanguage.googleapis.com/"
                                    "generate_content_free_tier_requests",
                                    "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                                    "quotaDimensions": {"model": DEFAULT_MODEL,
                                                        "location": "global"}}]}]})


class GeminiStub(StubServer):
    name = "gemini-stub"
    default_model = DEFAULT_MODEL

    def is_model_call(self, method: str, path: str) -> bool:
        p = path.split("?")[0]
        return method == "POST" and p.endswith((":streamGenerateContent", ":generateContent"))

    def model_of(self, req: Request) -> str:
        p = req.path.split("?")[0]
        return p.rsplit("/", 1)[-1].split(":", 1)[0] if "/models/" in p else ""

    def other(self, h: Handler, req: Request) -> None:
        if req.method == "POST" and req.path.split("?")[0].endswith(":countTokens"):
            n = max(1, math.ceil(len(req.text) / 4))
            h.send_json(200, {"totalTokens": n}, req)
            return
        super().other(h, req)

    def render(self, h: Handler, req: Request, answer: Reply | Fail) -> None:
        if isinstance(answer, Fail):
            err = {"code": answer.status, "message": answer.message or f"stub {answer.status}",
                   "status": answer.code or STATUS_WORDS.get(answer.status, "UNKNOWN"),
                   **answer.extra}
            h.send_json(answer.status, {"error": err}, req, answer.headers)
            return
        model = answer.model or self.model_of(req) or DEFAULT_MODEL
        parts: list[dict[str, Any]] = []
        if answer.text is not None:
            parts.append({"text": answer.text})
        for call in answer.calls:
            fc: dict[str, Any] = {"name": call.name, "args": dict(call.arguments)}
            if call.id:
                fc["id"] = call.id
            parts.append({"functionCall": fc})
        rid = new_id("")
        final = {"candidates": [{"content": {"role": "model", "parts": parts[-1:]},
                                 "finishReason": "STOP", "index": 0}],
                 "usageMetadata": usage_metadata(answer.tokens), "modelVersion": model,
                 "responseId": rid}
        if ":streamGenerateContent" not in req.path:
            whole = dict(final, candidates=[{"content": {"role": "model", "parts": parts},
                                             "finishReason": "STOP", "index": 0}])
            h.send_json(200, whole, req, answer.headers)
            return
        h.start_sse(req, answer.headers)
        for part in parts[:-1]:
            h.sse({"candidates": [{"content": {"role": "model", "parts": [part]}, "index": 0}],
                   "modelVersion": model, "responseId": rid})
        h.sse(final)


def function_responses(req: Request) -> list[dict[str, Any]]:
    """The ``functionResponse`` parts of the request's last user turn."""
    body = req.body if isinstance(req.body, dict) else {}
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return []
    last = contents[-1]
    parts = last.get("parts") if isinstance(last, dict) else None
    return [p["functionResponse"] for p in parts or [] if isinstance(p, dict)
            and isinstance(p.get("functionResponse"), dict)]


def first_user_text(req: Request) -> str:
    body = req.body if isinstance(req.body, dict) else {}
    for c in body.get("contents") or []:
        if isinstance(c, dict) and c.get("role") == "user":
            return "\n".join(str(p.get("text", "")) for p in c.get("parts") or []
                             if isinstance(p, dict))
    return ""


@pytest.fixture
def gemini_stub() -> Iterator[GeminiStub]:
    stub = GeminiStub().start()
    try:
        yield stub
    finally:
        stub.stop()



