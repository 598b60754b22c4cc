"""Reading an attempt's files (engine.ingest, runtime.files): bounded, never following a link,
never opening a FIFO or device, re-reading a rewritten progress file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarmtui import protocol as P
from swarmtui.engine.runtime import ingest
from swarmtui.engine.runtime.files import Refused, open_under, read_small
from swarmtui.engine.runtime.ingest import AttemptFiles
from swarmtui.model.kinds import Refusal

AID = "t-1"


@pytest.fixture
def swarm(tmp_path: Path) -> Path:
    root = tmp_path / ".swarm"
    (root / P.AGENTS_DIR / AID).mkdir(parents=True)
    return root


def adir(swarm: Path) -> Path:
    return swarm / P.AGENTS_DIR / AID


def line(text: str) -> str:
    return f"2026-01-01T00:00:00Z - {text}\n"


def test_progress_is_read_incrementally_and_only_whole_lines(swarm: Path) -> None:
    f = AttemptFiles(swarm, AID)
    prog = adir(swarm) / P.PROGRESS_FILE
    prog.write_text(line("one") + "2026-01-01T00:00:01Z - half")
    items = f.new_progress()
    assert [i.status for i in items] == ["one"] and items[0].n == 1
    with prog.open("a") as fh:
        fh.write(" done [outputs: 3]\n" + line("three"))
    items = f.new_progress()
    assert [(i.status, i.outputs, i.n) for i in items] == [("half done", 3, 2), ("three", None, 3)]
    assert items[-1].offset == prog.stat().st_size
    assert f.new_progress() == []


def test_a_rewritten_progress_file_is_read_again_from_its_start(swarm: Path) -> None:
    f = AttemptFiles(swarm, AID)
    prog = adir(swarm) / P.PROGRESS_FILE
    prog.write_text(line("step 0"))
    assert [i.status for i in f.new_progress()] == ["step 0"]
    prog.write_text(line("step 1"))  # same length, different bytes: ">" instead of ">>"
    items = f.new_progress()
    assert [i.status for i in items] == ["step 1"] and items[0].reread and items[0].n == 2
    prog.write_text(line("s2"))  # shorter
    assert [i.status for i in f.new_progress()] == ["s2"]
    prog.write_text(line("a much longer step three than before"))  # longer
    assert [i.status for i in f.new_progress()] == ["a much longer step three than before"]


def test_resume_continues_after_the_recorded_offset(swarm: Path) -> None:
    prog = adir(swarm) / P.PROGRESS_FILE
    prog.write_text(line("one") + line("two"))
    first = AttemptFiles(swarm, AID)
    items = first.new_progress()
    with prog.open("a") as fh:
        fh.write(line("three"))
    second = AttemptFiles(swarm, AID)  # a restarted supervisor
    second.resume(items[-1].n, items[-1].offset)
    assert [(i.status, i.n) for i in second.new_progress()] == [("three", 3)]


def test_a_flood_of_progress_lines_is_coalesced(swarm: Path) -> None:
    prog = adir(swarm) / P.PROGRESS_FILE
    prog.write_text("".join(line(f"l{i}") for i in range(500)))
    items = AttemptFiles(swarm, AID).new_progress()
    assert len(items) == ingest.PROGRESS_LINES_EMITTED
    assert items[0].skipped == 500 - ingest.PROGRESS_LINES_EMITTED and items[-1].n == 500
    assert items[-1].status == "l499"


def test_lines_read_late_are_not_folded_at_a_line_a_second(swarm: Path) -> None:
    """The flood rule counts time, not only lines: a loop that read the file late (a long
    queue, a loaded box) gets every line written at up to a line a second since its last read
    to the end; a flood within that time is still folded, and never more than the cap."""
    prog = adir(swarm) / P.PROGRESS_FILE
    prog.write_text("".join(line(f"l{i}") for i in range(120)))
    f = AttemptFiles(swarm, AID)
    f.progress_since = 1000.0
    items = f.new_progress(now=1000.0 + 150)  # 120 lines in 150 s: slow, only read late
    assert [i.status for i in items] == [f"l{i}" for i in range(120)]
    assert items[0].skipped == 0 and f.progress_since == 1150.0
    read_to = items[-1].offset
    with prog.open("a") as fh:
        fh.write("".join(line(f"m{i}") for i in range(120)))
    items = f.new_progress(now=1150.0 + 10)  # 120 lines in 10 s: a flood
    assert len(items) == ingest.PROGRESS_LINES_EMITTED and items[-1].n == 240
    f.rollback_progress(120, read_to)  # the store refused them
    assert f.progress_since == 1150.0  # what may become events is counted from before
    with prog.open("a") as fh:
        fh.write("".join(line(f"x{i}") for i in range(3000)))
    g = AttemptFiles(swarm, AID)
    g.progress_since = 0.0
    assert len(g.new_progress(now=100_000.0)) == ingest.PROGRESS_LINES_MAX


def test_a_runaway_line_without_newline_cannot_wedge_reading(swarm: Path) -> None:
    prog = adir(swarm) / P.PROGRESS_FILE
    prog.write_bytes(b"x" * (ingest.LINE_CAP * 2))
    items = AttemptFiles(swarm, AID).new_progress()
    assert len(items) == 1 and len(items[0].status) <= ingest.STATUS_CHARS


@pytest.mark.parametrize("kind", ["symlink-file", "symlink-dir", "fifo", "device", "dir"])
def test_what_is_not_a_regular_file_is_refused(swarm: Path, tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(line("not yours"))
    target = adir(swarm) / P.PROGRESS_FILE
    if kind == "symlink-file":
        target.symlink_to(outside)
    elif kind == "symlink-dir":
        other = tmp_path / "elsewhere"
        other.mkdir()
        (other / P.PROGRESS_FILE).write_text(line("also not yours"))
        for p in adir(swarm).iterdir():
            p.unlink()
        adir(swarm).rmdir()
        adir(swarm).symlink_to(other)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        target.symlink_to("/dev/zero")
    else:
        target.mkdir()
    start = time.monotonic()
    with pytest.raises(Refused):
        AttemptFiles(swarm, AID).new_progress()
    assert time.monotonic() - start < 1.0  # a FIFO with no writer never blocks the reader


def test_results_over_the_cap_are_refused_without_reading_them(swarm: Path) -> None:
    res = adir(swarm) / P.RESULTS_FILE
    with res.open("wb") as fh:
        fh.truncate(ingest.RESULTS_CAP + 1)  # sparse: the cap is checked on the size
    with pytest.raises(Refused, match="cap"):
        AttemptFiles(swarm, AID).results(time.time_ns())


def test_results_are_taken_only_once_complete(swarm: Path) -> None:
    f = AttemptFiles(swarm, AID)
    res = adir(swarm) / P.RESULTS_FILE
    res.write_text("")  # truncated by `cat >`, not yet written
    now = time.time_ns()
    assert f.results(now).wait  # invalid but fresh: wait, do not call it invalid
    res.write_text(json.dumps({"status": "done", "summary": "ok"}))
    seen = f.results(now)
    assert seen is not None and seen.wait  # valid but just written: let it settle
    later = now + ingest.RESULTS_SETTLE_NS * 2 + 10**9
    seen = f.results(later)
    assert seen is not None and seen.results is not None and seen.results.summary == "ok"
    assert f.results(later) is None  # taken once


def test_invalid_results_that_stay_invalid_are_reported(swarm: Path) -> None:
    f = AttemptFiles(swarm, AID)
    (adir(swarm) / P.RESULTS_FILE).write_text("{not json")
    late = time.time_ns() + ingest.RESULTS_INVALID_GRACE_NS * 2
    seen = f.results(late)
    assert seen is not None and "not valid JSON" in seen.invalid


def test_final_read_after_exit_does_not_wait(swarm: Path) -> None:
    (adir(swarm) / P.RESULTS_FILE).write_text(json.dumps({"status": "done"}))
    seen = AttemptFiles(swarm, AID).results(time.time_ns(), final=True)
    assert seen is not None and seen.results is not None


def test_dotdot_and_absolute_paths_are_refused(swarm: Path) -> None:
    for rel in ("../x", "/etc/passwd", ""):
        with pytest.raises(Refused):
            open_under(swarm, rel)
    assert read_small(swarm, f"{P.AGENTS_DIR}/{AID}/missing", cap=10) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=20), st.integers(min_value=1, max_value=5))
def test_every_appended_line_is_counted_once(tmp_path_factory: pytest.TempPathFactory,
                                             texts: list[str], chunks: int) -> None:
    root = tmp_path_factory.mktemp("p") / ".swarm"
    (root / P.AGENTS_DIR / AID).mkdir(parents=True)
    prog = root / P.AGENTS_DIR / AID / P.PROGRESS_FILE
    lines = [line(t.replace("\n", " ").replace("\r", " ") or "-") for t in texts]
    f = AttemptFiles(root, AID)
    seen = 0
    step = max(1, len(lines) // chunks)
    for i in range(0, len(lines), step):
        with prog.open("a", encoding="utf-8", errors="surrogatepass") as fh:
            fh.write("".join(lines[i:i + step]))
        seen += len(f.new_progress())
    assert seen == len(lines)  # a timestamped line is a heartbeat even with no words


def _results(swarm: Path, obj: dict[str, object]) -> Path:
    path = adir(swarm) / P.RESULTS_FILE
    path.write_text(json.dumps(obj))
    old = time.time() - 5
    os.utime(path, (old, old))  # settled: complete by its age
    return path


def test_results_of_another_user_are_refused(swarm: Path) -> None:
    """Only swarmtui's own user writes below .swarm (agents run as it): a results.json owned by
    anyone else was put there by someone else and is not believed."""
    if os.geteuid() != 0:
        pytest.skip("giving a file away needs root")
    path = _results(swarm, {"status": "done", "summary": "not mine"})
    os.chown(path, 65534, 65534)
    f = AttemptFiles(swarm, AID)
    with pytest.raises(Refused) as e:
        f.results(time.time_ns())
    assert e.value.refusal == Refusal.NOT_OWNED and "uid 65534" in str(e.value)
    assert f.results_refusal is not None and f.results_refusal.refusal == Refusal.NOT_OWNED


def test_results_that_name_another_attempt_are_refused(swarm: Path) -> None:
    _results(swarm, {"status": "done", "summary": "x", "agent_id": "other-3"})
    f = AttemptFiles(swarm, AID)
    with pytest.raises(Refused) as e:
        f.results(time.time_ns())
    assert e.value.refusal == Refusal.WRONG_AGENT and "other-3" in str(e.value)
    assert f.results_refusal is not None and AID in f.results_refusal.why
    # Its own id (the protocol's optional key) is fine, and not kept as an unknown key.
    _results(swarm, {"status": "done", "summary": "x", "agent_id": AID})
    seen = AttemptFiles(swarm, AID).results(time.time_ns())
    assert seen is not None and seen.results is not None and seen.results.extra == {}


def test_results_through_a_linked_folder_are_refused(swarm: Path, tmp_path: Path) -> None:
    """The attempt's folder itself replaced by a link to another attempt's: refused, not read
    (results are read only from the attempt's own folder)."""
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / P.RESULTS_FILE).write_text('{"status": "done"}')
    folder = adir(swarm)
    folder.rmdir()
    folder.symlink_to(other)
    with pytest.raises(Refused) as e:
        AttemptFiles(swarm, AID).results(time.time_ns())
    assert e.value.refusal == Refusal.LINK


def test_a_new_progress_line_costs_one_open_and_a_rewrite_is_still_caught(
        swarm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from swarmtui.engine.runtime import files

    opens: list[str] = []
    real = files.open_under

    def counted(root: Path, rel: str | Path) -> int:
        opens.append(str(rel))
        return real(root, rel)

    monkeypatch.setattr(files, "open_under", counted)
    f = AttemptFiles(swarm, AID)
    prog = adir(swarm) / P.PROGRESS_FILE
    prog.write_text(line("one"))
    assert [i.status for i in f.new_progress()] == ["one"] and len(opens) == 1
    with prog.open("a") as fh:
        fh.write(line("two"))
    assert [i.status for i in f.new_progress()] == ["two"] and len(opens) == 2
    assert f.new_progress() == [] and len(opens) == 3  # an idle look: one open too
    prog.write_text(line("one") + line("TWO"))  # same size; the bytes before the offset differ
    items = f.new_progress()
    assert [i.status for i in items] == ["one", "TWO"] and items[0].reread
