"""The TUI's pure parts: readable logs, the bounded tail, rows and alerts, theme files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from swarmtui.model import Event, UsageLimit
from swarmtui.model.attention import need_of
from swarmtui.tui import logfmt
from swarmtui.tui.bindings import FLEET_KEYS, known_ids
from swarmtui.tui.eventfmt import describe
from swarmtui.tui.feed import news_of
from swarmtui.tui.panels import Part, fit
from swarmtui.tui.runview import make_alerts, make_header, make_slots
from swarmtui.tui.table import GAP, layout
from swarmtui.tui.tail import Tail
from swarmtui.tui.themes import (
    SWARM_VARIABLES,
    ThemeFileError,
    load_theme_file,
    load_themes,
    packaged_theme_dir,
    with_swarm_variables,
)
from swarmtui.tui.view import (
    COLUMN_INDEX,
    COLUMNS,
    SORT_MODES,
    context_words,
    make_rows,
    progress_fraction,
)
from tests.test_tui_world import NOW, STREAM_JSON, build_world

REPO_THEMES = Path(__file__).resolve().parent.parent / "themes"


# -- readable logs ------------------------------------------------------------------------------


def test_stream_json_becomes_text_tool_calls_and_results() -> None:
    lines = [ln for obj in STREAM_JSON for ln in logfmt.readable(json.dumps(obj))]
    shown = [(ln.kind, ln.text) for ln in lines]
    assert shown == [
        ("meta", "session started: model claude-sonnet-4, 2 tools"),
        ("text", "I'll start by reading the parser."),
        ("tool", "▸ Read: src/parser.py"),
        ("result", "  ◂ def parse(text):  (+1 lines)"),
        ("tool", "▸ Bash: python -m pytest -q tests/test_parser.py"),
        ("error", "  ◂ error: E AssertionError: expected {'a': 1}"),
        ("text", "The test fails as expected; implementing key = value."),
    ]


def test_final_result_line_is_summarised() -> None:
    line = json.dumps({"type": "result", "subtype": "success", "num_turns": 12,
                       "duration_ms": 182000, "total_cost_usd": 0.4231, "result": "ok"})
    assert logfmt.readable(line) == [logfmt.LogLine("result: success · 12 turns · 3m02s · $0.42",
                                                    "meta")]


def test_other_output_is_raw_without_terminal_escapes() -> None:
    assert logfmt.readable("\x1b[31mred\x1b[0m text\r") == [logfmt.LogLine("red text", "raw")]
    assert logfmt.readable('{"not": "stream-json"}') == [
        logfmt.LogLine('{"not": "stream-json"}', "raw")]
    assert logfmt.readable(json.dumps({"type": "stream_event", "event": {}})) == []


def test_diff_lines_are_classified() -> None:
    kinds = [logfmt.diff_kind(s) for s in ("diff --git a/x b/x", "@@ -1 +1 @@", "+new", "-old",
                                           " context", "+++ b/x")]
    assert kinds == ["file", "hunk", "add", "del", None, "file"]


# -- the bounded tail ---------------------------------------------------------------------------


def test_tail_reads_only_new_complete_lines(tmp_path: Path) -> None:
    f = tmp_path / "output.log"
    tail = Tail(f)
    assert tail.read() == ([], False)  # not there yet
    f.write_text("one\ntw")
    assert tail.read() == (["one"], False)
    with f.open("a") as fh:
        fh.write("o\nthree\n")
    assert tail.read() == (["two", "three"], False)
    assert tail.read() == ([], False)


def test_tail_starts_near_the_end_of_a_big_file(tmp_path: Path) -> None:
    f = tmp_path / "output.log"
    f.write_text("".join(f"line {i}\n" for i in range(10000)))
    lines, _ = Tail(f, initial_bytes=100).read()
    assert lines[-1] == "line 9999"
    assert len(lines) < 15 and all(ln.startswith("line ") for ln in lines)


def test_tail_starts_over_when_the_file_is_replaced_or_truncated(tmp_path: Path) -> None:
    f = tmp_path / "output.log"
    f.write_text("a\nb\n")
    tail = Tail(f)
    assert tail.read() == (["a", "b"], False)
    new = tmp_path / "output.log.tmp"
    new.write_text("capped\n")
    os.replace(new, f)  # what the wrapper does when it caps the log
    assert tail.read() == (["capped"], True)
    f.write_text("")
    assert tail.read() == ([], True)


def test_tail_skips_ahead_on_a_burst(tmp_path: Path) -> None:
    f = tmp_path / "output.log"
    f.write_text("start\n")
    tail = Tail(f, max_read=1000)
    tail.read()
    with f.open("a") as fh:
        fh.write("".join(f"burst {i}\n" for i in range(5000)))
    lines, reset = tail.read()
    assert reset and lines[-1] == "burst 4999" and sum(len(x) + 1 for x in lines) <= 1000


# -- rows, header, slots, alerts ----------------------------------------------------------------


def test_rows_header_and_slots_of_a_recorded_run(tmp_path: Path) -> None:
    w = build_world(tmp_path)
    state = w.store.replay()
    rows = make_rows(state, w.config, NOW)
    cells = {tid: {c.key: cell.text for c, cell in zip(COLUMNS, r.shown(NOW), strict=True)}
             for tid, r in rows.items()}
    assert cells["parser"]["state"] == "running"
    assert cells["parser"]["try"] == "1/3"
    assert cells["parser"]["progress"] == "implementing key = value"
    assert cells["parser"]["age"] == "54s"
    assert cells["parser"]["merge"] == "clean"
    assert cells["docs"]["health"] == "quiet"
    assert cells["flaky"]["progress"] == "retry: verify failed"
    assert cells["cache"]["cost"] == "$1.42"
    assert rows["parser"].cells[COLUMN_INDEX["diff"]].parts[0] == ("+9", "diff--add")
    assert {c["context"] for c in cells.values()} == {""}  # no agent reports its context
    h = make_header(state, w.config, NOW, repo="demo", live=True, read_only=False)
    assert (h.status, h.used, h.max, h.queue, h.elapsed) == ("running", 4, 4, 3, "12m34s")
    assert round(h.cost, 2) == 2.56 and h.budget == 25.0
    state.usage_limits["claude"] = UsageLimit(until=NOW + 600)  # as usage_limited records
    limited = make_header(state, w.config, NOW, repo="demo", live=True, read_only=False)
    assert limited.status == "usage_limited" and limited.status_text.startswith("usage-limited")
    state.usage_limits.clear()
    assert make_header(state, w.config, NOW, repo="demo", live=False,
                       read_only=True).status_text == "no supervisor"
    slots = make_slots(state, w.config)
    assert [(p.role, p.used, p.max, p.queued) for p in slots.pools] == [
        ("worker", 3, 3, 3), ("orchestrator", 1, 1, 0)]
    assert [(n.depth, n.task, n.subtree) for n in slots.tree] == [
        (0, "planner", 2), (1, "planner-api", 0), (1, "planner-db", 0)]
    order = sorted(rows.values(), key=lambda r: r.sort_key("state"))
    assert [r.task for r in order][:4] == ["parser", "docs", "planner", "planner-api"]
    assert set(SORT_MODES) >= {"added", "state", "health", "age", "runtime", "cost", "id"}


def test_context_fill_of_live_agents_with_the_configured_levels(tmp_path: Path) -> None:
    w = build_world(tmp_path)
    w.ev("context_fill", "parser", 1, at=710, tokens=144_000, window=200_000, pct=72.0,
         offset=0)
    w.ev("context_fill", "docs", 1, at=711, tokens=170_000, window=200_000, pct=85.0, offset=0)
    state = w.store.replay()
    rows = make_rows(state, w.config, NOW)
    ctx = COLUMN_INDEX["context"]
    assert (rows["parser"].cells[ctx].text, rows["parser"].cells[ctx].style) == (
        "72%", "health--warn")  # past heartbeat.context_warn (0.6)
    assert rows["docs"].cells[ctx].style == "health--bad"  # past context_act (0.8)
    assert rows["cache"].cells[ctx].text == ""
    assert context_words(state.tasks["parser"]) == "72% of 200k tokens (144k, latest turn)"
    assert context_words(state.tasks["cache"]) == ""


def test_alerts_come_from_the_projection_open_and_newest_first(tmp_path: Path) -> None:
    w = build_world(tmp_path)
    state = w.store.replay()
    alerts = make_alerts(state)
    assert [a.text for a in alerts][:2] == [
        "planner-api-1 is unproductive: progress lines but no new outputs, diff or log output",
        "docs-1 is quiet"]
    stuck = next(a for a in alerts if a.text.startswith("stall-1 is stuck"))
    assert stuck.level == "error" and stuck.bell and not stuck.acked
    w.ev("alert_acked", "stall", at=800, alert=stuck.id, by="cli")
    w.ev("health", "docs", 1, at=801, health="ok")  # the projection resolves docs' alert
    w.ev("health", "docs", 1, at=802, health="quiet")  # and a new one opens
    w.ev("health", "docs", 1, at=803, health="quiet")  # a repeat adds to its count
    after = {a.id: a for a in make_alerts(w.store.replay())}
    assert after[stuck.id].acked
    docs = [a for a in after.values() if a.task == "docs"]
    assert len(docs) == 1 and docs[0].count == 2 and docs[0].id != alerts[1].id


# -- themes -------------------------------------------------------------------------------------


def test_packaged_themes_are_the_documented_copies() -> None:
    """themes/ (documented) and swarmtui/data/themes/ (in the wheel) hold the same files."""
    packaged = {p.name: p.read_bytes() for p in packaged_theme_dir().glob("*.toml")}
    documented = {p.name: p.read_bytes() for p in REPO_THEMES.glob("*.toml")}
    assert packaged == documented
    assert {"swarm-dark.toml", "swarm-light.toml", "swarm-contrast.toml"} <= set(packaged)


def test_bundled_themes_define_every_swarm_variable() -> None:
    themes = load_themes([packaged_theme_dir()])
    assert themes.errors == []
    assert {"swarm-dark", "swarm-light", "swarm-contrast"} <= set(themes.themes)
    assert not themes.themes["swarm-light"].dark
    for t in themes.themes.values():
        assert set(SWARM_VARIABLES) <= set(t.variables), t.name


@pytest.mark.parametrize(("text", "message"), [
    ('name = "x"\n[colors]\nprimary = "nope"\n',
     'key colors.primary: expected a colour such as "#4ea1ff", got \'nope\''),
    ('[colors]\nsecondary = "#ffffff"\n', "key colors.primary: missing"),
    ('[colors]\nprimary = "#ffffff"\n[variables]\nstate-running = 3\n',
     "key variables.state-running: expected a colour"),
    ('dark = "yes"\n[colors]\nprimary = "#ffffff"\n', "key dark: expected true or false"),
    ('[colours]\nprimary = "#ffffff"\n', "key colours: unknown"),
    ('[colors\nprimary = "#fff"\n', "not valid TOML"),
])
def test_theme_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "broken.toml"
    f.write_text(text)
    with pytest.raises(ThemeFileError) as e:
        load_theme_file(f)
    assert str(f) in str(e.value) and message in str(e.value)


def test_a_user_theme_replaces_a_bundled_one_and_gets_missing_variables(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('name = "swarm-dark"\n[colors]\nprimary = "#ff0000"\n')
    (tmp_path / "bad.toml").write_text('[colors]\nprimary = 1\n')
    themes = load_themes([packaged_theme_dir(), tmp_path])
    assert themes.themes["swarm-dark"].primary == "#ff0000"
    assert themes.sources["swarm-dark"] == tmp_path / "mine.toml"
    assert len(themes.errors) == 1 and "bad.toml: key colors.primary" in themes.errors[0]
    filled = with_swarm_variables(themes.themes["swarm-dark"])
    assert set(SWARM_VARIABLES) <= set(filled.variables)


def test_every_binding_has_an_id_and_a_description() -> None:
    ids = [k.id for k in FLEET_KEYS]
    assert len(ids) == len(set(ids)) and "palette" in known_ids()
    assert all(k.description and k.label for k in FLEET_KEYS)
    assert {k.id for k in FLEET_KEYS if k.destructive} == {
        "kill", "merge", "stop", "cancel", "grant", "approve", "reject"}


# -- layout of the table and the bars -----------------------------------------------------------


def _used(widths: list[int]) -> int:
    return 1 + sum(w + GAP for w in widths if w)


def test_columns_fit_the_screen_and_progress_takes_the_spare_width() -> None:
    natural = [21, 9, 3, 16, 3, 6, 6, 32, 26, 12, 4, 3, 7, 5, 13]
    ctx, host = COLUMN_INDEX["context"], COLUMN_INDEX["host"]
    no_ctx = frozenset({ctx, host})  # HOST shows only on a run with [[hosts]]
    wide = layout(natural, 200, no_ctx)
    assert wide[COLUMN_INDEX["progress"]] > 32 and _used(wide) == 200 and wide[ctx] == 0
    at160 = layout(natural, 158, no_ctx)  # long ids never push MERGE off screen
    assert _used(at160) <= 158
    assert at160[COLUMN_INDEX["merge"]] == 13 and at160[COLUMN_INDEX["title"]] < 26
    assert at160[COLUMN_INDEX["progress"]] >= 24  # TITLE, then ROLE give way first
    narrow = layout(natural, 77, no_ctx)  # too narrow for all: LAST PROGRESS reaches the edge
    before = _used(narrow[:COLUMN_INDEX["progress"]])
    assert before + narrow[COLUMN_INDEX["progress"]] + GAP == 77
    assert narrow[COLUMN_INDEX["id"]] == 10  # the ID column shrinks to its floor
    # Once an agent reports its context fill, CTX takes its place (and its gap) from the rest.
    shown = layout(natural, 200, frozenset({host}))
    assert shown[ctx] == 3 and _used(shown) == 200
    assert shown[COLUMN_INDEX["progress"]] == wide[COLUMN_INDEX["progress"]] - 3 - GAP


def test_a_bar_shortens_everything_before_it_leaves_anything_out() -> None:
    parts = [Part([[("a" * 10, "")], [("a" * 4, "")], []], [6, 3]),
             Part([[("status", "")]], []),
             Part([[("b" * 10, "")], []], [5])]
    assert [p.width for p in fit(parts, 40)] == [10, 6, 10]
    assert [p.width for p in fit(parts, 24)] == [4, 6, 10]  # a shortens first
    assert [p.width for p in fit(parts, 12)] == [4, 6]  # then b goes, then a would
    assert [p.width for p in fit(parts, 1)] == [6]  # the status is never left out


def test_progress_fractions() -> None:
    assert progress_fraction("extending fake/docs.txt (part 3/14)") == (3, 14)
    assert progress_fraction("Step 2 of 5: tests") == (2, 5)
    assert progress_fraction("API retry 3/10 (529)") is None
    assert progress_fraction("part 9/3") is None and progress_fraction("part 1/0") is None


def test_what_needs_you_in_order(tmp_path: Path) -> None:
    w = build_world(tmp_path)
    w.ev("permission_denied", "docs", 1, at=500, tool="Bash", rule="Bash(make:*)")
    w.ev("forecast", "cache", 1, at=501, target="conflict", files=["src/cache.py"],
         conflicts_with=[], out_of_scope=[])
    state = w.store.replay()
    needs = {t.id: need_of(t, state, t.spec.agent, NOW) for t in state.tasks.values()}
    assert needs["docs"] is not None and needs["docs"].text == "needs permission: Bash(make:*)"
    assert needs["cache"] is not None and needs["cache"].kind == "conflict"
    assert needs["stall"] is not None and needs["stall"].kind == "dead"
    assert needs["planner-api"] is not None and needs["planner-api"].kind == "quiet"
    assert needs["parser"] is None and needs["old"] is None and needs["flaky"] is None
    ranks = [needs[t].rank for t in ("docs", "cache", "stall", "planner-api")]  # type: ignore
    assert ranks == sorted(ranks) and len(set(ranks)) == 4


def test_toasts_for_new_and_repeated_alerts_only(tmp_path: Path) -> None:
    w = build_world(tmp_path)
    before = make_alerts(w.store.replay())
    w.ev("health", "docs", 1, at=800, health="stuck")  # the same alert again, now stuck
    w.ev("attempt_failed", "parser", 1, at=801, reason="crashed", cause="crashed",
         counts_attempt=True, counts_breaker=True)
    news = news_of(before, make_alerts(w.store.replay()))
    assert [a.text for a in news] == ["docs-1 is stuck", "parser-1 failed: crashed"]
    assert news_of(before, before) == []


def test_events_in_words() -> None:
    def ev(kind: str, **data: object) -> Event:
        return Event.make(seq=1, time=0.0, kind=kind, task="t", attempt=1, data=dict(data))

    assert describe(ev("health", health="stale_result", evidence={
        "waiting_s": 60.2, "note": "passed, waiting to be merged"})) == (
        "health: waiting to merge (waiting for 60s; passed, waiting to be merged)")
    assert describe(ev("attempt_failed", reason="killed by tui", cause="killed",
                       counts_attempt=False, counts_breaker=False)) == (
        "attempt failed: killed by operator: killed by tui (not counted)")
    assert describe(ev("forecast", target="conflict", files=["a.py"],
                       conflicts_with=["b"])) == (
        "forecast: conflict in a.py; conflicts with b")


def test_the_header_says_the_supervisor_crashed_until_a_new_one_resumes() -> None:
    """A run whose supervisor crashed (and none runs now) says so in the header, with the time
    and the exception; once a supervisor resumed the run, the header no longer says it."""
    from datetime import datetime

    from swarmtui.config import config_from_dict
    from swarmtui.model import RunState, RunStatus
    from swarmtui.model.state import Crash
    from swarmtui.tui.runview import make_header

    cfg = config_from_dict({}, "t")
    st = RunState(run=1, status=RunStatus.RUNNING)
    st.last_crash = Crash(1_800_000_000.0, "InjectedFault: fault injected at tick")
    h = make_header(st, cfg, 1_800_000_100.0, repo="r", live=False, read_only=True)
    at = datetime.fromtimestamp(1_800_000_000.0).strftime("%H:%M")
    assert (h.status, h.status_text) == (
        "orphaned", f"supervisor crashed at {at}: InjectedFault: fault injected at tick")
    st.last_crash = Crash(1_800_000_000.0, "InjectedFault: x", resumed=True)
    h = make_header(st, cfg, 1_800_000_100.0, repo="r", live=False, read_only=True)
    assert h.status_text == "no supervisor"
