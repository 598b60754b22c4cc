"""swarmtui report: the figures of a hand-computed run, the timeline (terminal and SVG), the
text, JSON and HTML renderings, the CLI command, and one real headless run checked against
its own log.

The hand-computed run (times in seconds after T0, max_agents 3):

    orch-1    orchestrator  0 -> 40   $1.00  10,000 tokens  passed 41, merged 45
    crashy-1  worker        0 -> 10   $0.30   3,000 tokens  crashed at 10
    crashy-2  worker       12 -> 30   $0.50   5,000 tokens  passed 31, reviewed 35 ($0.05),
                                                            merged 50
    killme-1  worker        5 -> 22   $0.20   2,000 tokens  killed at 20, exited 22;
                                                            the task is cancelled at 55
    run: started 0, finished 60
"""

from __future__ import annotations

import argparse
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from swarmtui.cli.common import Invocation
from swarmtui.cli.report_cmd import cmd_plan, cmd_report, register
from swarmtui.config import Config, config_from_dict
from swarmtui.errors import InputError, NoRunError
from swarmtui.model import CAUSE_POLICY, Cause, Event
from swarmtui.report import (
    CauseClass,
    Outcome,
    Report,
    assign_lanes,
    build_report,
    classify,
    plain,
    report_html,
    report_json,
    report_text,
    terminal_timeline,
    timeline_svg,
)
from swarmtui.store import Store

T0 = 1_800_000_000.0
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("pwned")</script> & \x1b]0;owned\x07 done'


def spec(tid: str, role: str = "worker", agent: str = "claude") -> dict[str, Any]:
    return {"id": tid, "title": f"do {tid}", "prompt": f"do {tid}", "role": role,
            "agent": agent}


def failed(cause: Cause, reason: str) -> dict[str, Any]:
    pol = CAUSE_POLICY[cause]
    return {"cause": str(cause), "reason": reason, "counts_attempt": pol.counts_attempt,
            "counts_breaker": pol.counts_breaker}


def spawned(tid: str, n: int) -> dict[str, Any]:
    return {"window": f"{tid}-{n}", "worktree": f"/wt/{tid}-{n}", "branch": f"swarm/{tid}-{n}",
            "agent": "claude"}


def exited(cost: float, tokens: int, models: dict[str, Any], how: str = "exited",
           code: int | None = 0) -> dict[str, Any]:
    return {"how": how, "code": code, "cost_usd": cost, "tokens": tokens, "models": models}


def merged(tid: str, n: int) -> dict[str, Any]:
    return {"branch": f"swarm/{tid}-{n}", "target": "main", "commit": "c0ffee" * 6}


# (seconds after T0, kind, task, attempt, data)
RUN: list[tuple[float, str, str | None, int | None, dict[str, Any]]] = [
    (0, "run_started", None, None, {"run": 1, "repo": "/repo", "base": "b4se", "target": "main"}),
    (0, "task_added", "orch", None, {"spec": spec("orch", "orchestrator")}),
    (0, "task_added", "crashy", None, {"spec": spec("crashy")}),
    (0, "task_added", "killme", None, {"spec": spec("killme")}),
    (0, "attempt_spawned", "orch", 1, spawned("orch", 1)),
    (0, "attempt_spawned", "crashy", 1, spawned("crashy", 1)),
    (5, "attempt_spawned", "killme", 1, spawned("killme", 1)),
    (10, "agent_exited", "crashy", 1, exited(0.30, 3000, {"small-model": {
        "input": 2500, "output": 500, "cost_usd": 0.30}}, code=1)),
    (10, "attempt_failed", "crashy", 1, failed(Cause.CRASHED, "crashed: exit 1")),
    (10, "task_requeued", "crashy", 1, {"reason": "crashed", "cause": "crashed"}),
    (12, "attempt_spawned", "crashy", 2, spawned("crashy", 2)),
    (20, "attempt_failed", "killme", 1, failed(Cause.KILLED, "killed by cli")),
    (22, "agent_exited", "killme", 1, exited(0.20, 2000, {"small-model": {
        "input": 1500, "output": 500, "cost_usd": 0.20}}, how="terminated", code=None)),
    (30, "agent_exited", "crashy", 2, exited(0.50, 5000, {"small-model": {
        "input": 4000, "output": 1000, "cost_usd": 0.50}})),
    (30, "results", "crashy", 2, {"status": "done", "summary": HOSTILE}),
    (30, "verify_started", "crashy", 2, {"command": "true"}),
    (31, "verify_passed", "crashy", 2, {"code": 0}),
    (35, "review", "crashy", 2, {"ok": True, "verdict": "approve", "cost_usd": 0.05,
                                 "tokens_in": 1000, "tokens_out": 200, "model": "rev"}),
    (40, "agent_exited", "orch", 1, exited(1.00, 10000, {
        "big-model": {"input": 7000, "output": 2500, "cost_usd": 1.00},
        "haiku-x": {"input": 500}})),
    (40, "results", "orch", 1, {"status": "done", "summary": "planned it"}),
    (40, "verify_started", "orch", 1, {"command": "true"}),
    (41, "verify_passed", "orch", 1, {"code": 0}),
    (45, "task_merged", "orch", 1, merged("orch", 1)),
    (50, "task_merged", "crashy", 2, merged("crashy", 2)),
    (55, "task_cancelled", "killme", None, {"reason": "cancelled by cli"}),
    (60, "run_finished", None, None, {"ok": True}),
]


def config() -> Config:
    return config_from_dict({"slots": {"max_agents": 3, "reserve": 0,
                                       "pools": {"worker": 3, "orchestrator": 1}}}, "test")


def events(rows: list[tuple[float, str, str | None, int | None, dict[str, Any]]] = RUN
           ) -> list[Event]:
    return [Event.make(i + 1, T0 + t, kind, task, attempt, data, run=1)
            for i, (t, kind, task, attempt, data) in enumerate(rows)]


@pytest.fixture
def report() -> Report:
    return build_report(events(), config())


# -- the figures -------------------------------------------------------------------------------


def test_every_figure_of_the_hand_computed_run(report: Report) -> None:
    r = report
    assert (r.run, r.repo, r.target, r.status, r.live) == (1, "/repo", "main", "finished",
                                                          False)
    assert r.wall_s == pytest.approx(60)
    assert [a.id for a in r.attempts] == ["crashy-1", "orch-1", "killme-1", "crashy-2"]
    # spend: agents $2.00, one review $0.05
    assert r.agent_cost_usd == pytest.approx(2.00)
    assert r.reviews.cost_usd == pytest.approx(0.05)
    assert r.cost_usd == pytest.approx(2.05)
    assert r.tokens == 20_000
    # two tasks merged: the whole spend over them
    assert r.merged == 2
    assert r.states == {"cancelled": 1, "merged": 2}
    assert r.cost_per_merged_task == pytest.approx(2.05 / 2)
    # waste: the crashed and the killed attempt
    assert r.waste_ids == ("crashy-1", "killme-1")
    assert r.waste.cost_usd == pytest.approx(0.50)
    assert r.waste.tokens == 5000
    assert r.waste.agent_s == pytest.approx(10 + 17)
    assert r.waste_share == pytest.approx(0.25)
    # spend by role
    assert set(r.by_role) == {"orchestrator", "worker"}
    orch, work = r.by_role["orchestrator"], r.by_role["worker"]
    assert (orch.cost_usd, orch.tokens, orch.attempts, orch.agent_s) == pytest.approx(
        (1.00, 10000, 1, 40))
    assert (work.cost_usd, work.tokens, work.attempts, work.agent_s) == pytest.approx(
        (1.00, 10000, 3, 10 + 17 + 18))
    # by model; haiku-x reported tokens, no cost, and has no price
    assert r.by_model["small-model"].cost_usd == pytest.approx(1.00)
    assert r.by_model["small-model"].input == 8000
    assert r.by_model["big-model"].output == 2500
    assert r.unpriced_models == ("haiku-x",)
    # retries and failures by cause
    assert r.retries_by_cause == {"crashed": 1}
    assert r.retries == 1
    assert r.failures_by_cause == {"crashed": 1, "killed": 1}
    # slots: 2 at 0, 3 from 5 to 10, 2 to 12, 3 to 22, 2 to 30, 1 to 40
    assert r.slots.peak == 3
    assert r.slots.peak_at == pytest.approx(T0 + 5)
    assert r.slots.busy_s == pytest.approx(40)
    assert r.slots.mean == pytest.approx(85 / 60)
    assert r.slots.mean_busy == pytest.approx(85 / 40)
    assert r.slots.max_agents == 3
    # wall against agent time
    assert r.agent_s == pytest.approx(85)
    assert r.parallelism == pytest.approx(85 / 60)
    # reviews
    assert (r.reviews.count, r.reviews.tokens_in, r.reviews.tokens_out) == (1, 1000, 200)
    assert r.reviews.by_verdict == {"approve": 1}


def test_per_task_and_per_attempt(report: Report) -> None:
    r = report
    orch, crashy, killme = r.task("orch"), r.task("crashy"), r.task("killme")
    assert (orch.state, orch.result_attempt, orch.lead_time_s) == ("merged", 1, 45)
    assert (crashy.state, crashy.result_attempt, crashy.lead_time_s) == ("merged", 2, 50)
    assert (killme.state, killme.result_attempt, killme.lead_time_s) == ("cancelled", None, 50)
    assert crashy.cost_usd == pytest.approx(0.80)
    assert crashy.review_cost_usd == pytest.approx(0.05)
    assert crashy.tokens == 8000
    assert [a.attempt for a in crashy.attempts] == [1, 2]

    c1, c2, k1, o1 = (r.attempt(x) for x in ("crashy-1", "crashy-2", "killme-1", "orch-1"))
    assert (c1.outcome, c1.cause, c1.cause_class, c1.retry_after) == (
        Outcome.FAILED, Cause.CRASHED, CauseClass.AGENT, None)
    assert (c1.start - T0, c1.end - T0, c1.exited) == (0, 10, True)
    assert c1.style == "bar--failed-agent"
    assert (c2.outcome, c2.retry_after, c2.merged_at) == (Outcome.MERGED, "crashed", T0 + 50)
    assert c2.summary == HOSTILE
    assert (k1.outcome, k1.cause, k1.cause_class, k1.exit_how) == (
        Outcome.KILLED, Cause.KILLED, None, "terminated")
    assert (k1.start - T0, k1.end - T0) == (5, 22)  # the slot is held until the exit
    assert (o1.outcome, o1.role, o1.tokens, o1.priced) == (Outcome.MERGED, "orchestrator",
                                                          10000, True)
    assert [(m.task, m.attempt, m.time - T0) for m in r.merges] == [("orch", 1, 45),
                                                                    ("crashy", 2, 50)]


def test_lanes_are_greedy_by_start_and_as_many_as_the_peak(report: Report) -> None:
    assert report.lanes == (("crashy-1", "crashy-2"), ("orch-1",), ("killme-1",))
    assert len(report.lanes) == report.slots.peak
    assert assign_lanes([("a", 0, 5), ("b", 5, 9), ("c", 1, 2), ("d", 2, 3)]) == [
        ["a", "b"], ["c", "d"]]


def test_the_same_figures_through_a_real_store(tmp_path: Path, report: Report) -> None:
    with Store(tmp_path / "state.db") as store:
        for t, kind, task, attempt, data in RUN:
            store.append_event(kind, task, attempt, data, run=1, at=T0 + t)
        again = build_report(store.events(0, run=1), config())
        folded = store.replay(1).tasks["crashy"].cost_usd
    assert report_json(again) == report_json(report)
    assert folded == pytest.approx(report.task("crashy").cost_usd
                                   + report.task("crashy").review_cost_usd)


def test_every_cause_has_an_outcome() -> None:
    for cause in Cause:
        outcome, cls = classify(cause)
        assert (outcome == Outcome.FAILED) == (cls is not None), cause
    assert classify(Cause.LOST) == (Outcome.LOST, None)
    assert classify(Cause.ORPHANED) == (Outcome.LOST, None)
    assert classify(Cause.VERIFY_FAILED) == (Outcome.FAILED, CauseClass.CHECK)
    assert classify(Cause.API_OVERLOADED) == (Outcome.FAILED, CauseClass.API)
    assert classify(Cause.NEEDS_PERMISSION) == (Outcome.FAILED, CauseClass.SETUP)
    assert classify(Cause.STOPPED) == (Outcome.KILLED, None)


def test_a_replaced_pass_is_discarded_and_an_open_attempt_runs_to_now() -> None:
    rows: list[tuple[float, str, str | None, int | None, dict[str, Any]]] = [
        (0, "run_started", None, None, {"run": 1, "repo": "/r", "base": "b", "target": "main"}),
        (0, "task_added", "t", None, {"spec": spec("t")}),
        (0, "task_added", "u", None, {"spec": spec("u")}),
        (0, "attempt_spawned", "t", 1, spawned("t", 1)),
        (4, "agent_exited", "t", 1, exited(0.1, 100, {})),
        (4, "verify_started", "t", 1, {}),
        (5, "verify_passed", "t", 1, {}),
        (6, "task_requeued", "t", 1, {"reason": "retry by cli", "manual": True}),
        (7, "attempt_spawned", "t", 2, spawned("t", 2)),
        (8, "attempt_spawned", "u", 1, spawned("u", 1)),
        (9, "agent_exited", "u", 1, {"how": "exited", "code": 0, "tokens": 40}),
    ]
    r = build_report(events(rows), config(), now=T0 + 20)
    t1, t2, u1 = r.attempt("t-1"), r.attempt("t-2"), r.attempt("u-1")
    assert t1.outcome == Outcome.DISCARDED and t1.wasted
    assert (t2.outcome, t2.retry_after, t2.exited, t2.end) == (Outcome.UNFINISHED, "operator",
                                                              False, T0 + 20)
    assert r.live and r.ended_at == T0 + 20
    assert r.retries_by_cause == {"operator": 1}
    assert r.waste_ids == ("t-1",)
    assert (u1.priced, u1.tokens) == (False, 40)  # tokens without a cost
    assert r.cost_per_merged_task is None
    assert r.task("t").result_attempt is None
    assert r.task("t").lead_time_s == 20  # still under way: up to the report's end


# -- the timeline --------------------------------------------------------------------------------


def test_svg_has_one_bar_per_attempt_with_a_tooltip(report: Report) -> None:
    svg = timeline_svg(report)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    bars = [e for e in root.iter(f"{SVG}rect") if "data-attempt" in e.attrib]
    assert sorted(e.get("data-attempt", "") for e in bars) == sorted(
        a.id for a in report.attempts)
    for bar in bars:
        a = report.attempt(bar.get("data-attempt") or "")
        assert f"bar--{a.outcome}" in (bar.get("class") or "") or a.outcome == Outcome.FAILED
        assert a.style in (bar.get("class") or "")
        title = bar.find(f"{SVG}title")
        assert title is not None and title.text and title.text.startswith(a.id)
    widths = {e.get("data-attempt"): float(e.get("width") or 0) for e in bars}
    assert widths["orch-1"] > widths["crashy-2"] > widths["crashy-1"]  # 40 s > 18 s > 10 s
    paths = list(root.iter(f"{SVG}path"))
    merges = [p.get("data-attempt") for p in paths if p.get("class") == "merge-marker"]
    retries = [p.get("data-attempt") for p in paths if p.get("class") == "retry-marker"]
    assert merges == ["orch-1", "crashy-2"]
    assert retries == ["crashy-2"]
    axis = [e for e in root.iter(f"{SVG}g") if e.get("class") == "axis"]
    assert axis and any(t.text == "30s" for t in axis[0].iter(f"{SVG}text"))
    # the hostile summary is in a tooltip, as text
    assert "<script" not in svg
    tip = next(b for b in bars if b.get("data-attempt") == "crashy-2").find(f"{SVG}title")
    assert tip is not None and '<script>alert("pwned")</script>' in (tip.text or "")


@pytest.mark.parametrize("width", [40, 120])
def test_terminal_timeline_fits_its_width(report: Report, width: int) -> None:
    lines = terminal_timeline(report, width)
    text = plain(lines)
    assert all(len(line) <= width for line in text), text
    lanes = [line for line in text if re.match(r"\s*\d+ │", line)]
    assert len(lanes) == 3
    assert all(len(line) == width for line in lanes)
    styles = {style for line in lines for _, style in line}
    assert {"bar--merged", "bar--failed-agent", "bar--killed", "mark--merge", "axis",
            "lane"} <= styles
    # each segment's text is in the style it names
    for line in lines:
        for seg, style in line:
            if style == "bar--merged":
                assert set(seg) - set("█") <= set("orchashy-12↻…"), seg
    legend = "\n".join(text[-2:])
    assert "merged" in legend and "killed" in legend


def test_terminal_timeline_at_120_labels_the_bars(report: Report) -> None:
    text = plain(terminal_timeline(report, 120))
    assert text[0].startswith("1 │crashy-1") and "↻crashy-2" in text[0]
    assert text[1].startswith("2 │orch-1█")
    assert "killme-1░" in text[2]
    assert text[3].count("◆") == 2  # the merges, on their own row
    assert "0" in text[5] and "30s" in text[5]
    # orch-1 runs 0..40 of 60 s: two thirds of the plot
    bar = text[1][3:]
    assert bar.rstrip(" ◆").count("█") + len("orch-1") == pytest.approx(117 * 40 / 60, abs=2)


def test_no_attempts_no_bars() -> None:
    rows = [*RUN[:4], (1, "run_finished", None, None, {"ok": True})]
    r = build_report(events(rows), config())
    assert plain(terminal_timeline(r, 40)) == ["no attempts in this run"]
    root = ET.fromstring(timeline_svg(r))
    assert not [e for e in root.iter(f"{SVG}rect") if "data-attempt" in e.attrib]
    assert r.slots.peak == 0 and r.parallelism == 0


# Work after run_finished: a task added later and a resolver, both after the run "ended".
AFTER: list[tuple[float, str, str | None, int | None, dict[str, Any]]] = [
    *RUN,
    (70, "task_added", "late-addition-task-parser", None,
     {"spec": spec("late-addition-task-parser")}),
    (72, "attempt_spawned", "late-addition-task-parser", 1,
     spawned("late-addition-task-parser", 1)),
    (75, "task_added", "late-addition-task-planner", None,
     {"spec": spec("late-addition-task-planner", "resolver")}),
    (76, "attempt_spawned", "late-addition-task-planner", 1,
     spawned("late-addition-task-planner", 1)),
    (110, "agent_exited", "late-addition-task-parser", 1, exited(0.10, 1000, {})),
    (110, "attempt_failed", "late-addition-task-parser", 1, failed(Cause.CRASHED, "crashed")),
    (118, "agent_exited", "late-addition-task-planner", 1, exited(0.10, 1000, {})),
    (118, "attempt_failed", "late-addition-task-planner", 1, failed(Cause.CRASHED, "crashed")),
]


def test_attempts_after_run_finished_are_on_the_timeline_text_and_html() -> None:
    """A task added after run_finished and a resolver get their own bars, where they ran (not
    squeezed into the last cell), in the text and the HTML alike."""
    r = build_report(events(AFTER), config())
    assert r.wall_s == pytest.approx(118) and not r.live
    text = plain(terminal_timeline(r, 120))
    lanes = [line for line in text if re.match(r"\s*\d+ │", line)]
    cells = 120 - 4
    late = [line for line in lanes if "▒" in line[4 + cells * 72 // 118:]]
    assert late, text  # the late attempts' bars lie in the last part of the plot
    plot = "\n".join(line[4:] for line in lanes)
    assert "late-ad" in plot
    root = ET.fromstring(timeline_svg(r))
    bars = {e.get("data-attempt"): float(e.get("x", "0")) for e in root.iter(f"{SVG}rect")
            if "data-attempt" in e.attrib}
    assert set(bars) >= {"late-addition-task-parser-1", "late-addition-task-planner-1"}
    assert bars["late-addition-task-planner-1"] > bars["orch-1"]
    assert bars["late-addition-task-planner-1"] > bars["late-addition-task-parser-1"]
    assert "late-addition-task-planner-1" in report_html(r)


def test_an_attempt_still_open_after_run_finished_makes_the_report_live() -> None:
    r = build_report(events(AFTER[:-2]), config(), now=T0 + 130)
    assert r.live and r.wall_s == pytest.approx(130)


@pytest.mark.parametrize("width", [80, 60])
def test_text_report_fits_the_terminal_and_tells_ids_apart(width: int) -> None:
    r = build_report(events(AFTER), config())
    text = report_text(r, width)
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert not too_wide, too_wide
    rows = [line for line in text.splitlines() if line.startswith("  late") and "+" in line]
    assert len(rows) == 2 and rows[0].split()[0] != rows[1].split()[0], rows


# -- text, JSON, HTML ----------------------------------------------------------------------------


def test_text_report_states_the_figures(report: Report) -> None:
    text = report_text(report, 100)
    assert "per merged    $1.0250 (2 merged)" in text
    assert "waste         $0.5000 (25% of agent spend)" in text
    assert "crashy-1, killme-1" in " ".join(text.split())  # a long line wraps at 100
    assert "retries       1: crashed 1" in text
    assert "peak 3 of 3" in text
    assert "parallelism 1.42x" in text
    assert "no price for  haiku-x" in text
    assert "\x1b" not in text
    wide = report_text(report, 160)
    assert '<script>alert("pwned")</script> & \\x1b]0;owned\\x07 done' in wide


def test_json_is_stable_and_documented(report: Report) -> None:
    a = json.dumps(report_json(report), sort_keys=True)
    b = json.dumps(report_json(build_report(events(), config())), sort_keys=True)
    assert a == b
    obj = json.loads(a)
    assert set(obj) == {"schema", "run", "totals", "cost_per_merged_task_usd", "waste",
                        "by_role", "by_model", "by_account", "by_cli", "unpriced_models",
                        "failures_by_cause",
                        "retries", "retries_by_cause", "slots", "time", "reviews", "tasks",
                        "attempts", "merges", "timeline"}
    assert obj["schema"] == 1
    assert set(obj["attempts"][0]) == {
        "id", "task", "attempt", "role", "agent", "start", "end", "exited", "duration_s",
        "outcome", "cause", "cause_class", "style", "reason", "exit_how", "tokens", "cost_usd",
        "priced", "cost_estimated", "models", "summary", "retry_after", "merged_at", "lane",
        "wasted", "account", "cli"}
    assert obj["waste"] == {"cost_usd": 0.5, "tokens": 5000, "agent_s": 27.0,
                            "attempts": ["crashy-1", "killme-1"], "share": 0.25}
    assert obj["slots"]["peak"] == 3 and obj["time"]["parallelism"] == round(85 / 60, 4)
    assert obj["cost_per_merged_task_usd"] == 1.025
    assert obj["timeline"]["lanes"] == [["crashy-1", "crashy-2"], ["orch-1"], ["killme-1"]]
    from swarmtui.report import render

    for key in obj:  # every top-level key is documented
        assert f"``{key}``" in (render.__doc__ or ""), key


def test_html_escapes_hostile_agent_text(report: Report) -> None:
    page = report_html(report)
    assert page.startswith("<!doctype html>")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert "\x1b" not in page and "\\x1b]0;owned" in page
    # self-contained: no fetches, no scripts, the SVG inline
    for ref in ("src=", "href=", "@import", "url("):
        assert ref not in page
    assert "default-src 'none'" in page
    start = page.index("<svg")
    svg = page[start:page.index("</svg>") + len("</svg>")]
    assert len([e for e in ET.fromstring(svg).iter(f"{SVG}rect")
                if "data-attempt" in e.attrib]) == 4
    assert "$1.0250" in page and "1.42x" in page


# -- the CLI ---------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    """What swarmtui.cli.parser.build_parser gives register: ``add`` and the parent parsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--repo")
    common.add_argument("--config")
    js = argparse.ArgumentParser(add_help=False)
    js.add_argument("--json", action="store_true")
    p = argparse.ArgumentParser(prog="swarmtui")
    sub = p.add_subparsers(dest="command")

    def add(name: str, fn: Any, text: str | None, parents: tuple[Any, ...] = (common,)
            ) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, parents=list(parents), help=text)
        sp.set_defaults(fn=fn)
        return sp

    register(add, common, js)
    return p


def test_register_adds_both_commands() -> None:
    p = _parser()
    a = p.parse_args(["report", "--json", "--run", "2", "--html", "x.html", "--repo", "/r"])
    assert (a.fn, a.json, a.run, a.html, a.repo) == (cmd_report, True, 2, "x.html", "/r")
    a = p.parse_args(["plan", "t.toml", "--turns", "4", "--model", "m", "--json"])
    assert (a.fn, a.tasks, a.turns, a.model, a.json) == (cmd_plan, "t.toml", 4.0, "m", True)


def _store_run(repo: Path) -> None:
    (repo / ".swarm").mkdir(parents=True, exist_ok=True)
    with Store(repo / ".swarm" / "state.db") as store:
        for t, kind, task, attempt, data in RUN:
            store.append_event(kind, task, attempt, data, run=1, at=T0 + t)


def test_cmd_report_text_json_html(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _store_run(git_repo)
    p = _parser()
    assert cmd_report(Invocation(p.parse_args(["report", "--repo", str(git_repo), "--json"]))) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["waste"]["attempts"] == ["crashy-1", "killme-1"]
    assert cmd_report(Invocation(p.parse_args(["report", "--repo", str(git_repo)]))) == 0
    assert "per merged" in capsys.readouterr().out
    out = git_repo / "out" / "r.html"
    assert cmd_report(Invocation(p.parse_args(["report", "--repo", str(git_repo), "--html",
                                        str(out)]))) == 0
    assert capsys.readouterr().out.strip() == str(out.resolve())
    assert "&lt;script&gt;" in out.read_text()
    with pytest.raises(InputError):
        cmd_report(Invocation(p.parse_args(["report", "--repo", str(git_repo), "--run", "7"])))


def test_cmd_report_without_a_run_exits_3(git_repo: Path) -> None:
    with pytest.raises(NoRunError) as e:
        cmd_report(Invocation(_parser().parse_args(["report", "--repo", str(git_repo)])))
    assert e.value.exit_code == 3


# -- a real run ------------------------------------------------------------------------------


@pytest.mark.e2e
def test_report_of_a_real_headless_run(git_repo: Path, fleets: list[Any],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from swarmtui.fake_agent import verify_command_for
    from tests.fleet import fake, fast_config, start, task

    cfg = fast_config({"ok": fake("success"), "crash": fake("crash", "--until-attempt", "1")})
    f = start(fleets, git_repo, cfg, [
        task("good", "ok", verify=verify_command_for("success", "good")),
        task("bad", "crash", verify=verify_command_for("crash", "bad")),
        task("later", "ok", verify=verify_command_for("success", "later"),
             depends_on=("good",))])
    assert f.wait_done()
    log = f.store.events(0, run=f.sup.run_id)
    r = build_report(log, cfg)
    spawned_ids = [f"{e.task}-{e.attempt}" for e in log if e.kind == "attempt_spawned"]
    assert sorted(a.id for a in r.attempts) == sorted(spawned_ids)
    assert len(set(spawned_ids)) == len(spawned_ids)  # each attempt appears once
    assert r.attempt("bad-1").outcome == Outcome.FAILED
    assert r.attempt("bad-1").cause == Cause.CRASHED
    assert "bad-1" in r.waste_ids and r.waste.attempts == 1
    assert r.attempt("bad-2").retry_after == "crashed"
    assert r.retries_by_cause == {"crashed": 1}
    assert {a.id: a.outcome for a in r.attempts if not a.wasted} == {
        "good-1": Outcome.PASSED, "bad-2": Outcome.PASSED, "later-1": Outcome.PASSED}
    state = f.store.replay(f.sup.run_id)
    assert {t.id: t.state for t in r.tasks} == {t.id: str(t.state)
                                                  for t in state.tasks.values()}
    for a in r.attempts:  # every attempt's span is the log's spawn and exit
        ex = [e for e in log if e.kind == "agent_exited" and f"{e.task}-{e.attempt}" == a.id]
        sp = [e for e in log if e.kind == "attempt_spawned" and f"{e.task}-{e.attempt}" == a.id]
        assert a.exited and (a.start, a.end) == (sp[0].time, ex[0].time)
    assert r.attempt("later-1").start >= r.attempt("good-1").end  # it waited for its dependency
    assert 1 <= r.slots.peak <= cfg.slots.max_agents
    assert len(r.lanes) == r.slots.peak
    assert r.agent_s == pytest.approx(sum(a.duration_s for a in r.attempts))
    assert r.wall_s > 0 and r.parallelism is not None
    root = ET.fromstring(timeline_svg(r))
    assert len([e for e in root.iter(f"{SVG}rect") if "data-attempt" in e.attrib]) == len(
        spawned_ids)
    # and through the command, from the store alone
    args = _parser().parse_args(["report", "--repo", str(git_repo), "--json"])
    assert cmd_report(Invocation(args)) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["waste"]["attempts"] == ["bad-1"]
    assert [a["id"] for a in obj["attempts"]] == [a.id for a in r.attempts]
