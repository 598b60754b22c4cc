"""The simulated agent speaking Claude Code's, Codex's and Gemini CLI's formats (the demo's mixed
fleet): every line it prints has the shape of a line recorded from the real CLI
(tests/data/<cli>, keys and nesting; never invented ones), and each CLI's real adapter reads it
as that CLI: the session, tokens (and Claude's own cost), and a usage limit as the CLI says one.
Run for real: the fake agent in a git worktree, speaking Codex, committing its work."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from swarmtui.engine.adapters import ADAPTERS
from swarmtui.fake_speech import STYLES, Speaker

DATA = Path(__file__).parent / "data"


def kind(obj: dict[str, Any]) -> tuple[str, ...]:
    """What a line is: its type and, where the type is shared, what tells lines apart."""
    item = obj.get("item") if isinstance(obj.get("item"), dict) else {}
    return (str(obj.get("type")), str(obj.get("subtype") or ""), str(item.get("type") or ""),
            str(obj.get("role") or ""))


def paths(value: Any, at: str = "") -> set[str]:
    """Every key path of a JSON value; list items are told apart by their ``type``."""
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "modelUsage" or k == "models":  # keyed by the model's name
                for sub in v.values() if isinstance(v, dict) else []:
                    out |= {f"{at}{k}.*"} | paths(sub, f"{at}{k}.*.")
                continue
            out.add(at + k)
            out |= paths(v, f"{at}{k}.")
    elif isinstance(value, list):
        for v in value:
            tag = v.get("type") if isinstance(v, dict) else ""
            out |= paths(v, f"{at}[{tag}].")
    return out


def recorded(cli: str) -> dict[tuple[str, ...], set[str]]:
    shapes: dict[tuple[str, ...], set[str]] = {}
    for f in sorted((DATA / cli).glob("*.jsonl")):
        for line in f.read_text().splitlines():
            if line.startswith("{"):
                obj = json.loads(line)
                shapes.setdefault(kind(obj), set()).update(paths(obj))
    return shapes


def spoken(style: str, *, limit: bool) -> list[str]:
    s = Speaker(style, "Add hello.txt")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        s.start()
        s.said("reading the prompt")
        s.ran("git add hello.txt && git commit -q -m 'Add hello'")
        if limit:
            s.usage_limit(time.time() + 3600)
        else:
            s.finish("Done.")
    return out.getvalue().splitlines()


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("limit", [False, True])
def test_every_line_has_the_shape_of_a_recorded_one(style: str, limit: bool) -> None:
    shapes = recorded(style)
    for line in spoken(style, limit=limit):
        obj = json.loads(line)
        assert kind(obj) in shapes, f"{style}: no recorded line of kind {kind(obj)}"
        extra = paths(obj) - shapes[kind(obj)]
        assert not extra, f"{style} {kind(obj)}: keys no recorded line has: {sorted(extra)}"


def read(style: str, lines: list[str], code: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    a = ADAPTERS[style]()
    a.configure({"model": "gpt-5.5"} if style == "codex" else {})
    signals = [s for line in lines for s in a.observe(line)]
    a.exited(code)
    return signals, a.usage()


@pytest.mark.parametrize("style", STYLES)
def test_each_adapter_reads_the_simulated_cli_as_its_own(style: str) -> None:
    signals, usage = read(style, spoken(style, limit=False), 0)
    assert any(s["kind"] == "session" for s in signals), signals
    assert usage["tokens"] == 2 * (1200 + 80)  # one message and one tool call
    if style == "claude":
        assert usage["cost_usd"] == pytest.approx((2400 * 3.0 + 160 * 15.0) / 1e6)
    assert "usage_limited_until" not in usage and not (usage.get("outcome") or {}).get(
        "is_error")


@pytest.mark.parametrize("style", STYLES)
def test_a_simulated_usage_limit_is_read_as_one(style: str) -> None:
    lines = spoken(style, limit=True)
    _, usage = read(style, lines, {"claude": 1, "codex": 1, "gemini": 173}[style])
    assert usage.get("usage_limited_until"), usage
    if style == "claude":  # it names its reset; the others say a clock time or nothing
        assert usage["usage_limited_until"] == pytest.approx(time.time() + 3600, abs=5)


def test_the_fake_agent_speaking_codex_does_its_work_in_a_worktree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "init"], cwd=repo, check=True)
    adir = tmp_path / "agent"
    adir.mkdir()
    env = {**os.environ, "SWARM_PROGRESS_FILE": str(adir / "progress.md"),
           "SWARM_RESULTS_FILE": str(adir / "results.json"), "SWARM_TASK_ID": "t",
           "SWARM_ATTEMPT": "1", "CODEX_API_KEY": "sk-demo-limited"}
    argv = [sys.executable, "-P", "-m", "swarmtui.fake_speech", "--speaks", "codex", "--pace",
            "0", "--", "exec", "--json", "-c", "sandbox_mode=x", "--seed", "9", "-"]
    done = subprocess.run(argv, cwd=repo, env=env, input="", capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads((adir / "results.json").read_text())["status"] == "done"
    _, usage = read("codex", done.stdout.splitlines(), 0)
    assert usage["tokens"] > 0 and "usage_limited_until" not in usage
    # The same with the limited key: a first step committed, then Codex's usage limit.
    limited = subprocess.run([*argv[:8], "--limited-key", "limited", *argv[8:]], cwd=repo,
                             env={**env, "SWARM_ATTEMPT": "2",
                                  "SWARM_RESULTS_FILE": str(adir / "r2.json")},
                             input="", capture_output=True, text=True, timeout=60)
    assert limited.returncode == 1 and not (adir / "r2.json").exists()
    _, usage = read("codex", limited.stdout.splitlines(), 1)
    assert usage.get("usage_limited_until")
    log = subprocess.run(["git", "log", "--format=%s"], cwd=repo, capture_output=True,
                         text=True, check=True).stdout
    assert "(before the usage limit)" in log
