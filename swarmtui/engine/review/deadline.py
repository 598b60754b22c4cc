"""The review's deadline inside the anthropic client's retry loop (imports the client, which takes
seconds: review.py loads this module only when a review is made)."""

from __future__ import annotations

import time
from typing import Any

import anthropic

from swarmtui.engine.review.waits import OutOfTime, WaitTooLong, retry_after


class Deadline(anthropic.Middleware):
    """Runs inside the client's retry loop, once per attempt: gives each attempt only the
    time left, and stops the loop (by raising something it does not retry) when the server
    asks for a wait that would outlast the review."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def handle(self, request: anthropic.APIRequest,
               call_next: anthropic.CallNext) -> anthropic.APIResponse[Any]:
        left = self.deadline - time.monotonic()
        if left <= 0.05:
            raise OutOfTime
        response = call_next(request.copy(timeout=left))
        status = response.status_code
        if status in (408, 409, 429) or status >= 500:
            wait = retry_after(response.headers)
            if wait is not None and time.monotonic() + wait > self.deadline:
                response.http_response.close()
                raise WaitTooLong(status, wait)
        return response
