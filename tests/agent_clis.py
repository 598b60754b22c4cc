"""Find (or install) the real Codex CLI, Gemini CLI, opencode and Qwen Code for tests, and the
environments that run them in isolation against the local API stand-ins (tests/openai_stub.py,
tests/gemini_stub.py).

Each CLI is installed pinned from npm into its own cache folder (``.ci/cache/codex``,
``.ci/cache/gemini``, ``.ci/cache/opencode``, ``.ci/cache/qwen``; ``SWARMTUI_CODEX_DIR``,
``SWARMTUI_GEMINI_DIR``, ``SWARMTUI_OPENCODE_DIR``, ``SWARMTUI_QWEN_DIR`` override them), the
way ``tests/claude_cli.py`` does for Claude Code (Aider, a Python package: tests/aider_cli.py).
``codex_env`` / ``gemini_env`` build a complete environment (nothing inherited but PATH and
locale) whose home folder is a fresh directory under the test's tmp, so neither CLI ever reads
or writes the user's own ``~/.codex`` or ``~/.gemini``, nor a key from the caller's environment.

``python tests/agent_clis.py`` installs them all and prints their paths (CI runs it).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTALL_TIMEOUT = 600.0
_INHERITED = ("PATH", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class CliSpec:
    name: str
    package: str
    version: str  # pinned: the transcripts in tests/data/<name> were recorded with it
    dir_env: str
    bin: str = ""  # the executable's name, when it is not the CLI's

    @property
    def prefix(self) -> Path:
        return Path(os.environ.get(self.dir_env) or REPO_ROOT / ".ci" / "cache" / self.name)

    @property
    def executable(self) -> Path:
        return self.prefix / "node_modules" / ".bin" / (self.bin or self.name)


CODEX = CliSpec("codex", "@openai/codex", "0.171.0", "SWARMTUI_CODEX_DIR")
GEMINI = CliSpec("gemini", "@google/gemini-cli", "0.61.0", "SWARMTUI_GEMINI_DIR")
OPENCODE = CliSpec("opencode", "opencode-ai", "1.18.33", "SWARMTUI_OPENCODE_DIR")
# 0.24.4 declares Node.js 22 or newer; it runs on Node 20 (npm warns, nothing fails).
QWEN = CliSpec("qwen", "@qwen-code/qwen-code", "0.24.4", "SWARMTUI_QWEN_DIR")


@dataclass(frozen=True)
class Lookup:
    path: Path | None
    reason: str = ""
    version: str = ""


def _installed_version(spec: CliSpec) -> str:
    manifest = spec.prefix / "node_modules" / Path(spec.package) / "package.json"
    try:
        data: Any = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return ""
    return str(data.get("version", "")) if isinstance(data, dict) else ""


def _runs(spec: CliSpec, home: Path) -> str | None:
    exe = spec.executable
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        return None
    try:
        out = subprocess.run([str(exe), "--version"], check=False, capture_output=True,
                             text=True, timeout=120,
                             env={"PATH": os.environ.get("PATH", ""), "HOME": str(home),
                                  "GEMINI_CLI_NO_RELAUNCH": "true"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def find_cli(spec: CliSpec, install: bool = True) -> Lookup:
    """The pinned CLI from its cache folder, installed there with npm when missing."""
    home = spec.prefix / ".home"  # --version must not touch the user's home either
    if _installed_version(spec) == spec.version:
        got = _runs(spec, home)
        if got is not None:
            return Lookup(spec.executable, version=got)
    if not install:
        return Lookup(None, f"{spec.package} {spec.version} is not installed in {spec.prefix}")
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        return Lookup(None, f"Node.js and npm are needed to install {spec.package}")
    spec.prefix.mkdir(parents=True, exist_ok=True)
    home.mkdir(exist_ok=True)
    cmd = [npm, "install", "--prefix", str(spec.prefix), "--no-audit", "--no-fund",
           f"{spec.package}@{spec.version}"]
    with open(spec.prefix / ".install.lock", "w") as lock:  # one installer at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version(spec) == spec.version and (got := _runs(spec, home)):
            return Lookup(spec.executable, version=got)
        try:
            done = subprocess.run(cmd, check=False, capture_output=True, text=True,
                                  timeout=INSTALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{' '.join(cmd)} took longer than {INSTALL_TIMEOUT:.0f}s"
                               ) from None
        got = _runs(spec, home)
    if done.returncode != 0 or got is None:
        # node and npm are there, so a failure is an error to see, not a reason to skip.
        raise RuntimeError(f"installing {spec.package} failed ({' '.join(cmd)}, exit "
                           f"{done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return Lookup(spec.executable, version=got)


def _base_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TERM": "dumb", "NO_COLOR": "1", "CI": "1",
        # Git inside the agent's shell tool: an identity, never the user's global config.
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_AUTHOR_NAME": "agent-stub", "GIT_AUTHOR_EMAIL": "agent@stub.invalid",
        "GIT_COMMITTER_NAME": "agent-stub", "GIT_COMMITTER_EMAIL": "agent@stub.invalid",
    })
    return env


STUB_OPENAI_KEY = "sk-proj-stub-openai-key"
STUB_GEMINI_KEY = "AIzaStub-gemini-key-0000000000000000000"


def codex_env(home: Path, *, api_key: str | None = STUB_OPENAI_KEY) -> dict[str, str]:
    """A fresh ``CODEX_HOME`` under ``home``; the key reaches Codex through the provider's
    ``env_key`` (``codex_args``), never through a login file."""
    env = _base_env(home)
    codex_home = home / ".codex"
    codex_home.mkdir(exist_ok=True)
    env["CODEX_HOME"] = str(codex_home)
    if api_key is not None:
        env["OPENAI_API_KEY"] = api_key
    return env


def codex_args(base_url: str) -> list[str]:
    """``-c`` overrides that point Codex at the stand-in (a provider of its own, wire API
    ``responses``) and keep it quiet: no analytics, no update check."""
    return ["-c", "model_provider=stub",
            "-c", "model_providers.stub.name=stub",
            "-c", f"model_providers.stub.base_url={base_url}/v1",
            "-c", "model_providers.stub.wire_api=responses",
            "-c", "model_providers.stub.env_key=OPENAI_API_KEY",
            "-c", "model_providers.stub.request_max_retries=1",
            "-c", "model_providers.stub.stream_max_retries=1",
            "-c", "analytics.enabled=false",
            "-c", "check_for_update_on_startup=false"]


def gemini_env(home: Path, base_url: str, *, api_key: str | None = STUB_GEMINI_KEY,
               settings: dict[str, Any] | None = None) -> dict[str, str]:
    """A fresh ``~/.gemini`` under ``home`` with settings that select API-key auth (Gemini CLI
    0.61 asks interactively otherwise) and turn telemetry, update checks and usage statistics
    off; ``GOOGLE_GEMINI_BASE_URL`` points it at the stand-in."""
    env = _base_env(home)
    gdir = home / ".gemini"
    gdir.mkdir(exist_ok=True)
    base: dict[str, Any] = {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
    }
    for key, value in (settings or {}).items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    (gdir / "settings.json").write_text(json.dumps(base, indent=2) + "\n")
    env["GOOGLE_GEMINI_BASE_URL"] = base_url
    env["GEMINI_CLI_NO_RELAUNCH"] = "true"
    if api_key is not None:
        env["GEMINI_API_KEY"] = api_key
    return env


STUB_PROVIDER = "stub"


def opencode_env(home: Path, base_url: str, *, model: str, api_key: str | None = STUB_OPENAI_KEY,
                 prices: dict[str, float] | None = None) -> dict[str, str]:
    """A fresh opencode config under ``home`` (``$XDG_CONFIG_HOME/opencode/opencode.json``)
    with one provider, ``stub``: opencode's ``@ai-sdk/openai-compatible`` pointed at the
    stand-in's Chat Completions API, one model with its prices (opencode says each step's cost
    from them), its key from ``STUB_API_KEY``. No models.dev fetch, no update, no sharing, no
    default plugins, no reading of ``~/.claude``."""
    env = _base_env(home)
    cfg_dir = home / ".config" / "opencode"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    entry: dict[str, Any] = {"name": model, "limit": {"context": 200_000, "output": 32_000}}
    if prices:
        entry["cost"] = prices
    config = {"$schema": "https://opencode.ai/config.json", "autoupdate": False,
              "share": "disabled", "model": f"{STUB_PROVIDER}/{model}",
              "provider": {STUB_PROVIDER: {
                  "npm": "@ai-sdk/openai-compatible", "name": "stub",
                  "options": {"baseURL": f"{base_url}/v1", "apiKey": "{env:STUB_API_KEY}"},
                  "models": {model: entry}}}}
    (cfg_dir / "opencode.json").write_text(json.dumps(config, indent=2) + "\n")
    env.update({"OPENCODE_DISABLE_MODELS_FETCH": "1", "OPENCODE_DISABLE_AUTOUPDATE": "1",
                "OPENCODE_DISABLE_LSP_DOWNLOAD": "1", "OPENCODE_DISABLE_SHARE": "1",
                "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1", "OPENCODE_DISABLE_CLAUDE_CODE": "1"})
    if api_key is not None:
        env["STUB_API_KEY"] = api_key
    return env


def qwen_env(home: Path, base_url: str, *, model: str, api_key: str | None = STUB_OPENAI_KEY,
             settings: dict[str, Any] | None = None) -> dict[str, str]:
    """A fresh ``~/.qwen`` under ``home``: its OpenAI-compatible client pointed at the
    stand-in's Chat Completions API (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``OPENAI_MODEL``),
    no auto-update, no usage statistics, no telemetry, and its retries cut short: it retries a
    failed request in three nested layers (its HTTP client ``maxRetries`` times, then seven
    attempts with backoff, then for a 429 or 503 ``maxRetries`` more rounds 60 s apart by
    default); ``maxRetries`` 1 and half a second between rounds leave 28 requests for a lasting
    429 (a second apart with a ``retry-after: 1``)."""
    env = _base_env(home)
    qdir = home / ".qwen"
    qdir.mkdir(exist_ok=True)
    base: dict[str, Any] = {
        "general": {"enableAutoUpdate": False},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "model": {"generationConfig": {"maxRetries": 1, "retryInitialDelayMs": 500,
                                       "retryMaxDelayMs": 1000}},
    }
    for key, value in (settings or {}).items():
        base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) else value
    (qdir / "settings.json").write_text(json.dumps(base, indent=2) + "\n")
    env.update({"OPENAI_BASE_URL": f"{base_url}/v1", "OPENAI_MODEL": model,
                "QWEN_CODE_SUPPRESS_YOLO_WARNING": "1"})
    if api_key is not None:
        env["OPENAI_API_KEY"] = api_key
    return env


def main() -> int:
    """Install the pinned CLIs if needed; exit 1 when an install was possible and failed."""
    for spec in (CODEX, GEMINI, OPENCODE, QWEN):
        try:
            found = find_cli(spec)
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
        if found.path is None:
            print(f"{spec.package} not available: {found.reason}", file=sys.stderr)
            continue
        print(f"{found.path} ({found.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
