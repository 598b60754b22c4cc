"""Find (or install) the real Aider for tests, and the environment that runs it in isolation
against the local Chat Completions stand-in (tests/openai_stub.py).

Aider is a Python package (``aider-chat``), pinned, installed into a virtual environment of its
own in a cache folder (``.ci/cache/aider``; ``SWARMTUI_AIDER_DIR`` overrides it) so that its
many pinned dependencies never meet swarmtui's. ``python tests/aider_cli.py`` installs it and
prints its path (CI runs it; pip takes a few minutes the first time).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.agent_clis import STUB_OPENAI_KEY, Lookup, _base_env  # noqa: E402

PACKAGE, VERSION = "aider-chat", "0.86.2"  # tests/data/aider was recorded with it
INSTALL_TIMEOUT = 1200.0


def prefix() -> Path:
    return Path(os.environ.get("SWARMTUI_AIDER_DIR") or REPO_ROOT / ".ci" / "cache" / "aider")


def executable() -> Path:
    return prefix() / "venv" / "bin" / "aider"


def _runs() -> str | None:
    exe = executable()
    if not (exe.is_file() and os.access(exe, os.X_OK)):
        return None
    try:
        out = subprocess.run([str(exe), "--version"], check=False, capture_output=True,
                             text=True, timeout=120,
                             env={"PATH": os.environ.get("PATH", ""),
                                  "HOME": str(prefix() / ".home")})
    except (OSError, subprocess.TimeoutExpired):
        return None
    said = out.stdout.strip()
    return said if out.returncode == 0 and said.endswith(VERSION) else None


def find_aider(install: bool = True) -> Lookup:
    """The pinned Aider from its cache folder, installed there with pip when missing."""
    if (got := _runs()) is not None:
        return Lookup(executable(), version=got)
    if not install:
        return Lookup(None, f"{PACKAGE} {VERSION} is not installed in {prefix()}")
    prefix().mkdir(parents=True, exist_ok=True)
    (prefix() / ".home").mkdir(exist_ok=True)
    venv = prefix() / "venv"
    with open(prefix() / ".install.lock", "w") as lock:  # one installer at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (got := _runs()) is not None:
            return Lookup(executable(), version=got)
        steps = [[sys.executable, "-m", "venv", str(venv)],
                 [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                  f"{PACKAGE}=={VERSION}"]]
        for cmd in steps:
            try:
                done = subprocess.run(cmd, check=False, capture_output=True, text=True,
                                      timeout=INSTALL_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"{' '.join(cmd)} took longer than "
                                   f"{INSTALL_TIMEOUT:.0f}s") from None
            if done.returncode != 0:
                # pip is there, so a failure is an error to see, not a reason to skip.
                raise RuntimeError(f"installing {PACKAGE} failed ({' '.join(cmd)}, exit "
                                   f"{done.returncode}):\n{done.stderr[-3000:]}")
        got = _runs()
    if got is None:
        raise RuntimeError(f"{executable()} does not run after installing {PACKAGE}")
    return Lookup(executable(), version=got)


def aider_env(home: Path, base_url: str, *, model: str, api_key: str | None = STUB_OPENAI_KEY,
              prices: dict[str, float] | None = None) -> dict[str, str]:
    """A fresh home for Aider with its OpenAI client pointed at the stand-in
    (``OPENAI_API_BASE``), kept off the network (litellm's bundled price list, a cached one
    for Aider), and, with ``prices`` (per million tokens), a model metadata file that gives
    ``openai/<model>`` those prices: Aider then says each message's cost."""
    env = _base_env(home)
    env.update({"OPENAI_API_BASE": f"{base_url}/v1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    # A model it knows no prices for sends Aider to fetch litellm's price list, unless its
    # cache of that list is fresh and not empty.
    cache = home / ".aider" / "caches"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "model_prices_and_context_window.json").write_text('{"swarmtui-tests": {}}\n')
    if prices:
        meta = home / "aider-models.json"
        meta.write_text(json.dumps({f"openai/{model}": {
            "max_input_tokens": 200_000, "max_output_tokens": 32_000, "mode": "chat",
            "litellm_provider": "openai",
            "input_cost_per_token": prices["input"] / 1e6,
            "output_cost_per_token": prices["output"] / 1e6}}, indent=2) + "\n")
        env["AIDER_MODEL_METADATA_FILE"] = str(meta)
    if api_key is not None:
        env["OPENAI_API_KEY"] = api_key
    return env


def main() -> int:
    try:
        found = find_aider()
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{found.path} ({found.version})" if found.path else found.reason)
    return 0


if __name__ == "__main__":
    sys.exit(main())
