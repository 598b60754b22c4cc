"""``swarmtui review ID``: a model reads an attempt before it is merged (I/O: the Messages API).

Verification proves that a check passes, not that the change is the one the task asked for, is
limited to it, or leaves the tests honest. A reviewer model reads the task, its acceptance
check, the agent's summary, the files it changed and the diff, and answers through a forced
``record_verdict`` tool call: approve, request changes or reject, with concerns per file.

What the reviewer reads is built in ``request.py`` and its answer read in ``verdict.py``.

Calls run on the engine's worker threads and never raise: no key, a failed login, a rate
limit, a server error, a timeout and a malformed answer each give a ``Review`` with ``ok``
False and a sentence for people. Retries are the client's own (``max_retries``), bounded by
the review's ``timeout``: a retry-after longer than the time left is reported, not waited for.
"""


from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from swarmtui.engine.guard.screening.normalise import safe_excerpt
from swarmtui.engine.review.request import (
    DEFAULT_MODEL,
    KEY_ENV,
    KEY_ENV_KEY,
    MODEL_KEY,
    TOOL,
    TOOL_NAME,
    ReviewInput,
    ReviewRequest,
    build_request,
)
from swarmtui.engine.review.verdict import Review, parse_verdict
from swarmtui.engine.review.waits import OutOfTime, WaitTooLong, retry_after

if TYPE_CHECKING:  # the client takes seconds to import: loaded by the first review only
    import anthropic
    from anthropic.types import Message, ToolChoiceToolParam


# -- calling the API ---------------------------------------------------------------------------

def no_key_error() -> str:
    return (f"no API key configured for reviews: set {KEY_ENV}, or name the variable that "
            f"holds the key in the config's {KEY_ENV_KEY} (the model is {MODEL_KEY})")


class Reviewer:
    """Reviews attempts through the Messages API; safe to share between worker threads.

    ``timeout`` bounds a whole review, retries and their waits included (a back-off may end at
    most one wait past it). Prices are per million tokens (the defaults are the list price of a
    Sonnet-class model when this was written; set them for the model you use)."""

    def __init__(self, api_key: str | None, model: str = DEFAULT_MODEL, *,
                 base_url: str | None = None, timeout: float = 120.0, max_retries: int = 2,
                 input_usd_per_mtok: float = 3.0, output_usd_per_mtok: float = 15.0,
                 max_tokens: int = 2048, budget_tokens: int = 60_000,
                 client: anthropic.Anthropic | None = None) -> None:
        self.api_key = api_key
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.input_usd_per_mtok = input_usd_per_mtok
        self.output_usd_per_mtok = output_usd_per_mtok
        self.max_tokens = max_tokens
        self.budget_tokens = budget_tokens
        self._client = client
        self._lock = threading.Lock()

    def _base_client(self) -> anthropic.Anthropic | None:
        import anthropic

        with self._lock:
            if self._client is None and self.api_key:
                self._client = anthropic.Anthropic(api_key=self.api_key, base_url=self.base_url,
                                                   timeout=self.timeout,
                                                   max_retries=self.max_retries)
            return self._client

    def _call_client(self, base: anthropic.Anthropic, deadline: float) -> anthropic.Anthropic:
        from swarmtui.engine.review.deadline import Deadline

        tuned = base.with_options(max_retries=self.max_retries)
        add = getattr(tuned, "with_middleware", None)
        if not callable(add):  # an SDK without middleware: no retries, so none can block
            return base.with_options(max_retries=0)
        return cast("anthropic.Anthropic", add(Deadline(deadline)))

    def review(self, inp: ReviewInput) -> Review:
        """The model's review of ``inp``. Never raises."""
        note = ""
        try:
            request = build_request(inp, self.budget_tokens)
            note = request.diff.note
            return self._review(request)
        except Exception as e:  # noqa: BLE001 - the contract: no exception reaches the engine
            return Review(ok=False, model=self.model, diff_note=note,
                          error=f"review failed: {type(e).__name__}: {safe_excerpt(str(e))}")

    def _review(self, request: ReviewRequest) -> Review:
        note = request.diff.note
        base = self._base_client()
        if base is None:
            return Review(ok=False, model=self.model, error=no_key_error(), diff_note=note)
        deadline = time.monotonic() + self.timeout
        answer = self._ask(self._call_client(base, deadline), request)
        if isinstance(answer, Review):
            return replace(answer, model=self.model, diff_note=note)
        tokens_in = int(answer.usage.input_tokens or 0)
        tokens_out = int(answer.usage.output_tokens or 0)
        cost = (tokens_in * self.input_usd_per_mtok + tokens_out * self.output_usd_per_mtok) / 1e6
        model = str(answer.model or self.model)
        parsed = parse_verdict(answer)
        if isinstance(parsed, str):
            parsed = Review(ok=False, error=f"malformed answer: {parsed}")
        return replace(parsed, tokens_in=tokens_in, tokens_out=tokens_out, cost_usd=cost,
                       model=model, diff_note=note)

    def _ask(self, client: anthropic.Anthropic, request: ReviewRequest) -> Message | Review:
        """The answer, or a failed Review whose ``error`` says why there is none."""
        import anthropic

        choice: ToolChoiceToolParam = {"type": "tool", "name": TOOL_NAME}
        try:
            return client.messages.create(
                model=self.model, max_tokens=self.max_tokens, system=request.system,
                messages=[{"role": "user", "content": request.user}], tools=[TOOL],
                tool_choice=choice, timeout=self.timeout)
        except WaitTooLong as e:
            what = "rate limited" if e.status == 429 else f"server busy (HTTP {e.status})"
            return _failed(f"{what}: the API asks to retry after {e.wait:g} s, longer than the "
                           f"{self.timeout:g} s allowed for the review", e.wait)
        except (OutOfTime, anthropic.APITimeoutError):
            return _failed(f"timed out after {self.timeout:g} s")
        except anthropic.APIConnectionError as e:
            where = f" at {self.base_url}" if self.base_url else ""
            return _failed(f"cannot reach the API{where}: {safe_excerpt(str(e))}")
        except anthropic.AuthenticationError:
            return _failed(f"authentication failed (HTTP 401): the API key was refused; "
                           f"check {KEY_ENV} or {KEY_ENV_KEY}")
        except anthropic.PermissionDeniedError as e:
            return _failed(f"permission denied (HTTP 403): {_api_message(e)}")
        except anthropic.RateLimitError as e:
            wait = retry_after(e.response.headers)
            after = f"; retry after {wait:g} s" if wait is not None else ""
            return _failed(f"rate limited (HTTP 429){after}", wait)
        except anthropic.APIStatusError as e:
            kind = ("API overloaded" if e.status_code == 529
                    else "server error" if e.status_code >= 500 else "API error")
            return _failed(f"{kind} (HTTP {e.status_code}): {_api_message(e)}",
                           retry_after(e.response.headers))


def _api_message(e: anthropic.APIStatusError) -> str:
    """The API's own ``error.message`` (the exception's text wraps the whole body)."""
    body: object = e.body
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return safe_excerpt(message if isinstance(message, str) else e.message, 200)


def _failed(error: str, wait: float | None = None) -> Review:
    return Review(ok=False, error=error, retry_after=wait)
