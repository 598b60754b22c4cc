"""Git's identity for a boxed Aider.

Aider asks ``git config user.name`` and ``user.email`` at start, and when either is unset it
writes a placeholder into the repository's ``.git/config``. In the box that file is read-only
(a config the supervisor's git reads must not be the agent's to change), so Aider would stop
there. The wrapper asks git once, outside the box, and gives what is missing through git's
environment config (``GIT_CONFIG_COUNT``): the identity the agent's environment names for its
commits, else Aider's own placeholder. Git then answers Aider, and nothing is written."""

from __future__ import annotations

import os
import subprocess

ADAPTERS = frozenset({"aider"})
# key: (the variables that name it for commits, Aider's placeholder)
KEYS = {"user.name": (("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"), "Your Name"),
        "user.email": (("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"), "you@example.com")}


def identity_env(adapter: str, env: dict[str, str], cwd: str) -> dict[str, str]:
    """The variables to add to the agent's environment (none when git knows both already)."""
    if adapter not in ADAPTERS:
        return {}
    git_env = {**env, "PATH": env.get("PATH") or os.defpath}
    try:
        done = subprocess.run(["git", "config", "--get-regexp", r"^user\.(name|email)$"],
                              cwd=cwd, env=git_env, capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
        known = {ln.split(" ", 1)[0] for ln in done.stdout.splitlines() if " " in ln}
    except (OSError, subprocess.TimeoutExpired):
        known = set()
    missing = [k for k in KEYS if k not in known]
    if not missing:
        return {}
    try:
        n = int(env.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        n = 0
    out: dict[str, str] = {}
    for i, key in enumerate(missing, start=n):
        names, placeholder = KEYS[key]
        out[f"GIT_CONFIG_KEY_{i}"] = key
        out[f"GIT_CONFIG_VALUE_{i}"] = next((env[v] for v in names if env.get(v)), placeholder)
    out["GIT_CONFIG_COUNT"] = str(n + len(missing))
    return out
