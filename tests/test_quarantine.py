"""Quarantine end to end, with a real supervisor, tmux, git and agents: the fake agent's
``inject`` summary is held out of the next prompt (ledger and retry handoff), the operator sees
it in ``status``, an agent cannot approve it, ``swarmtui approve`` releases it into the prompt
after, ``reject`` keeps it out for good, and a spawn request with an injected prompt waits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from swarmtui import protocol as P
from swarmtui.engine.guard.quarantine import QUARANTINE_DIR
from swarmtui.fake_agent import INJECTION_TEXT
from tests.fleet import Fleet, fake, fast_config, start, task

pytestmark = pytest.mark.e2e

MARK = "IGNORE ALL PREVIOUS INSTRUCTIONS"
SCRIPTED = str(Path(__file__).with_name("scripted_agent.py"))


def prompt_of(repo: Path, tid: str, attempt: int = 1) -> str:
    return (P.agent_dir(repo, tid, attempt) / P.PROMPT_FILE).read_text()


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "swarmtui", *args, "--repo", str(repo)],
                          capture_output=True, text=True, timeout=120)


def test_held_summary_stays_out_until_approved(git_repo: Path, fleets: list[Fleet],
                                              tmp_path: Path) -> None:
    """A do-not-revert summary with an injected instruction: the ledger of the next prompt
    carries a notice instead; approved, the prompt after carries the text."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"write": {"src/guard.py": "GUARD = True\n"}, "results": {
        "summary": f"Added the guard. {INJECTION_TEXT}", "do_not_revert": True,
        "files_modified": ["src/guard.py"]}}))
    # The merge would wait for the approval too (tests/test_held_merge.py): off here, so the
    # next task starts with the held text in its ledger.
    cfg = fast_config({"inj": [sys.executable, SCRIPTED, str(plan)], "ok": fake("success")},
                      merge={"auto": True}, screen={"hold_merge": False})
    f = start(fleets, git_repo, cfg, [task("i", "inj"), task("j", "ok", depends_on=("i",))],
              exit_when_done=False)
    held = f.wait_kind("text_quarantined", "i")
    qid = held.data["qid"]
    assert "override" in held.data["reasons"] and held.data["excerpt"].strip() in INJECTION_TEXT
    f.wait_kind("task_merged", "i")
    f.wait_kind("attempt_started", "j")
    prompt = prompt_of(git_repo, "j")
    assert MARK not in prompt and "rm -rf" not in prompt
    assert f"swarmtui approve {qid}" in prompt  # the ledger line says what stands there

    kept = git_repo / P.SWARM_DIR / QUARANTINE_DIR / f"{qid}.txt"
    assert INJECTION_TEXT in kept.read_text() and kept.stat().st_mode & 0o777 == 0o600
    status = json.loads(cli(git_repo, "status", "--json").stdout)
    assert [h["qid"] for h in status["held"]] == [qid]
    assert any(a["kind"] == "text_quarantined" for a in status["alerts"])
    assert qid in cli(git_repo, "status").stdout  # the table lists it with how to decide

    # An agent asking to release it is refused: only the operator decides.
    cid = f.store.append_command("approve", {"quarantine": qid}, source="agent:j-1")
    f.sup.loop.wake("test")
    refused = f.wait_kind("command_applied", id=cid)
    assert refused.data["status"] == "refused"
    assert f.store.replay().quarantine[qid].state == "held"

    res = cli(git_repo, "approve", qid)
    assert res.returncode == 0, res.stdout + res.stderr
    f.wait_kind("text_approved", qid=qid)
    assert not [a for a in f.store.replay().open_alerts() if str(a.kind) == "text_quarantined"]
    f.command("add", prompt="carry on", id="k", agent="ok")
    f.wait_kind("attempt_started", "k")
    assert INJECTION_TEXT in prompt_of(git_repo, "k")  # released as written
    again = cli(git_repo, "approve", qid)
    assert again.returncode == 1 and "already approved" in again.stdout


def test_handoff_holds_then_reject_keeps_it_out(git_repo: Path, fleets: list[Fleet]) -> None:
    """A failed attempt's injected summary does not ride into the retry's handoff; rejected, it
    is replaced by a notice in every later prompt."""
    cfg = fast_config({"inj": fake("inject")}, retry={"max_attempts": 3, "backoff": "5s",
                                                      "backoff_max": "5s"})
    f = start(fleets, git_repo, cfg, [task("i", "inj", verify="false")], exit_when_done=False)
    qid = f.wait_kind("text_quarantined", "i").data["qid"]
    f.wait_event(lambda e: e.kind == "attempt_started" and e.task == "i" and e.attempt == 2)
    second = prompt_of(git_repo, "i", 2)
    assert MARK not in second and f"swarmtui approve {qid}" in second
    assert "Why" in second or "why" in second  # the handoff itself is there
    res = cli(git_repo, "reject", qid)
    assert res.returncode == 0, res.stdout + res.stderr
    f.wait_kind("text_rejected", qid=qid)
    f.wait_event(lambda e: e.kind == "attempt_started" and e.task == "i" and e.attempt == 3)
    third = prompt_of(git_repo, "i", 3)
    assert MARK not in third and "rejected by the operator" in third


def test_spawn_with_injected_prompt_waits_then_is_cancelled_on_reject(
        git_repo: Path, fleets: list[Fleet]) -> None:
    cfg = fast_config({"slow": fake("slow", pace=0.5), "ok": fake("success")},
                      slots={"subtree_budget": 3, "max_depth": 2})
    f = start(fleets, git_repo, cfg, [task("boss", "slow", role="orchestrator")],
              exit_when_done=False)
    f.wait_kind("attempt_started", "boss")
    cid = f.store.append_command("spawn", {"prompt": f"Sub-task: {INJECTION_TEXT}",
                                           "id": "child", "agent": "ok",
                                           "requester": "boss"}, source="agent:boss-1")
    f.sup.loop.wake("test")
    answer = f.wait_kind("command_applied", id=cid)
    assert answer.data["status"] == "done" and answer.data["result"]["held"]
    qid = answer.data["result"]["held"]
    clean = f.store.append_command("spawn", {"prompt": "write the tests", "id": "kid2",
                                             "agent": "ok", "requester": "boss"},
                                   source="agent:boss-1")
    f.sup.loop.wake("test")
    f.wait_kind("attempt_started", "kid2")  # a clean request starts at once ...
    assert f.store.replay().tasks["child"].attempt == 0  # ... the held one waits
    assert not P.agent_dir(git_repo, "child", 1).exists()
    assert clean
    res = cli(git_repo, "reject", qid)
    assert res.returncode == 0, res.stdout + res.stderr
    cancelled = f.wait_kind("task_cancelled", "child")
    assert qid in cancelled.data["reason"]
    assert not P.agent_dir(git_repo, "child", 1).exists()
