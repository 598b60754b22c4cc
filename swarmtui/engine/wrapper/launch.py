"""What the wrapper is told and what it writes: the attempt's launch spec (``launch.json``, set
by the supervisor), the agent's command line, and the size-capped log and atomic files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from swarmtui.boundedjson import loads
from swarmtui.protocol import ENV_FILE

TYPE_CHECKING = False  # typing itself is not imported: ~10 ms of every wrapper's start-up
if TYPE_CHECKING:
    from typing import Any

LAUNCH_FILE = "launch.json"
LAUNCH_MAX = 4 * 1024 * 1024  # launch.json and env.json (a large environment fits)


class LaunchSpec:
    """A plain class, not a dataclass: ``dataclasses`` (with ``inspect``) is a large share of
    the imports a wrapper pays for at every spawn."""

    __slots__ = ("adapter", "argv", "cwd", "env", "extra", "heartbeat_file", "kill_grace",
                 "log_max_bytes", "orphan_timeout", "prompt_file", "prompt_via", "secret_names",
                 "setup", "setup_timeout")

    def __init__(self, argv: list[str], cwd: str, env: dict[str, str], prompt_via: str,
                 prompt_file: str, heartbeat_file: str, orphan_timeout: float,
                 kill_grace: float, log_max_bytes: int, adapter: str = "generic",
                 extra: dict[str, Any] | None = None, secret_names: list[str] | None = None,
                 setup: str = "", setup_timeout: float = 600.0) -> None:
        self.argv = argv
        self.cwd = cwd
        self.env = env  # the agent's whole environment; kept out of launch.json
        self.prompt_via = prompt_via  # stdin | file | argument
        self.prompt_file = prompt_file
        self.heartbeat_file = heartbeat_file
        self.orphan_timeout = orphan_timeout
        self.kill_grace = kill_grace
        self.log_max_bytes = log_max_bytes
        self.adapter = adapter
        self.extra: dict[str, Any] = {} if extra is None else extra
        self.secret_names: list[str] = [] if secret_names is None else secret_names
        self.setup = setup  # [worktree] setup: a shell command run in cwd before the agent
        self.setup_timeout = setup_timeout

    def write(self, agent_dir: Path) -> None:
        data = {k: getattr(self, k) for k in self.__slots__ if k != "env"}
        # Not fsynced: the wrapper reads them moments later on this machine, and after a crash
        # of the machine no wrapper is left to (recovery settles the attempt as lost); two
        # fsyncs were wall time on every spawn's path through the git workers.
        write_json_atomic(agent_dir / ENV_FILE, dict(self.env), mode=0o600, durable=False)
        write_json_atomic(agent_dir / LAUNCH_FILE, data, durable=False)

    @classmethod
    def read(cls, agent_dir: Path) -> LaunchSpec:
        # Both sit in the agent's folder, which agents can write: bounded like any agent file.
        data = loads((agent_dir / LAUNCH_FILE).read_bytes(), max_chars=LAUNCH_MAX)
        env_path = agent_dir / ENV_FILE
        try:
            env = loads(env_path.read_bytes(), max_chars=LAUNCH_MAX)
        except FileNotFoundError:
            env = {}
        else:
            env_path.unlink(missing_ok=True)  # the values live in this process only from now
        return cls(env={str(k): str(v) for k, v in env.items()}, **data)


def write_json_atomic(path: Path, obj: Any, *, mode: int = 0o600, durable: bool = True) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        if durable:
            os.fsync(f.fileno())
    os.replace(tmp, path)


def with_site() -> None:
    """The import path ``site`` would have set up (site-packages, .pth files), for a wrapper
    started without it (``runners/local.py``) that is about to need more than the standard
    library and swarmtui; nothing when it was started with it."""
    import sys

    if sys.flags.no_site:
        import site

        site.main()


def build_argv(spec: LaunchSpec, prompt_text: str) -> list[str]:
    """The agent's argv with the prompt placed as configured; never through a shell."""
    argv = list(spec.argv)
    if spec.prompt_via == "file":
        if any("{prompt_file}" in a for a in argv):
            argv = [a.replace("{prompt_file}", spec.prompt_file) for a in argv]
        else:
            argv.append(spec.prompt_file)
    elif spec.prompt_via == "argument":
        if any("{prompt}" in a for a in argv):
            argv = [a.replace("{prompt}", prompt_text) for a in argv]
        else:
            argv.append(prompt_text)
    return argv


class CappedLog:
    """An append-only log file kept under ``max_bytes``: the head stays, and once the file grows
    past the cap the middle is dropped and the newest tail kept (rewritten via rename, so a
    reader never sees a half-written file)."""

    MARKER = b"\n[... swarmtui: output truncated here; head and newest tail kept ...]\n"

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max = max(max_bytes, 4096)
        self.f = open(path, "ab")  # noqa: SIM115 - kept open for the agent's lifetime
        self.size = self.f.tell()
        self.truncations = 0

    def write(self, data: bytes) -> None:
        self.f.write(data)
        self.f.flush()
        self.size += len(data)
        if self.size > self.max:
            self._shrink()

    def _shrink(self) -> None:
        head_n = self.max // 4
        tail_n = self.max // 2
        self.f.close()
        with open(self.path, "rb") as src:
            head = src.read(head_n)
            src.seek(-tail_n, os.SEEK_END)
            tail = src.read()
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "wb") as out:
            out.write(head + self.MARKER + tail)
        os.replace(tmp, self.path)
        self.truncations += 1
        self.f = open(self.path, "ab")  # noqa: SIM115
        self.size = self.f.tell()

    def close(self) -> None:
        self.f.close()


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
