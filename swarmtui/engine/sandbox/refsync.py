"""The attempt's branch, the one ref a boxed agent may move.

git updates a ref by creating ``<ref>.lock`` beside it and renaming it over: that needs the
ref's folder writable, and ``refs/heads/swarm/`` holds every attempt's branch. So the box gets a
folder of its own in that place, holding only its branch (and one for the branch's reflog); the
real ref is moved by the wrapper, outside the box, whenever the agent's copy changes, and once
more before the exit record is written, with ``git update-ref`` (which takes only a commit
that exists). Every other ref, ``packed-refs`` and the target stay read-only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

from swarmtui.engine.sandbox.bwrap import Mount
from swarmtui.engine.sandbox.layout import GitView

SYNC_EVERY_S = 0.1  # a stat of one small file
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def _git(view: GitView, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(["git", f"--git-dir={view.common}", *args], capture_output=True,
                          text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)


class RefSync:
    def __init__(self, view: GitView, private: Path) -> None:
        self.view = view
        folder, self.leaf = view.branch.rsplit("/", 1)
        self.refs = private / "refs"
        self.logs = private / "logs"
        self.real_refs = view.common / "refs" / "heads" / folder
        self.real_logs = view.common / "logs" / "refs" / "heads" / folder
        self.synced = ""
        self._seen: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []

    def mounts(self) -> list[Mount]:
        """Fill the stand-in folders and say where they go."""
        ref = f"refs/heads/{self.view.branch}"
        done = _git(self.view, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
        self.synced = done.stdout.strip()
        for d in (self.refs, self.logs, self.real_refs, self.real_logs):
            d.mkdir(parents=True, exist_ok=True)
        if self.synced:
            (self.refs / self.leaf).write_text(self.synced + "\n")
        real_log = self.real_logs / self.leaf
        if real_log.is_file():
            shutil.copyfile(real_log, self.logs / self.leaf)
        self._seen = self._stat()
        return [Mount("rw", str(self.real_refs), str(self.refs)),
                Mount("rw", str(self.real_logs), str(self.logs))]

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.refs / self.leaf)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ino

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="refsync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SYNC_EVERY_S):
            if self._stat() != self._seen:
                self.sync()

    def sync(self) -> None:
        """Move the real branch to the agent's copy when that names another commit."""
        self._seen = self._stat()
        try:
            sha = (self.refs / self.leaf).read_text()[:200].strip()
        except OSError:
            return
        if sha == self.synced or not _SHA.match(sha):
            return
        done = _git(self.view, "update-ref", "-m", "swarmtui: commit in the sandbox",
                    f"refs/heads/{self.view.branch}", sha)
        if done.returncode == 0:
            self.synced = sha
        else:
            self.errors.append(done.stderr.strip()[:300])

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sync()
