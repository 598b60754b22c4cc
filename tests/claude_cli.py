"""Find (or install) the real Claude Code CLI for tests, and the environment that runs it in
isolation against the local API stub (tests/anthropic_stub.py).

``find_claude()`` returns the executable's path or a reason to skip; ``isolated_env()`` a complete
environment (nothing inherited but PATH and locale) in which the CLI talks only to the stub and
reads and writes only a private config directory, never the user's ``~/.claude``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Newest 2.1.x on the npm registry when the transcripts in tests/data/claude were recorded.
CLAUDE_CODE_VERSION = "2.1.332"
PACKAGE = "@anthropic-ai/claude-code"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO_ROOT / ".ci" / "cache" / "claude"
DIR_ENV = "SWARMTUI_CLAUDE_DIR"
INSTALL_TIMEOUT = 600.0

# Environment variables (names read from the 2.1.332 binary) that keep the CLI off the network
# apart from the API base URL, and quiet: no auto-update, telemetry, error reports, feature-flag
# fetches, release notes, surveys.
QUIET_ENV: dict[str, str] = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_BUG_COMMAND": "1",
    "DISABLE_COST_WARNINGS": "1",
    "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1",
    "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1",
    "CLAUDE_CODE_IDE_SKIP_AUTO_INSTALL": "1",
    "CLAUDE_CODE_ENABLE_TELEMETRY": "0",
    "NO_COLOR": "1",
}

# The only variables isolated_env() takes from the calling environment: nothing that could carry
# credentials, another endpoint, a proxy or the user's configuration into the CLI.
_INHERITED = ("PATH", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class ClaudeLookup:
    """``path`` to the executable, or ``None`` and the ``reason`` a test should skip."""

    path: Path | None
    reason: str = ""
    version: str = ""


def cache_dir() -> Path:
    return Path(os.environ.get(DIR_ENV) or DEFAULT_DIR)


def _cached_executable(prefix: Path) -> Path | None:
    for candidate in (prefix / "node_modules" / ".bin" / "claude",
                      prefix / "node_modules" / "@anthropic-ai" / "claude-code" / "bin"
                      / "claude.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _installed_version(prefix: Path) -> str:
    manifest = prefix / "node_modules" / "@anthropic-ai" / "claude-code" / "package.json"
    try:
        data: Any = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return ""
    return str(data.get("version", "")) if isinstance(data, dict) else ""


def _runs(exe: Path) -> str | None:
    """The executable's ``--version`` output, or None when it does not run (e.g. the placeholder
    left when the postinstall step did not copy the native binary in)."""
    try:
        out = subprocess.run([str(exe), "--version"], check=False, capture_output=True,
                             text=True, timeout=60,
                             env={"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent",
                                  **QUIET_ENV})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _postinstall(prefix: Path, exe: Path | None) -> str | None:
    package = prefix / "node_modules" / "@anthropic-ai" / "claude-code"
    node = shutil.which("node")
    if node is None or exe is None or not (package / "install.cjs").is_file():
        return None
    subprocess.run([node, "install.cjs"], cwd=package, check=False, capture_output=True,
                   timeout=INSTALL_TIMEOUT)
    return _runs(exe)


def find_claude(install: bool = True, version: str = CLAUDE_CODE_VERSION) -> ClaudeLookup:
    """The pinned CLI from the cache folder, installed there with npm when missing."""
    prefix = cache_dir()
    exe = _cached_executable(prefix)
    if exe is not None and _installed_version(prefix) == version:
        got = _runs(exe)
        if got is not None:
            return ClaudeLookup(exe, version=got)
    if not install:
        return ClaudeLookup(None, f"Claude Code {version} is not installed in {prefix}")
    if shutil.which("node") is None:
        return ClaudeLookup(None, "Node.js is not installed (needed to install Claude Code)")
    npm = shutil.which("npm")
    if npm is None:
        return ClaudeLookup(None, "npm is not installed (needed to install Claude Code)")
    prefix.mkdir(parents=True, exist_ok=True)
    # --foreground-scripts: the postinstall step copies the platform's native binary over the
    # bin/claude.exe placeholder; it must run.
    cmd = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
           "--foreground-scripts", f"{PACKAGE}@{version}"]
    with open(prefix / ".install.lock", "w") as lock:  # one installer at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        exe = _cached_executable(prefix)
        if exe is not None and _installed_version(prefix) == version:
            got = _runs(exe)
            if got is not None:  # another process installed it while this one waited
                return ClaudeLookup(exe, version=got)
        try:
            done = subprocess.run(cmd, check=False, capture_output=True, text=True,
                                  timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{' '.join(cmd)} took longer than {INSTALL_TIMEOUT:.0f}s"
                               ) from None
        exe = _cached_executable(prefix)
        got = _runs(exe) if exe is not None else None
        if done.returncode == 0 and got is None:
            # npm configured not to run install scripts: run the postinstall step ourselves
            got = _postinstall(prefix, exe)
    if done.returncode != 0 or exe is None or got is None:
        # node and npm are there, so a failure is an error to see, not a reason to skip.
        raise RuntimeError(f"installing Claude Code failed ({' '.join(cmd)}, exit "
                           f"{done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return ClaudeLookup(exe, version=got)


def isolated_env(base_url: str, home: Path, *, api_key: str | None = "sk-ant-api03-stub-key",
                 oauth_token: str | None = None, max_retries: int | None = 2,
                 sandbox: bool = True, extra: Mapping[str, str] | None = None,
                 ) -> dict[str, str]:
    """The environment for running the CLI against the stub at ``base_url``.

    ``home`` becomes HOME and holds the config directory (``home/.claude``, CLAUDE_CONFIG_DIR),
    so the CLI's settings, sessions and credentials live there. ``api_key`` authenticates as an
    API-key (Console) user; ``oauth_token`` instead as a claude.ai subscriber
    (CLAUDE_CODE_OAUTH_TOKEN; pass ``api_key=None`` with it). ``max_retries`` sets
    CLAUDE_CODE_MAX_RETRIES (the CLI's default is 10 with backoff up to minutes). ``sandbox``
    sets IS_SANDBOX=1, without which ``bypassPermissions`` /
    ``--dangerously-skip-permissions`` refuse to run as root.
    """
    home.mkdir(parents=True, exist_ok=True)
    config = home / ".claude"
    config.mkdir(exist_ok=True)
    scratch = home / "tmp"
    scratch.mkdir(mode=0o700, exist_ok=True)
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(QUIET_ENV)
    env.update({
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(config),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        # subagent output files and the like (default /tmp/claude-<uid>/)
        "CLAUDE_CODE_TMPDIR": str(scratch),
        "ANTHROPIC_BASE_URL": base_url,
        "TERM": "dumb",
        # Git inside the agent's Bash tool: an identity, and never the user's global config.
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_AUTHOR_NAME": "claude-stub", "GIT_AUTHOR_EMAIL": "claude@stub.invalid",
        "GIT_COMMITTER_NAME": "claude-stub", "GIT_COMMITTER_EMAIL": "claude@stub.invalid",
    })
    if api_key is not None:
        env["ANTHROPIC_API_KEY"] = api_key
    if oauth_token is not None:
        env["CLAUDE_CODE_OAUTH_TOKEN"] = oauth_token
    if max_retries is not None:
        env["CLAUDE_CODE_MAX_RETRIES"] = str(max_retries)
    if sandbox:
        env["IS_SANDBOX"] = "1"
    if extra:
        env.update(extra)
    return env


def write_settings(path: Path, settings: Mapping[str, Any]) -> Path:
    """Write a settings JSON file (``--settings PATH`` or ``CLAUDE_CONFIG_DIR/settings.json``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2) + "\n")
    return path


def hook_settings(events: list[str], out_dir: Path) -> dict[str, Any]:
    """Settings registering, for each hook event, a command that appends its stdin JSON (one
    object a line) to ``out_dir/<Event>.jsonl``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    hooks: dict[str, Any] = {}
    for event in events:
        target = out_dir / f"{event}.jsonl"
        command = f"cat >> '{target}'; echo >> '{target}'"
        hooks[event] = [{"matcher": "", "hooks": [{"type": "command", "command": command}]}]
    return {"hooks": hooks}


def main() -> int:
    """``python tests/claude_cli.py``: install the pinned CLI if needed and print its path.

    Exits 0 with the skip reason on stderr when Node.js or npm is missing (the tests skip then),
    1 when an install was possible and failed."""
    try:
        found = find_claude()
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    if found.path is None:
        print(f"Claude Code not available: {found.reason}", file=sys.stderr)
        return 0
    print(f"{found.path} ({found.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
