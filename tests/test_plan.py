"""swarmtui plan: parallelism under the slot budget and the scope locks, dependency depth,
overlapping pairs, and the cost estimate with and without prices, on real task files."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import pytest

from swarmtui.cli.common import Invocation
from swarmtui.cli.report_cmd import cmd_plan
from swarmtui.cli.session import load_tasks
from swarmtui.config import Config, config_from_dict
from swarmtui.engine.review.fit import estimate_tokens, render
from swarmtui.errors import TaskFileError
from swarmtui.model import TaskSpec
from swarmtui.report.plan import (
    PlanOptions,
    plan_json,
    plan_tasks,
    plan_text,
    read_declared_files,
)
from tests.conftest import git

PROMPT = "x" * 400  # 100 tokens by the estimate
SOURCE = "def f():\n    return 1\n" * 40  # 880 characters


def toml_value(v: Any) -> str:
    return json.dumps(v)


def write_tasks(path: Path, tasks: list[dict[str, Any]]) -> Path:
    out = []
    for t in tasks:
        out.append("[[task]]")
        out += [f"{k} = {toml_value(v)}" for k, v in t.items()]
        out.append("")
    path.write_text("\n".join(out))
    return path


def make_config(**extra: Any) -> Config:
    data: dict[str, Any] = {
        "slots": {"max_agents": 4, "reserve": 1, "pools": {"worker": 3, "orchestrator": 1}},
        "agents": {"tool": {"command": ["tool", "--model", "mini-1"]},
                   "bare": {"command": ["bare-agent"]}},
    }
    data.update(extra)
    return config_from_dict(data, "test-config")


TASKS: list[dict[str, Any]] = [
    {"id": "a", "prompt": PROMPT, "files": ["src/x.py"]},
    {"id": "b", "prompt": PROMPT, "files": ["src/x.py", "docs/b.md"]},
    {"id": "c", "prompt": PROMPT, "files": ["src/**"]},
    {"id": "d", "prompt": PROMPT, "files": ["docs/d.md"]},
    {"id": "e", "prompt": PROMPT, "depends_on": ["d"], "agent": "tool"},
    {"id": "f", "prompt": PROMPT, "role": "orchestrator", "agent": "bare"},
]


def load(path: Path, config: Config) -> list[TaskSpec]:
    return load_tasks(path.parent, config, str(path))


@pytest.fixture
def repo(git_repo: Path) -> Path:
    (git_repo / "src").mkdir()
    (git_repo / "src" / "x.py").write_text(SOURCE)
    (git_repo / "docs").mkdir()
    (git_repo / "docs" / "d.md").write_text("# d\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "sources")
    return git_repo


def test_parallelism_under_slots_and_scope_locks(tmp_path: Path) -> None:
    config = make_config()
    tasks = load(write_tasks(tmp_path / "tasks.toml", TASKS), config)
    pl = plan_tasks(tasks, config)
    # 3 slots for normal priority (4 agents, 1 reserved); a holds src/x.py, so b and c wait;
    # e waits for d; f is the one orchestrator.
    assert pl.rounds == (("a", "d", "f"), ("b", "e"), ("c",))
    assert pl.max_parallel == 3
    assert (pl.bounds.slots, pl.bounds.scope, pl.bounds.dependencies) == (3, 4, 5)
    assert pl.limited_by == ("slots",)
    assert pl.never_start == ()
    assert (pl.max_agents, pl.reserve) == (4, 1)


def test_scope_locks_bind_when_slots_are_plenty(tmp_path: Path) -> None:
    config = make_config(slots={"max_agents": 8, "reserve": 0, "pools": {"worker": 8}})
    tasks = load(write_tasks(tmp_path / "t.toml", [
        {"id": "one", "prompt": "p", "files": ["shared.txt", "one/**"]},
        {"id": "two", "prompt": "p", "files": ["shared.txt"]},
        {"id": "three", "prompt": "p", "files": ["*.txt"]},
        {"id": "four", "prompt": "p", "files": ["four/**"]},
    ]), config)
    pl = plan_tasks(tasks, config)
    assert pl.rounds == (("one", "four"), ("two",), ("three",))
    assert pl.max_parallel == 2 and pl.limited_by == ("scope locks",)
    assert [(o.a, o.b, o.patterns) for o in pl.overlaps] == [
        ("one", "two", ("shared.txt", "shared.txt")),
        ("one", "three", ("shared.txt", "*.txt")),
        ("two", "three", ("shared.txt", "*.txt")),
        ("three", "four", ("*.txt", "four/**")),  # "*" crosses "/": four/x.txt may match both
    ]


def test_high_priority_tasks_may_use_the_reserve(tmp_path: Path) -> None:
    config = make_config(slots={"max_agents": 3, "reserve": 1, "reserve_priority": 5,
                                "pools": {"worker": 3}})
    path = write_tasks(tmp_path / "t.toml", [
        {"id": f"t{i}", "prompt": "p", "priority": 5 if i < 3 else 0} for i in range(4)])
    pl = plan_tasks(load(path, config), config)
    assert pl.rounds[0] == ("t0", "t1", "t2")  # the three urgent ones take all three slots
    assert pl.rounds[1:] == (("t3",),)
    # without the priority, only two at once
    path = write_tasks(tmp_path / "u.toml", [{"id": f"t{i}", "prompt": "p"} for i in range(4)])
    assert plan_tasks(load(path, config), config).max_parallel == 2


def test_pools_limit_a_role(tmp_path: Path) -> None:
    config = make_config()
    path = write_tasks(tmp_path / "t.toml", [
        {"id": f"o{i}", "prompt": "p", "role": "orchestrator"} for i in range(3)])
    pl = plan_tasks(load(path, config), config)
    assert pl.rounds == (("o0",), ("o1",), ("o2",))
    assert pl.max_parallel == 1 and pl.bounds.slots == 1 and pl.limited_by == ("slots",)


def test_dependency_depth_and_longest_chain(tmp_path: Path) -> None:
    config = make_config(slots={"max_agents": 8, "reserve": 0, "pools": {"worker": 8}})
    path = write_tasks(tmp_path / "t.toml", [
        {"id": "base", "prompt": "p"},
        {"id": "mid", "prompt": "p", "depends_on": ["base"]},
        {"id": "side", "prompt": "p", "depends_on": ["base"]},
        {"id": "top", "prompt": "p", "depends_on": ["mid", "side"]},
        {"id": "alone", "prompt": "p"},
    ])
    pl = plan_tasks(load(path, config), config)
    assert pl.depth == 3
    assert pl.longest_chain == ("base", "mid", "top")
    assert pl.rounds == (("base", "alone"), ("mid", "side"), ("top",))
    assert pl.limited_by == ("dependencies",)


def test_cost_estimate_with_prices(repo: Path) -> None:
    config = make_config(prices={"claude-sonnet-4-5": {"input": 3.0},
                                 "mini-1": {"input": 0.5}})
    tasks = load(write_tasks(repo / "tasks.toml", TASKS), config)
    picked = read_declared_files(repo, tasks)
    assert [p for p, _ in picked["a"].files] == ["src/x.py"]
    assert [p for p, _ in picked["c"].files] == ["src/x.py"]
    assert [p for p, _ in picked["b"].files] == ["src/x.py"]  # docs/b.md does not exist
    pl = plan_tasks(tasks, config, picked=picked, options=PlanOptions(turns=10))
    est = {e.id: e for e in pl.estimates}
    with_file = math.ceil(len(render(PROMPT, [("src/x.py", SOURCE)])) / 4)
    assert with_file == estimate_tokens(render(PROMPT, [("src/x.py", SOURCE)]))
    a = est["a"]
    assert (a.model, a.prompt_tokens, a.files, a.tokens) == ("claude-sonnet-4-5", 100, 1,
                                                             with_file)
    assert a.file_tokens == with_file - 100
    assert a.estimated_tokens == with_file * 10
    assert a.cost_usd == pytest.approx(with_file * 10 * 3.0 / 1e6)
    d = est["d"]
    assert (d.files, d.tokens) == (1, estimate_tokens(render(PROMPT, [("docs/d.md", "# d\n")])))
    e = est["e"]  # its agent's command names --model mini-1
    assert (e.model, e.tokens) == ("mini-1", 100)
    assert e.cost_usd == pytest.approx(1000 * 0.5 / 1e6)
    f = est["f"]  # a generic agent that names no model
    assert (f.model, f.cost_usd, f.note) == (None, None, "no model")
    assert pl.unknown_models == ("bare",)
    assert pl.missing_prices == ()
    assert pl.priced_tasks == 5
    assert pl.total_cost_usd == pytest.approx(sum(x.cost_usd or 0 for x in pl.estimates))
    assert pl.total_tokens == sum(x.estimated_tokens for x in pl.estimates)
    text = plan_text(pl, "tasks.toml")
    assert "no model known for agents bare" in text
    assert "x 10 turns" in text


def test_cost_estimate_without_prices_names_the_models(tmp_path: Path) -> None:
    config = make_config()
    tasks = load(write_tasks(tmp_path / "tasks.toml", TASKS), config)
    pl = plan_tasks(tasks, config, options=PlanOptions(turns=4))
    assert pl.total_cost_usd is None and pl.priced_tasks == 0
    assert pl.missing_prices == ("claude-sonnet-4-5", "mini-1")
    assert {e.id: e.note for e in pl.estimates}["a"] == "no price"
    assert all(e.estimated_tokens == e.tokens * 4 for e in pl.estimates)
    assert all(e.files == 0 for e in pl.estimates)  # no files read without a repository
    text = plan_text(pl)
    assert "no price for model claude-sonnet-4-5" in text
    assert "no price for model mini-1" in text
    assert "no task priced" in text
    # one model for every task, and an overhead per turn
    pl = plan_tasks(tasks, config, options=PlanOptions(turns=2, model="mini-1", overhead=50))
    assert {e.model for e in pl.estimates} == {"mini-1"}
    assert {e.tokens for e in pl.estimates} == {150}
    assert pl.unknown_models == ()


def test_plan_json_is_stable(tmp_path: Path) -> None:
    config = make_config(prices={"mini-1": {"input": 1.0}})
    tasks = load(write_tasks(tmp_path / "tasks.toml", TASKS), config)
    a = json.dumps(plan_json(plan_tasks(tasks, config)), sort_keys=True)
    b = json.dumps(plan_json(plan_tasks(tasks, config)), sort_keys=True)
    assert a == b
    obj = json.loads(a)
    assert set(obj) == {"schema", "tasks", "slots", "max_parallel", "bounds", "limited_by",
                        "rounds", "never_start", "depth", "longest_chain", "overlaps",
                        "estimate"}
    assert obj["slots"] == {"max_agents": 4, "reserve": 1, "usable": 3,
                            "pools": {"worker": 3, "orchestrator": 1}}
    assert obj["rounds"] == [["a", "d", "f"], ["b", "e"], ["c"]]
    assert obj["overlaps"][0] == {"a": "a", "b": "b", "patterns": ["src/x.py", "src/x.py"]}
    assert obj["estimate"]["priced_tasks"] == 1
    assert set(obj["estimate"]["tasks"][0]) == {
        "id", "role", "agent", "model", "prompt_tokens", "file_tokens", "files", "tokens",
        "estimated_tokens", "cost_usd", "note"}


def _args(**kw: Any) -> argparse.Namespace:
    base: dict[str, Any] = {"repo": None, "config": None, "json": False, "turns": None,
                            "model": None, "overhead": None}
    return argparse.Namespace(**{**base, **kw})


def test_cmd_plan_reads_the_task_file_and_the_repository(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[slots]\nmax_agents = 4\nreserve = 1\n[slots.pools]\nworker = 3\n'
                   'orchestrator = 1\n[agents.tool]\ncommand = ["tool", "--model", "mini-1"]\n'
                   '[agents.bare]\ncommand = ["bare-agent"]\n[prices.mini-1]\ninput = 2.0\n')
    tasks = write_tasks(repo / "tasks.toml", TASKS)
    ctx = Invocation(_args(repo=str(repo), config=str(cfg), json=True, tasks=str(tasks), turns=3.0))
    assert cmd_plan(ctx) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["max_parallel"] == 3 and obj["depth"] == 2
    est = {e["id"]: e for e in obj["estimate"]["tasks"]}
    assert est["a"]["files"] == 1 and est["e"]["cost_usd"] == pytest.approx(300 * 2.0 / 1e6)
    assert obj["estimate"]["turns"] == 3.0
    ctx = Invocation(_args(repo=str(repo), config=str(cfg), tasks=str(tasks)))
    assert cmd_plan(ctx) == 0
    out = capsys.readouterr().out
    assert "at most 3 of 6 (limited by slots)" in out
    assert "a <-> b" in out and "depth         2 (d -> e)" in out


def test_cmd_plan_refuses_a_bad_task_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[task]]\nid = "x"\n')
    with pytest.raises(TaskFileError) as e:
        cmd_plan(Invocation(_args(repo=None, tasks=str(bad))))
    assert e.value.exit_code == 2


def test_cmd_plan_outside_a_repository_skips_the_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain_dir = tmp_path / "not-a-repo"
    plain_dir.mkdir()
    tasks = write_tasks(plain_dir / "tasks.toml", [
        {"id": "a", "prompt": PROMPT, "files": ["src/**"]}])
    assert cmd_plan(Invocation(_args(repo=str(plain_dir), json=True, tasks=str(tasks)))) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["estimate"]["tasks"][0]["files"] == 0
    assert obj["estimate"]["tasks"][0]["tokens"] == 100


def test_the_command_line_default_is_the_plan_default() -> None:
    from swarmtui.cli.report_cmd import PLAN_TURNS
    from swarmtui.report.plan import DEFAULT_TURNS

    assert PLAN_TURNS == DEFAULT_TURNS
