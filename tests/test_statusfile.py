"""The status file's pieces, in process: the template gives byte for byte what the log's answer
prints, and every reason to refuse a file is honoured (the end-to-end tests with a real
supervisor are in test_status_file.py)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from swarmtui import protocol as P
from swarmtui import statusfile
from swarmtui.cli.quick import parse
from swarmtui.engine.run.runconfig import config_of_run
from swarmtui.engine.run.statusview import valid_until, view
from swarmtui.engine.run.statuswriter import code_identity, document
from swarmtui.model import RunState
from swarmtui.runlock import RunLock
from tests.test_tui_world import NOW, World


def state_of(world: World) -> RunState:
    """The recorded run, with a forecast made on a known target commit and a usage limit."""
    world.ev("forecast", "parser", 1, at=710, target="conflict", files=["src/parser.py"],
             conflicts_with=[], out_of_scope=[], head="h" * 40, target_commit="a" * 40)
    world.ev("usage_limited", at=720, until=NOW + 3600, account="", limit_type="five_hour")
    return world.store.replay()


@pytest.mark.parametrize("tip", [None, "a" * 40, "b" * 40])
def test_the_template_filled_is_the_logs_answer_byte_for_byte(world: World,
                                                              tip: str | None) -> None:
    st = state_of(world)
    cfg = config_of_run(st.settings, world.config)
    obj, anchors = view(st, cfg, NOW)
    want = json.dumps(statusfile.finish(obj, anchors, live=True, repo=str(world.repo), tip=tip,
                                        now=NOW + 42.5), sort_keys=True)
    obj, anchors = view(st, cfg, NOW)
    text, rows = statusfile.template(obj, anchors)
    got = statusfile.fill(text, rows, repo=str(world.repo), tip=tip, now=NOW + 42.5)
    assert got == want
    assert "\\u0000" not in got
    stale = {r["id"]: (r["forecast"] or {}).get("stale") for r in json.loads(got)["tasks"]}
    assert stale["parser"] is (tip == "b" * 40)


def test_valid_until_is_the_first_usage_limit_to_lapse(world: World) -> None:
    st = state_of(world)
    assert valid_until(st, NOW) == NOW + 3600
    assert valid_until(st, NOW + 3600) is None


@pytest.fixture
def live_file(world: World) -> Any:
    """A status file for the world's run as this process's supervisor would write it, with
    this process holding the run lock; yields (head, lock)."""
    st = state_of(world)
    cfg = config_of_run(st.settings, world.config)
    lock = RunLock(world.repo / P.SWARM_DIR / P.SUPERVISOR_LOCK)
    assert lock.acquire()
    head, obj, anchors = document(st, cfg, time.time(), code=code_identity(), vouched=[])
    head["valid_until"] = None  # the world's clock is in the past
    assert statusfile.write(world.repo / P.SWARM_DIR, head, obj, anchors)
    got = statusfile.read(world.repo)
    assert got is not None
    yield got[0], lock
    lock.release()


def test_a_file_as_new_as_the_log_answers(world: World, live_file: Any) -> None:
    got = statusfile.fresh_json(world.repo, None)
    assert got is not None
    obj = json.loads(got)
    assert obj["run"]["supervisor"] is True and obj["run"]["repo"] == str(world.repo)
    assert obj["run"]["last_seq"] == world.store.last_seq()


def test_a_file_behind_the_log_is_waited_for_then_left_to_the_log(
        world: World, live_file: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No supervisor answers the nudge here: after ``WAIT_S`` the log must answer."""
    monkeypatch.setattr(statusfile, "WAIT_S", 0.2)
    world.ev("dispatch_paused", by="cli")
    started = time.monotonic()
    assert statusfile.fresh_json(world.repo, None) is None
    assert time.monotonic() - started >= 0.2


def test_each_reason_to_refuse_a_file(world: World, live_file: Any, tmp_path: Path) -> None:
    head, lock = live_file
    pid = os.getpid()
    assert statusfile.usable(head, None, pid)
    assert not statusfile.usable(head, None, pid + 1)  # written by another process
    assert not statusfile.usable({**head, "zone": [0, 0, 0, ["XYZ", "XYZ"], "XYZ"]}, None, pid)
    assert not statusfile.usable({**head, "valid_until": time.time() - 1}, None, pid)
    assert not statusfile.usable({**head, "format": statusfile.FORMAT + 1}, None, pid)
    cfg = tmp_path / "config.toml"
    cfg.write_text("[slots]\nmax_agents = 2\n")
    assert not statusfile.usable(head, cfg, pid)  # a config the supervisor never loaded
    vouched = {**head, "vouched": [statusfile.identity(cfg)]}
    assert statusfile.usable(vouched, cfg, pid)
    cfg.write_text("[slots]\nmax_agents = 30\n")  # changed since: it may not load any more
    assert not statusfile.usable(vouched, cfg, pid)
    rel, size, mtime = head["code"]["files"][0]
    changed = {**head["code"], "files": [[rel, size, mtime + 1]]}
    assert not statusfile.usable({**head, "code": changed}, None, pid)  # other code now
    lock.release()
    assert statusfile.fresh_json(world.repo, None) is None  # no supervisor holds the run


def test_writing_never_follows_a_link_nor_grows_past_the_bound(
        world: World, live_file: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    head, _ = live_file
    st = world.store.replay()
    obj, anchors = view(st, config_of_run(st.settings, world.config), NOW)
    path = world.repo / P.SWARM_DIR / statusfile.FILE
    elsewhere = tmp_path / "elsewhere.json"
    path.unlink()
    path.symlink_to(elsewhere)
    assert statusfile.write(world.repo / P.SWARM_DIR, head, obj, anchors)
    assert not path.is_symlink() and not elsewhere.exists()  # the link was replaced
    monkeypatch.setattr(statusfile, "MAX_BYTES", 1000)
    obj, anchors = view(st, config_of_run(st.settings, world.config), NOW)
    assert not statusfile.write(world.repo / P.SWARM_DIR, head, obj, anchors)
    assert not path.exists()  # an old file is not left to answer


def test_only_the_plain_forms_of_status_take_the_quick_path() -> None:
    assert parse([]) == (False, None, None)
    assert parse(["--json", "--repo", "/r", "--config=c.toml"]) == (True, "/r", "c.toml")
    assert parse(["--repo=/r", "--repo", "/s"]) == (False, "/s", None)  # the last, as argparse
    for other in (["--js"], ["-h"], ["--repo"], ["--repo", "--json"], ["extra"], ["--repo="]):
        assert parse(other) is None


def test_the_quick_path_loads_neither_the_model_nor_the_engine() -> None:
    """What `status` imports before it knows whether the file answers: the standard library,
    the file's reader and the text table; never pydantic, the model, the config, the engine."""
    from tests.test_layers import modules_after_import

    loaded = modules_after_import("swarmtui.cli", "swarmtui.cli.quick", "swarmtui.statusfile",
                                  "swarmtui.statustext", "swarmtui.gitview", "swarmtui.nudge",
                                  "swarmtui.configpath", "swarmtui.runlock")
    heavy = sorted(m for m in loaded if m.split(".")[0] in ("pydantic", "textual", "rich")
                   or m.startswith(("swarmtui.model", "swarmtui.engine", "swarmtui.config.",
                                    "swarmtui.store", "swarmtui.cli.common", "swarmtui.cli.parser"))
                   or m in ("swarmtui.config", "typing"))
    assert heavy == []


def test_the_answer_from_the_file_loads_no_costly_module(world: World, live_file: Any) -> None:
    """The whole quick path, in a fresh interpreter: it answers from the file, and neither
    pathlib, json, re, subprocess nor socket (each costs more to import than the answer's own
    work at 500 tasks) was loaded on the way."""
    import subprocess
    import sys

    code = ("import sys\nfrom swarmtui.cli import main\n"
            f"rc = main(['status', '--json', '--repo', {str(world.repo)!r}])\n"
            "print(' '.join(sorted(sys.modules)), file=sys.stderr)\nsys.exit(rc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stderr.split())
    assert "swarmtui.statusfile" in loaded and "swarmtui.store" not in loaded  # from the file
    costly = {"pathlib", "json", "re", "subprocess", "socket", "typing", "urllib.parse",
              "sqlite3", "hashlib", "enum"}
    assert sorted(costly & loaded) == []
    assert json.loads(done.stdout)["run"]["supervisor"] is True
