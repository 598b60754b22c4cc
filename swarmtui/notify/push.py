"""Push notifications through apprise, off the supervisor's loop.

The loop calls ``Pusher.offer`` for each new alert (repeats of an open alert never get here:
they collapse into it in ``model.alerts``). ``offer`` only decides and enqueues: whether the
kind and level are wanted, whether the same condition was pushed within ``repeat_after`` (a
flapping agent pages once), and whether the hour's budget is spent (the next push says how many
were held back). One worker thread sends, each service with its own connect and read timeouts;
the queue is bounded, so a dead push service costs memory for a few messages and nothing else.

URLs name their secrets as ``$NAME`` or ``${NAME}``: they are filled from the environment in
the worker, just before sending, and never logged.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.config.model import NotifyConfig
from swarmtui.model.kinds import AlertLevel
from swarmtui.model.state import Alert
from swarmtui.notify.message import Push, compose

log = logging.getLogger(__name__)

QUEUE_MAX = 32
_LEVEL_RANK = {AlertLevel.INFO: 0, AlertLevel.WARNING: 1, AlertLevel.ERROR: 2}
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
WEB_FILE = "web.json"  # .swarm/web.json: where a running `swarmtui serve` is reached

Sender = Callable[[Push], bool]


class UrlError(ValueError):
    pass


def expand_url(url: str, index: int, env: Mapping[str, str]) -> str:
    """``url`` with each ``$NAME`` / ``${NAME}`` taken from ``env``; a missing one is an error
    naming the config key and the variable (never the value)."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name not in env:
            raise UrlError(f"notify.urls[{index}] names ${{{name}}}, which is not set in the "
                           "supervisor's environment")
        return env[name]
    return _VAR.sub(sub, url)


def web_link(repo: Path) -> str:
    """The address a running `swarmtui serve` recorded (without its token), or ""."""
    try:
        data = json.loads((repo / P.SWARM_DIR / WEB_FILE).read_text()[:4096])
    except (OSError, ValueError):
        return ""
    url = data.get("url") if isinstance(data, dict) else None
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else ""


def apprise_sender(config: NotifyConfig, env: Mapping[str, str] | None = None) -> Sender:
    """Send through apprise to every URL of ``config`` (built in the worker thread)."""
    import apprise

    env = os.environ if env is None else env
    box = apprise.Apprise()
    t = f"{config.timeout:g}"
    for i, raw in enumerate(config.urls):
        try:
            url = expand_url(raw, i, env)
        except UrlError as e:
            log.warning("%s; that service gets no pushes", e)
            continue
        sep = "&" if "?" in url else "?"
        if not box.add(f"{url}{sep}cto={t}&rto={t}"):
            log.warning("notify.urls[%d] is not a URL apprise knows (scheme %r); that service "
                        "gets no pushes", i, raw.split(":", 1)[0])
    types = {AlertLevel.ERROR: apprise.NotifyType.FAILURE,
             AlertLevel.WARNING: apprise.NotifyType.WARNING,
             AlertLevel.INFO: apprise.NotifyType.INFO}

    def send(push: Push) -> bool:
        if not len(box):
            return False
        return bool(box.notify(body=push.body, title=push.title, notify_type=types[push.level],
                               body_format=apprise.NotifyFormat.TEXT))
    return send


class Pusher:
    """Decides on the loop (cheap, never blocks), sends from its own thread."""

    def __init__(self, config: NotifyConfig, repo: Path, *, sender: Sender | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.repo = repo
        self._clock = clock
        self._kinds = frozenset(config.kinds)
        self._min = _LEVEL_RANK[AlertLevel(config.level)]
        self._last: dict[tuple[str, ...], float] = {}
        self._hour: deque[float] = deque()
        self._held_back = 0
        self._queue: queue.Queue[tuple[Alert, int] | None] = queue.Queue(QUEUE_MAX)
        self._sender = sender
        self.sent = 0
        self._thread = threading.Thread(target=self._work, name="swarm-push", daemon=True)
        self._thread.start()

    def wanted(self, alert: Alert) -> bool:
        return ((not self._kinds or str(alert.kind) in self._kinds)
                and _LEVEL_RANK[alert.level] >= self._min)

    def offer(self, alert: Alert) -> bool:
        """Queue a push for a new ``alert`` when it is wanted and within the limits."""
        if not self.wanted(alert):
            return False
        now = self._clock()
        last = self._last.get(alert.key)
        if last is not None and now - last < self.config.repeat_after:
            log.info("push for %s not sent: pushed %.0fs ago", alert.key, now - last)
            return False
        while self._hour and now - self._hour[0] >= 3600:
            self._hour.popleft()
        if len(self._hour) >= self.config.max_per_hour:
            self._held_back += 1
            log.info("push for %s held back: %d this hour", alert.key, len(self._hour))
            return False
        try:
            self._queue.put_nowait((alert, self._held_back))
        except queue.Full:
            self._held_back += 1
            log.warning("push for %s dropped: %d pushes still waiting to be sent", alert.key,
                        QUEUE_MAX)
            return False
        self._held_back = 0
        self._last[alert.key] = now
        self._hour.append(now)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Let the queued pushes go, then end the worker. Each push still waiting gets its own
        ``timeout`` (a service's connect and read timeouts bound one send; the first send also
        loads apprise, slow on a busy machine), so the run's last pages are not cut off by one
        shared wait; what still waits after that is logged, never silently dropped."""
        waiting = self._queue.qsize() + 1  # the one being sent, if any
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            log.warning("%d pushes not sent: the push service did not take them", waiting)
            return
        self._thread.join(timeout * (waiting + 1))
        if self._thread.is_alive():
            log.warning("%d pushes not sent before the run closed", self._queue.qsize())

    def _work(self) -> None:
        send = self._sender
        name = self.repo.name
        while True:
            item = self._queue.get()
            if item is None:
                return
            alert, held_back = item
            try:
                if send is None:
                    send = apprise_sender(self.config)
                link = self.config.link or web_link(self.repo)
                push = compose(alert, name, link, held_back)
                if send(push):
                    self.sent += 1
                else:
                    log.warning("push for %s was not delivered by any of notify.urls",
                                alert.key)
            except Exception:  # a push must never end the worker, let alone the run
                log.exception("push for %s failed", alert.key)
