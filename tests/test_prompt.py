"""Tests for swarmtui.engine.attempts.prompt: the assembled prompt and the retry handoff."""

from __future__ import annotations

from typing import Any

from swarmtui.engine.attempts.prompt import Handoff, render_handoff, render_prompt
from swarmtui.model import TaskSpec
from swarmtui.protocol import HANDOFF_HEADING

PATHS = {"progress": "/repo/.swarm/agents/t7-2/progress.md",
         "results": "/repo/.swarm/agents/t7-2/results.json"}


def spec(**kw: Any) -> TaskSpec:
    d: dict[str, Any] = {"id": "t7", "title": "Add the parser", "role": "worker",
                         "agent": "claude",
                         "prompt": "  Write a parser for progress lines.\nKeep it pure.  \n"}
    d.update(kw)
    return TaskSpec(**d)


def test_prompt_has_task_protocol_verify_and_scope() -> None:
    """The prompt carries the task, both protocol paths, the verify command and the scope."""
    out = render_prompt(spec(verify="pytest -q tests/test_parse.py",
                             files=("src/parse.py", "tests/**")), 2, PATHS)
    assert "# Task t7: Add the parser" in out
    assert "Write a parser for progress lines.\nKeep it pure." in out
    assert PATHS["progress"] in out and PATHS["results"] in out
    assert "$SWARM_PROGRESS_FILE" in out and "$SWARM_RESULTS_FILE" in out
    assert "agent `t7-2`" in out
    assert "    pytest -q tests/test_parse.py\n" in out
    assert "`src/parse.py`, `tests/**`" in out
    assert HANDOFF_HEADING not in out
    assert out.endswith("\n") and not out.endswith("\n\n")
    # The task comes before the protocol.
    assert out.index("# Task t7") < out.index("## How to report")


def test_prompt_without_verify_or_scope_says_so() -> None:
    """No verify command and no scope are stated explicitly, not left out silently."""
    out = render_prompt(spec(), 1, PATHS)
    assert "There is no automatic check" in out
    assert "No file scope was declared" in out
    assert "accepted only when" not in out


def test_role_and_rules_come_first_when_given() -> None:
    """Role text and shared rules precede the task; blank ones are omitted."""
    out = render_prompt(spec(role="reviewer"), 1, PATHS, role_text="  Review carefully.\n",
                        rules_text="Never force-push.")
    assert out.startswith("## Your role: reviewer\n\nReview carefully.\n")
    assert out.index("## Shared rules") < out.index("# Task t7")
    assert "Never force-push." in out
    bare = render_prompt(spec(), 1, PATHS, role_text="   \n", rules_text="")
    assert "## Your role" not in bare and "## Shared rules" not in bare
    assert bare.startswith("# Task t7: Add the parser")


def test_prompt_with_handoff_carries_everything() -> None:
    """A retry's prompt contains the handoff heading, reason, note, summary, progress tail,
    verify tail, diff stat and previous branch, after the protocol."""
    h = Handoff(previous_attempt=1, reason="stuck: no progress for 3 intervals",
                previous_branch="swarm/t7-1",
                progress_tail=["2025-01-01T00:00:00Z - reading", "2025-01-01T00:05:00Z - lost"],
                summary="parsed half the format", diff_stat=" src/parse.py | 10 +++++",
                verify_tail="FAILED test_parse.py::test_z\n1 failed", note="use the regex")
    out = render_prompt(spec(verify="pytest"), 2, PATHS, handoff=h)
    assert HANDOFF_HEADING in out
    assert out.index("## How to report") < out.index(HANDOFF_HEADING)
    assert "Attempt 1 did not finish the task" in out
    assert "stuck: no progress for 3 intervals" in out
    assert "`swarm/t7-1`" in out
    assert "### Note from the operator\n\nuse the regex" in out
    assert "### Its own summary\n\nparsed half the format" in out
    assert "    2025-01-01T00:00:00Z - reading\n    2025-01-01T00:05:00Z - lost" in out
    assert "     src/parse.py | 10 +++++" in out
    assert "    FAILED test_parse.py::test_z\n    1 failed" in out


def test_minimal_handoff_omits_empty_sections() -> None:
    """A handoff with only a reason has no empty subsections; a missing reason reads unknown."""
    out = render_handoff(Handoff(previous_attempt=3, reason="", previous_branch="swarm/x-3"))
    assert out.startswith(HANDOFF_HEADING + "\n")
    assert "Why: unknown." in out
    assert "swarm/x-3" in out
    assert "###" not in out
