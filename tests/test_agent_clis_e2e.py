"""Codex CLI and Gemini CLI for real: the pinned CLIs (tests/agent_clis.py) run by swarmtui in
real tmux windows and git worktrees, against local stand-ins of their providers' APIs
(tests/openai_stub.py, tests/gemini_stub.py) that script the model. Each task passes with the
tokens the stand-in billed and the cost the price table gives; each error class is named.

Skipped only when Node.js or npm is missing, and then only outside CI (CI installs both).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from tests.agent_clis import (
    CODEX,
    GEMINI,
    CliSpec,
    codex_args,
    codex_env,
    find_cli,
    gemini_env,
)
from tests.api_stub import Call, Fail, Reply, Request, Route, Tokens, body_contains
from tests.fleet import Fleet, fast_config, start, task
from tests.gemini_stub import GeminiStub, daily_quota, function_responses
from tests.openai_stub import OpenAIStub, usage_limit

pytestmark = pytest.mark.e2e

CODEX_MODEL = "gpt-5.5"
GEMINI_MODEL = "gemini-2.5-pro"
# US dollars per million tokens (made-up figures: the test checks the arithmetic).
PRICES = {CODEX_MODEL: {"input": 1.25, "output": 10.0, "cache_read": 0.125},
          GEMINI_MODEL: {"input": 1.25, "output": 10.0, "cache_read": 0.31}}
STEP_TOKENS = Tokens(input=700, output=40, cached=200, reasoning=8)


def _cli(spec: CliSpec) -> str:
    found = find_cli(spec)
    if found.path is None:
        if os.environ.get("CI"):  # CI installs Node.js: a missing CLI is a failure there
            pytest.fail(found.reason)
        pytest.skip(found.reason)
    return str(found.path)


@pytest.fixture(scope="module")
def codex() -> str:
    return _cli(CODEX)


@pytest.fixture(scope="module")
def gemini() -> str:
    return _cli(GEMINI)


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub


@pytest.fixture
def gemini_stub() -> Iterator[GeminiStub]:
    with GeminiStub() as stub:
        yield stub


def prompt_paths(req: Request) -> dict[str, str]:
    """The attempt's files as the newest swarmtui prompt in the conversation names them."""
    text = req.text.replace("\\n", "\n")
    seg = "You are agent" + text.split("You are agent")[-1]
    prog = re.search(r"`(/[^`]+/progress\.md)`", seg)
    res = re.search(r"`(/[^`]+/results\.json)`", seg)
    wt = re.search(r"on your own branch \(`(/[^`]+)`\)", seg)
    assert prog and res and wt, "no swarmtui prompt in the request"
    return {"progress": prog.group(1), "results": res.group(1), "worktree": wt.group(1)}


def steps_done(req: Request) -> int:
    """Tool calls answered since the newest swarmtui prompt (Responses
    ``function_call_output`` items; Gemini ``functionResponse`` parts): a resumed session
    holds the earlier attempt's calls too."""
    seg = req.text.split("You are agent")[-1]
    return seg.count('"function_call_output"') + seg.count('"functionResponse"')


def worker(tid: str, tool: str, arg: str, first: tuple[str, ...] = ()) -> Any:
    """A scripted agent that follows the swarmtui protocol with the CLI's own shell tool: a
    progress line, a committed file, results.json; then a final text. Refused a call, it says
    so and stops (as a model does). ``first``: shell commands it runs before those."""

    def answer(req: Request) -> Reply:
        if any("error" in (fr.get("response") or {}) for fr in function_responses(req)):
            return Reply(text="I was not allowed to run that; stopping.", tokens=STEP_TOKENS)
        paths = prompt_paths(req)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        results = json.dumps({"status": "done", "summary": f"added hello-{tid}.txt",
                              "files_modified": [f"hello-{tid}.txt"]})
        plan = [
            *first,
            f"echo '{now} - started [outputs: 0]' >> {paths['progress']}",
            f"printf 'hello from {tid}\\n' > {paths['worktree']}/hello-{tid}.txt && "
            f"git -C {paths['worktree']} add hello-{tid}.txt && "
            f"git -C {paths['worktree']} commit -q --allow-empty -m 'Add hello'",
            f"printf '%s' '{results}' > {paths['results']}.tmp && "
            f"mv {paths['results']}.tmp {paths['results']}",
        ]
        step = steps_done(req)
        if step < len(plan):
            return Reply(calls=[Call(tool, {arg: plan[step]})], tokens=STEP_TOKENS)
        return Reply(text="Done.", tokens=STEP_TOKENS)

    return answer


def codex_config(exe: str, stub: OpenAIStub, home: Path, **sections: dict[str, Any]) -> Any:
    sections.setdefault("heartbeat", {"progress_interval": "5s", "quiet_after": 3,
                                      "stuck_after": 6})
    sections.setdefault("prices", PRICES)
    cfg = fast_config({"codex": [exe, "exec", "--json", "--skip-git-repo-check",
                                 *codex_args(stub.base_url), "-m", CODEX_MODEL, "-"]},
                      **sections)
    agent = cfg.agents["codex"]
    # The box is the sandbox: inside a container Codex's own leaves .git read-only.
    cfg.agents["codex"] = agent.model_copy(update={
        "adapter": "codex", "env": codex_env(home),
        "permissions": agent.permissions.model_copy(update={"sandbox": True})})
    return cfg


def gemini_config(exe: str, stub: GeminiStub, home: Path, **sections: dict[str, Any]) -> Any:
    sections.setdefault("heartbeat", {"progress_interval": "10s", "quiet_after": 3,
                                      "stuck_after": 6})
    sections.setdefault("prices", PRICES)
    cfg = fast_config({"gemini": [exe, "--output-format", "stream-json", "-m", GEMINI_MODEL]},
                      **sections)
    agent = cfg.agents["gemini"]
    cfg.agents["gemini"] = agent.model_copy(update={
        "adapter": "gemini", "env": gemini_env(home, stub.base_url),
        "permissions": agent.permissions.model_copy(update={"sandbox": True})})
    return cfg


def route(tid: str, *items: Any) -> Route:
    return Route(tid, body_contains(f"# Task {tid}:"), list(items))


def expected_cost(model: str, billed: Tokens) -> float:
    price = PRICES[model]
    return round(((billed.input - billed.cached) * price["input"] + billed.output *
                  price["output"] + billed.cached * price["cache_read"]) / 1e6, 6)


def check_passed(f: Fleet, repo: Path, tid: str, model: str, billed: Tokens) -> None:
    assert (P.worktree_dir(repo, tid, 1) / f"hello-{tid}.txt").read_text() == f"hello from {tid}\n"
    assert any(e.data["status"] == "started" for e in f.of("progress", tid))
    session = f.of("agent_session", tid)
    assert session and session[0].data["session_id"]
    assert f.of("agent_activity", tid)
    t = f.sup.state.tasks[tid]
    assert t.tokens == billed.total, (t.tokens, billed)
    assert t.cost_usd == pytest.approx(expected_cost(model, billed), abs=1e-9)
    exited = f.of("agent_exited", tid)[0].data
    assert set(exited["models"]) == {model}


def test_a_codex_task_passes_with_exact_tokens_and_cost(
        codex: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        openai_stub: OpenAIStub) -> None:
    openai_stub.add_route(route("cx", worker("cx", "exec_command", "cmd")))
    f = start(fleets, git_repo, codex_config(codex, openai_stub, tmp_path / "home"),
              [task("cx", "codex")])
    assert f.wait_done(timeout=120), f.summary()
    check_passed(f, git_repo, "cx", CODEX_MODEL, openai_stub.total_billed())
    # Context fill from Codex's own session file (exec --json does not say it).
    fill = f.of("context_fill", "cx")
    assert fill and fill[-1].data["tokens"] == STEP_TOKENS.input
    assert fill[-1].data["window_from"] == "agent" and fill[-1].data["window"] > 0


def test_a_gemini_task_passes_with_exact_tokens_and_cost(
        gemini: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        gemini_stub: GeminiStub) -> None:
    gemini_stub.add_route(route("gm", worker("gm", "run_shell_command", "command")))
    f = start(fleets, git_repo, gemini_config(gemini, gemini_stub, tmp_path / "home"),
              [task("gm", "gemini")])
    assert f.wait_done(timeout=180), f.summary()
    check_passed(f, git_repo, "gm", GEMINI_MODEL, gemini_stub.total_billed())


def test_a_refused_openai_key_holds_the_codex_agent(
        codex: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        openai_stub: OpenAIStub) -> None:
    openai_stub.add_route(route("k", Fail(401, message="Incorrect API key provided",
                                          code="invalid_api_key", repeat=True)))
    f = start(fleets, git_repo, codex_config(codex, openai_stub, tmp_path / "home"),
              [task("k", "codex")], exit_when_done=False)
    failed = f.wait_kind("attempt_failed", "k", timeout=120)
    assert failed.data["cause"] == "api_auth", failed.data
    assert "OPENAI_API_KEY" in failed.data["reason"]
    assert f.wait_kind("agent_held", timeout=10).data["agent"] == "codex"
    assert len(f.of("attempt_spawned", "k")) == 1


def test_a_spent_gemini_quota_is_a_usage_limit_with_the_fallback_wait(
        gemini: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        gemini_stub: GeminiStub) -> None:
    gemini_stub.add_route(route("q", daily_quota()))
    f = start(fleets, git_repo, gemini_config(gemini, gemini_stub, tmp_path / "home"),
              [task("q", "gemini")], exit_when_done=False)
    limited = f.wait_kind("usage_limited", "q", timeout=120)
    failed = f.wait_kind("attempt_failed", "q", timeout=30)
    assert failed.data["cause"] == "usage_limited" and not failed.data["counts_attempt"]
    assert limited.data["limit_type"] == "quota_no_reset"
    # Gemini never says when a quota resets: the account waits the fallback, then tries.
    assert limited.data["until"] - limited.time == pytest.approx(30 * 60, abs=60)
    spawned = f.of("attempt_spawned", "q")
    assert len(spawned) == 1  # nothing starts before the wait is over


def test_a_follow_up_resumes_the_codex_thread_and_counts_nothing_twice(
        codex: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        openai_stub: OpenAIStub) -> None:
    openai_stub.add_route(route("fu", worker("fu", "exec_command", "cmd")))
    f = start(fleets, git_repo, codex_config(codex, openai_stub, tmp_path / "home"),
              [task("fu", "codex")], exit_when_done=False)
    # Verification starts once results.json says done, while Codex may still be answering its
    # last turn: Codex's tokens are in its exit record, folded with ``agent_exited``, which on
    # a loaded machine comes after ``verify_passed``. Wait for both.
    f.wait_kind("verify_passed", "fu", timeout=120)
    f.wait_event(lambda e: e.kind == "agent_exited" and e.task == "fu" and e.attempt == 1,
                 timeout=120)
    first = f.sup.state.tasks["fu"].tokens
    assert first == openai_stub.total_billed().total
    session = f.of("agent_session", "fu")[0].data["session_id"]
    f.command("send", task="fu", text="Check your work once more and report again.")
    f.wait_event(lambda e: e.kind == "verify_passed" and e.task == "fu" and e.attempt == 2,
                 timeout=120)
    f.wait_event(lambda e: e.kind == "agent_exited" and e.task == "fu" and e.attempt == 2,
                 timeout=120)
    assert f.of("attempt_spawned", "fu")[1].data["resumes"] == session
    # The same thread went on: Codex sent its id with the resumed run's requests.
    last = openai_stub.model_requests()[-1].body
    assert last["client_metadata"]["thread_id"] == session
    # Codex's totals cover the whole thread; each attempt counts only its own run.
    assert f.sup.state.tasks["fu"].tokens == openai_stub.total_billed().total > first


def test_a_codex_usage_limit_resumes_its_thread_when_the_limit_lifts(
        codex: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        openai_stub: OpenAIStub) -> None:
    limit = usage_limit(resets_in=90.0)
    openai_stub.add_route(route("ul", limit, worker("ul", "exec_command", "cmd")))
    # Silence is judged against the supervisor's clock, which this test moves by up to two
    # minutes: intervals long enough that the jump reads as no silence at all.
    cfg = codex_config(codex, openai_stub, tmp_path / "home",
                       heartbeat={"progress_interval": "60s", "quiet_after": 3,
                                  "stuck_after": 6})
    f = start(fleets, git_repo, cfg, [task("ul", "codex")])
    limited = f.wait_kind("usage_limited", "ul", timeout=120)
    failed = f.wait_kind("attempt_failed", "ul", timeout=30)
    assert failed.data["cause"] == "usage_limited" and not failed.data["counts_attempt"]
    assert limited.data["limit_type"] == "usage_limit"
    # To the second, from Codex's session file (its message names only the minute).
    assert limited.data["until"] == limit.extra["resets_at"]
    # Codex names the reset only to the minute: move the supervisor's clock past it rather
    # than wait a minute of real time.
    offset = limited.data["until"] - limited.time + 1.0
    real = f.sup.loop.clock
    f.sup.loop.clock = lambda: real() + offset
    assert f.wait_done(timeout=120), f.summary()
    session = f.of("agent_session", "ul")[0].data["session_id"]
    assert f.of("attempt_spawned", "ul")[1].data["resumes"] == session
    assert openai_stub.model_requests()[-1].body["client_metadata"]["thread_id"] == session
    assert f.sup.state.tasks["ul"].tokens == openai_stub.total_billed().total


def test_doctor_checks_each_configured_cli_against_its_tested_version(
        codex: str, git_repo: Path, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    from swarmtui import cli

    (git_repo / ".swarm").mkdir(exist_ok=True)
    (git_repo / ".swarm" / "config.toml").write_text(
        f'[agents.cx]\ncommand = ["{codex}", "exec", "--json", "-"]\nadapter = "codex"\n'
        f'[agents.old]\ncommand = ["{git_repo}/old-codex", "exec", "--json", "-"]\n'
        'adapter = "codex"\n')
    old = git_repo / "old-codex"  # a stand-in for an older release: it only says its version
    old.write_text("#!/bin/sh\necho 'codex-cli 0.98.1'\n")
    old.chmod(0o755)
    capsys.readouterr()
    cli.main(["doctor", "--json", "--repo", str(git_repo)])
    checks = {c["what"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["agent cx version"] == {"level": "ok", "what": "agent cx version",
                                          "detail": "codex-cli 0.171.0 (tested with 0.171.0)"}
    assert checks["agent old version"]["level"] == "warn"
    assert "older than 0.171.0" in checks["agent old version"]["detail"]


def test_a_gemini_shell_command_outside_the_allow_list_needs_permission_and_retry_grants_it(
        gemini: str, git_repo: Path, fleets: list[Fleet], tmp_path: Path,
        gemini_stub: GeminiStub) -> None:
    gemini_stub.add_route(route("p", worker("p", "run_shell_command", "command")))
    cfg = gemini_config(gemini, gemini_stub, tmp_path / "home")
    # auto_edit with shell rules for the protocol's own commands, but none for git.
    agent = cfg.agents["gemini"]
    cfg.agents["gemini"] = agent.model_copy(update={"permissions": agent.permissions.model_copy(
        update={"sandbox": False, "mode": "acceptEdits",
                "allow": ["Bash(echo:*)", "Bash(printf:*)", "Bash(mv:*)"]})})
    f = start(fleets, git_repo, cfg, [task("p", "gemini")], exit_when_done=False)
    failed = f.wait_kind("attempt_failed", "p", timeout=120)
    assert failed.data["cause"] == "needs_permission", failed.data
    # The chained command was refused for its git part: that is the rule named, not printf's.
    assert failed.data["reason"] == "needs permission: run_shell_command(git)"
    denied = f.of("permission_denied", "p")
    assert denied and denied[0].data["rule"] == "run_shell_command(git)"
    assert not f.of("task_requeued", "p")  # it waits for the operator
    f.command("retry", task="p", allow=["run_shell_command(git)"])
    f.wait_event(lambda e: e.kind == "verify_passed" and e.task == "p" and e.attempt == 2,
                 timeout=120)
    assert (P.worktree_dir(git_repo, "p", 2) / "hello-p.txt").exists()
