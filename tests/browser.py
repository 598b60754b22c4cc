"""A real headless Chromium for tests (Debian's ``chromium``, driven by playwright-core from
npm through ``tests/browser_driver.cjs``).

``python tests/browser.py`` installs the pinned playwright-core into ``.ci/cache/playwright``
(or ``$SWARMTUI_PLAYWRIGHT_DIR``); ``.ci/run`` calls it. Without either part a test skips, and
fails under ``CI``.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PLAYWRIGHT_VERSION = "1.65.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
DIR_ENV = "SWARMTUI_PLAYWRIGHT_DIR"
DRIVER = Path(__file__).with_name("browser_driver.cjs")


def playwright_dir() -> Path:
    return Path(os.environ.get(DIR_ENV) or REPO_ROOT / ".ci" / "cache" / "playwright")


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def missing() -> str:
    """Why a browser test cannot run here, or ""."""
    if chromium() is None:
        return "no chromium (apt-get install -y chromium)"
    if shutil.which("node") is None:
        return "no node"
    if not (playwright_dir() / "node_modules" / "playwright-core" / "package.json").is_file():
        return f"no playwright-core in {playwright_dir()} (python tests/browser.py installs it)"
    return ""


def install() -> None:
    d = playwright_dir()
    d.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(d),
                    f"playwright-core@{PLAYWRIGHT_VERSION}"], check=True, timeout=600)


class Browser:
    """One headless Chromium with a fresh profile; ``call`` sends one request and waits for its
    answer (bounded by ``timeout``)."""

    def __init__(self) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="swarmtui-chromium-")
        exe = chromium()
        assert exe is not None
        self.proc = subprocess.Popen(
            ["node", str(DRIVER), str(playwright_dir()), exe, self._profile.name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(self, op: str, timeout: float = 30.0, **args: Any) -> Any:
        """Send one request and wait for its answer. ``timeout`` is also the driver's own
        limit for the ops that wait (``goto``, ``wait``, ``click``); the answer itself may take
        a little longer (the first request waits for Chromium to start)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, "timeout": int(timeout * 1000), **args})
                              + "\n")
        self.proc.stdin.flush()
        limit = timeout + 30
        ready, _, _ = select.select([self.proc.stdout], [], [], limit)
        assert ready, f"the browser did not answer {op} within {limit}s"
        line = self.proc.stdout.readline()
        assert line, f"the browser exited (code {self.proc.poll()}) during {op}"
        answer = json.loads(line)
        if not answer["ok"]:
            raise AssertionError(f"browser {op} {args}: {answer['error']}")
        return answer.get("value")

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.write('{"op": "close"}\n')
                self.proc.stdin.close()
                self.proc.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._profile.cleanup()


if __name__ == "__main__":
    install()
    print(f"playwright-core {PLAYWRIGHT_VERSION} in {playwright_dir()}", file=sys.stderr)
