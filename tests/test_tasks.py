"""Tests for swarmtui.tasks: loading and validating task files, ids for run-time tasks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swarmtui.errors import InputError, TaskFileError
from swarmtui.model import TaskSpec
from swarmtui.tasks import (
    TASK_ID_RE,
    is_valid_task_id,
    load_tasks,
    make_task_id,
    validate_new_task,
)

ROLES = ("worker", "reviewer")
AGENTS = ("claude", "codex")


def load(path: Path) -> list[TaskSpec]:
    return load_tasks(
        path, roles=ROLES, agents=AGENTS, default_role="worker", default_agent="claude"
    )


def write(tmp_path: Path, text: str, name: str = "tasks.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(TaskFileError) as info:
        load(path)
    err = info.value
    assert isinstance(err, InputError) and err.exit_code == 2
    assert str(err) == "\n".join(err.problems)
    return err.problems


def only_problem(path: Path) -> str:
    problems = problems_of(path)
    assert len(problems) == 1, problems
    return problems[0]


def write_features(tmp_path: Path, features: Any, name: str = "features.json") -> Path:
    return write(tmp_path, json.dumps(features, indent=2), name)


def feature(**kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "category": "functional",
        "description": "Do the thing",
        "steps": ["step one"],
        "passes": False,
    }
    d.update(kw)
    return d


# --- valid TOML -------------------------------------------------------------------------------


def test_toml_full_and_defaulted_tasks(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "t1.md").write_text("Write the lexer.\nMore detail.\n")
    long_line = "Add the parser for the config language, with a careful error path for every case"
    path = write(
        tmp_path,
        f"""
[[task]]
id = "t0"
prompt = "  \\n{long_line}\\nsecond"

[[task]]
id = "t1"
title = "Lexer"
prompt_file = "prompts/t1.md"
role = "reviewer"
agent = "codex"
files = ["src/parser/**", "tests/test_parser.py"]
verify = "pytest -q tests/test_parser.py"
depends_on = ["t0", "t0"]
max_attempts = 3
priority = 5
""",
    )
    t0, t1 = load(path)
    assert t0 == TaskSpec(
        id="t0",
        title="Add the parser for the config language, with a careful erro…",
        prompt=f"  \n{long_line}\nsecond",
        role="worker",
        agent="claude",
        source="tasks.toml",
    )
    assert len(t0.title) == 60
    assert t1 == TaskSpec(
        id="t1",
        title="Lexer",
        prompt="Write the lexer.\nMore detail.\n",
        role="reviewer",
        agent="codex",
        files=("src/parser/**", "tests/test_parser.py"),
        verify="pytest -q tests/test_parser.py",
        depends_on=("t0",),
        max_attempts=3,
        priority=5,
        source="tasks.toml",
    )


def test_title_defaults_to_first_prompt_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[[task]]\nid = "a"\nprompt = "Fix   the bug\\n\\nDetails"\n')
    assert load(path)[0].title == "Fix the bug"


# --- valid JSON feature lists -------------------------------------------------------------------


def test_feature_list_loads_failing_features(tmp_path: Path) -> None:
    path = write_features(
        tmp_path,
        [
            {
                "category": "Functional UI",
                "description": "New chat button creates a conversation",
                "steps": ["Open the app", "Click New chat", "See an empty conversation"],
                "passes": False,
            },
            {
                "id": "login",
                "category": "auth",
                "description": "Users can log in",
                "steps": [],
                "passes": True,
            },
            {
                "category": "auth",
                "description": "Users can log out",
                "steps": ["Log in", "Click log out"],
                "passes": False,
                "role": "reviewer",
                "agent": "codex",
                "files": ["src/auth/**"],
                "verify": "pytest -q tests/test_auth.py",
                "depends_on": ["login", "functional-ui-1"],
                "priority": 2,
                "max_attempts": 4,
            },
        ],
    )
    first, third = load(path)
    assert first == TaskSpec(
        id="functional-ui-1",
        title="New chat button creates a conversation",
        prompt="New chat button creates a conversation\n\nSteps:\n"
        "1. Open the app\n2. Click New chat\n3. See an empty conversation",
        role="worker",
        agent="claude",
        source="features.json",
        feature={"file": str(path), "index": 0},
    )
    # "login" already passes: the dependency is satisfied and dropped.
    assert third.id == "auth-3"
    assert third.depends_on == ("functional-ui-1",)
    assert third.prompt == "Users can log out\n\nSteps:\n1. Log in\n2. Click log out"
    assert (third.role, third.agent, third.files) == ("reviewer", "codex", ("src/auth/**",))
    assert third.verify == "pytest -q tests/test_auth.py"
    assert (third.priority, third.max_attempts) == (2, 4)
    assert third.feature == {"file": str(path), "index": 2}


def test_feature_list_detected_by_content(tmp_path: Path) -> None:
    path = write_features(tmp_path, [feature(steps=[])], name="features.txt")
    (spec,) = load(path)
    assert spec.prompt == "Do the thing"
    assert spec.id == "functional-1"


def test_feature_ids_fall_back_when_category_has_no_letters(tmp_path: Path) -> None:
    path = write_features(tmp_path, [feature(category="???")])
    assert load(path)[0].id == "feature-1"


# --- reading and syntax --------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    msg = only_problem(tmp_path / "nope.toml")
    assert "nope.toml" in msg and "cannot read" in msg


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_bytes(b'[[task]]\nid = "\xff"\n')
    assert "tasks.toml: not UTF-8" in only_problem(path)


def test_toml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '[[task]]\nid = "a"\nprompt = \n')
    msg = only_problem(path)
    assert msg.startswith(f"{path}: TOML syntax error")
    assert "line 3" in msg and "column" in msg


def test_json_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '[\n  {"category": "a",}\n]\n', name="features.json")
    msg = only_problem(path)
    assert "features.json: JSON syntax error" in msg and "line 2, column" in msg


def test_empty_toml_is_an_error(tmp_path: Path) -> None:
    assert "no tasks" in only_problem(write(tmp_path, "# nothing yet\n"))


def test_empty_feature_list_is_an_error(tmp_path: Path) -> None:
    assert "features.json: no features" in only_problem(write_features(tmp_path, []))


def test_all_features_passing_is_an_error(tmp_path: Path) -> None:
    path = write_features(tmp_path, [feature(passes=True)])
    assert "every feature already passes" in only_problem(path)


def test_json_top_level_must_be_an_array(tmp_path: Path) -> None:
    msg = only_problem(write_features(tmp_path, {"features": []}))
    assert "features.json" in msg and "JSON array" in msg


def test_unknown_top_level_key_and_single_table(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x"\n[task]\nid = "a"\nprompt = "p"\n')
    problems = problems_of(path)
    assert any('key "name"' in p and "unknown top-level key" in p for p in problems)
    assert any('key "task"' in p and "[[task]]" in p for p in problems)


def test_agents_table_in_a_tasks_file_says_it_belongs_in_the_config(tmp_path: Path) -> None:
    """An [agents.*] table (config pasted into a tasks file) is refused as configuration, with
    its line, not as one more unknown key."""
    path = write(tmp_path, '[[task]]\nid = "a"\nprompt = "p"\nagent = "mine"\n\n'
                 '[agents.mine]\ncommand = ["mine"]\n\n[slots]\nmax_agents = 2\n')
    problems = problems_of(path)
    agents = next(p for p in problems if "[agents.mine]" in p)
    assert "line 6" in agents and "belongs in the config file" in agents
    assert "unknown top-level key" not in agents and 'agent = "NAME"' in agents
    slots = next(p for p in problems if "[slots]" in p)
    assert "line 9" in slots and "config" in slots


# --- one test per bad field ----------------------------------------------------------------------


def one_task(tmp_path: Path, body: str) -> str:
    return only_problem(write(tmp_path, f"[[task]]\n{body}\n"))


def test_missing_id(tmp_path: Path) -> None:
    msg = one_task(tmp_path, 'prompt = "p"')
    assert msg.startswith(str(tmp_path / "tasks.toml"))
    assert 'task[0]: key "id": missing' in msg


@pytest.mark.parametrize("bad", ["-a", "a b", "x" * 65, "a..b", "refs.lock", "é"])
def test_invalid_id(tmp_path: Path, bad: str) -> None:
    msg = one_task(tmp_path, f"id = {json.dumps(bad)}\nprompt = 'p'")
    assert 'tasks.toml: task[0]: key "id":' in msg and "not a valid task id" in msg


def test_id_of_wrong_type(tmp_path: Path) -> None:
    msg = one_task(tmp_path, "id = 3\nprompt = 'p'")
    assert 'task[0]: key "id": expected a string, got an integer' in msg


def test_duplicate_id_names_both_positions(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[task]]\nid = "a"\nprompt = "p"\n[[task]]\nid = "b"\nprompt = "p"\n'
        '[[task]]\nid = "a"\nprompt = "p"\n',
    )
    msg = only_problem(path)
    assert 'tasks.toml: task[2]: key "id": duplicate id "a" (also task[0])' in msg


def test_problems_of_a_duplicate_table_name_its_position(tmp_path: Path) -> None:
    path = write(tmp_path, '[[task]]\nid = "a"\nprompt = "p"\n[[task]]\nid = "a"\n')
    problems = problems_of(path)
    assert f'{path}: task[1] "a": key "prompt": missing' in problems[0]
    assert 'task[1]: key "id": duplicate id "a" (also task[0])' in problems[1]


def test_ids_differing_only_in_case_clash(tmp_path: Path) -> None:
    path = write(tmp_path, '[[task]]\nid = "a"\nprompt = "p"\n[[task]]\nid = "A"\nprompt = "p"\n')
    msg = only_problem(path)
    assert 'task[1]: key "id"' in msg and "letter case" in msg and "task[0]" in msg


def test_unknown_key_is_named(tmp_path: Path) -> None:
    msg = one_task(tmp_path, 'id = "t1"\nprompt = "p"\ndepends = ["x"]')
    assert 'tasks.toml: task "t1": key "depends": unknown key' in msg
    assert 'did you mean "depends_on"' in msg


def test_unknown_dependency(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[task]]\nid = "t1"\nprompt = "p"\n'
        '[[task]]\nid = "t2"\nprompt = "p"\ndepends_on = ["t9"]\n',
    )
    assert only_problem(path) == f'{path}: task "t2": key "depends_on": names unknown task "t9"'


def test_unknown_role_lists_known_ones(tmp_path: Path) -> None:
    msg = one_task(tmp_path, 'id = "t1"\nprompt = "p"\nrole = "boss"')
    assert 'task "t1": key "role": unknown role "boss" (known: reviewer, worker)' in msg


def test_unknown_agent_lists_known_ones(tmp_path: Path) -> None:
    msg = one_task(tmp_path, 'id = "t1"\nprompt = "p"\nagent = "gpt"')
    assert 'task "t1": key "agent": unknown agent "gpt" (known: claude, codex)' in msg


def test_unknown_default_role_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, '[[task]]\nid = "t1"\nprompt = "p"\n')
    with pytest.raises(TaskFileError) as info:
        load_tasks(path, roles=ROLES, agents=AGENTS, default_role="nobody", default_agent="claude")
    assert 'task "t1": key "role": unknown role "nobody"' in str(info.value)


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ('files = "src/**"', "files", "expected a list of strings, got a string"),
        ("files = ['a', 1]", "files", "item 1 is an integer"),
        ("files = ['/etc/**']", "files", "relative to the repository root"),
        ("files = ['../other/**']", "files", "must not leave the repository"),
        ("depends_on = 't0'", "depends_on", "expected a list of strings"),
        ("verify = ['pytest']", "verify", "expected a string, got a list"),
        ("verify = ''", "verify", "expected a non-empty string"),
        ("max_attempts = 0", "max_attempts", "expected an integer >= 1, got 0"),
        ("max_attempts = 2.5", "max_attempts", "expected an integer >= 1"),
        ("priority = true", "priority", "expected an integer, got a boolean"),
        ("role = 1", "role", "expected a string, got an integer"),
        ("title = 7", "title", "expected a string, got an integer"),
    ],
)
def test_wrong_types(tmp_path: Path, body: str, key: str, expected: str) -> None:
    msg = one_task(tmp_path, f'id = "t1"\nprompt = "p"\n{body}')
    assert msg.startswith(f'{tmp_path / "tasks.toml"}: task "t1": key "{key}": ')
    assert expected in msg


def test_prompt_and_prompt_file_both(tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text("x")
    msg = one_task(tmp_path, 'id = "t1"\nprompt = "p"\nprompt_file = "p.md"')
    assert 'tasks.toml: task "t1": key "prompt": give either' in msg


def test_prompt_and_prompt_file_neither(tmp_path: Path) -> None:
    msg = one_task(tmp_path, 'id = "t1"')
    assert 'tasks.toml: task "t1": key "prompt": missing' in msg


def test_prompt_file_missing_names_the_path(tmp_path: Path) -> None:
    msg = one_task(tmp_path, 'id = "t1"\nprompt_file = "prompts/t1.md"')
    assert 'task "t1": key "prompt_file": file "prompts/t1.md" not found' in msg
    assert str(tmp_path / "prompts" / "t1.md") in msg


def test_empty_prompt(tmp_path: Path) -> None:
    msg = one_task(tmp_path, 'id = "t1"\nprompt = "  "')
    assert 'task "t1": key "prompt": expected a non-empty string' in msg


def test_task_that_is_not_a_table(tmp_path: Path) -> None:
    msg = only_problem(write(tmp_path, "task = [1]\n"))
    assert "tasks.toml: task[0]: expected a table, got an integer" in msg


def test_all_problems_are_collected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[task]]\nid = "bad id"\nprompt = "p"\n'
        '[[task]]\nid = "t2"\nrole = "boss"\nagent = "gpt"\ndepends_on = ["t9"]\n',
    )
    problems = problems_of(path)
    assert len(problems) == 5, problems
    keys = ['task[0]: key "id"', 'key "role"', 'key "agent"', 'key "depends_on"', 'key "prompt"']
    for key in keys:
        assert any(key in p for p in problems), key


def test_dependency_on_an_invalid_id_is_not_reported_twice(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[task]]\nid = "bad id"\nprompt = "p"\n'
        '[[task]]\nid = "t2"\nprompt = "p"\ndepends_on = ["bad id"]\n',
    )
    assert 'key "id"' in only_problem(path)


# --- cycles --------------------------------------------------------------------------------------


def tasks_with_deps(tmp_path: Path, deps: dict[str, list[str]]) -> Path:
    blocks = [
        f'[[task]]\nid = "{tid}"\nprompt = "p"\ndepends_on = {json.dumps(d)}\n'
        for tid, d in deps.items()
    ]
    return write(tmp_path, "\n".join(blocks))


def test_cycle_is_named_in_order(tmp_path: Path) -> None:
    path = tasks_with_deps(tmp_path, {"x": [], "a": ["b"], "b": ["c"], "c": ["a", "x"]})
    assert only_problem(path) == f"{path}: dependency cycle: a -> b -> c -> a"


def test_self_dependency_is_a_cycle(tmp_path: Path) -> None:
    path = tasks_with_deps(tmp_path, {"a": ["a"]})
    assert only_problem(path) == f"{path}: dependency cycle: a -> a"


def test_separate_cycles_are_each_reported(tmp_path: Path) -> None:
    path = tasks_with_deps(tmp_path, {"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"]})
    assert [p.split(": ", 1)[1] for p in problems_of(path)] == [
        "dependency cycle: a -> b -> a",
        "dependency cycle: c -> d -> c",
    ]


def test_cycle_reports_other_tasks_caught_in_it(tmp_path: Path) -> None:
    path = tasks_with_deps(tmp_path, {"a": ["b"], "b": ["a", "c"], "c": ["b"]})
    msg = only_problem(path)
    assert "dependency cycle: a -> b -> a" in msg and "c" in msg.split("a -> b -> a", 1)[1]


def test_long_chain_without_cycle(tmp_path: Path) -> None:
    n = 3000  # deeper than the recursion limit: the cycle search must be iterative
    deps = {f"t{i}": ([f"t{i + 1}"] if i + 1 < n else []) for i in range(n)}
    specs = load(tasks_with_deps(tmp_path, deps))
    assert len(specs) == n and specs[0].depends_on == ("t1",)


def test_long_cycle(tmp_path: Path) -> None:
    n = 2000
    deps = {f"t{i}": [f"t{(i + 1) % n}"] for i in range(n)}
    msg = only_problem(tasks_with_deps(tmp_path, deps))
    assert msg.endswith("t1998 -> t1999 -> t0") and "dependency cycle: t0 -> t1 -> t2" in msg


# --- bad feature lists ---------------------------------------------------------------------------


def test_feature_missing_and_mistyped_fields(tmp_path: Path) -> None:
    path = write_features(
        tmp_path,
        [
            feature(),
            {"category": "ui", "steps": "click", "passes": "no", "colour": "red"},
        ],
    )
    problems = problems_of(path)
    missing = f'{path}: feature[1]: key "description": missing (required in every feature)'
    assert missing in problems
    assert any(p.startswith(f'{path}: feature[1]: key "steps": expected a list') for p in problems)
    assert any('feature[1]: key "passes": expected true or false' in p for p in problems)
    assert any('feature[1]: key "colour": unknown key' in p for p in problems)
    assert len(problems) == 4, problems


def test_feature_entry_not_an_object(tmp_path: Path) -> None:
    path = write_features(tmp_path, [feature(), "oops"])
    assert 'features.json: feature[1]: expected an object, got a string' in only_problem(path)


def test_feature_generated_id_must_be_unique(tmp_path: Path) -> None:
    path = write_features(tmp_path, [feature(id="functional-2"), feature()])
    msg = only_problem(path)
    assert 'feature[1]: key "id": duplicate id "functional-2" (also feature[0])' in msg


def test_feature_unknown_dependency_and_role(tmp_path: Path) -> None:
    path = write_features(tmp_path, [feature(depends_on=["nope"], role="boss")])
    problems = problems_of(path)
    who = f'{path}: feature[0] "functional-1"'
    assert f'{who}: key "depends_on": names unknown task "nope"' in problems
    assert any('feature[0] "functional-1": key "role": unknown role "boss"' in p for p in problems)


def test_passing_feature_may_name_a_retired_agent(tmp_path: Path) -> None:
    path = write_features(tmp_path, [feature(passes=True, agent="old"), feature()])
    assert [s.id for s in load(path)] == ["functional-2"]


def test_feature_cycle(tmp_path: Path) -> None:
    path = write_features(
        tmp_path, [feature(id="a", depends_on=["b"]), feature(id="b", depends_on=["a"])]
    )
    assert only_problem(path) == f"{path}: dependency cycle: a -> b -> a"


# --- make_task_id --------------------------------------------------------------------------------


def test_make_task_id_is_a_readable_slug() -> None:
    assert make_task_id("Fix the login bug in auth.py, please", []) == "fix-the-login-bug-in"
    assert make_task_id("Überprüfe die Datenbank", []) == "uberprufe-die-datenbank"
    assert make_task_id("!!!", []) == "task"
    assert make_task_id("a" * 40, []) == "a" * 24


def test_make_task_id_suffixes_when_taken() -> None:
    existing = ["fix-the-bug", "Fix-The-Bug-2"]
    assert make_task_id("Fix the bug", existing) == "fix-the-bug-3"
    assert make_task_id("Fix the bug", {"other": None}) == "fix-the-bug"


def test_make_task_id_many_collisions() -> None:
    taken: list[str] = []
    for _ in range(12):
        taken.append(make_task_id("Add tests", taken))
    assert len(set(taken)) == 12
    assert taken[:3] == ["add-tests", "add-tests-2", "add-tests-3"]


@given(st.text(max_size=200), st.lists(st.text(max_size=30), max_size=20))
def test_make_task_id_always_valid_and_new(prompt: str, existing: list[str]) -> None:
    task_id = make_task_id(prompt, existing)
    assert TASK_ID_RE.fullmatch(task_id) and is_valid_task_id(task_id)
    assert len(task_id) <= 30
    assert task_id.casefold() not in {e.casefold() for e in existing}


# --- validate_new_task ---------------------------------------------------------------------------


def spec(**kw: Any) -> TaskSpec:
    d: dict[str, Any] = {"id": "new", "title": "New", "prompt": "Do it", "role": "worker"}
    d["agent"] = "claude"
    d.update(kw)
    return TaskSpec(**d)


def check(s: TaskSpec, existing: Any = ("t1", "t2")) -> None:
    validate_new_task(s, existing=existing, roles=ROLES, agents=AGENTS, where="swarmtui add")


def test_validate_new_task_accepts_a_good_task() -> None:
    check(spec(depends_on=("t1",)))
    check(spec(depends_on=("t1",)), existing={"t1": spec(id="t1")})


def test_validate_new_task_problems() -> None:
    with pytest.raises(TaskFileError) as info:
        check(spec(id="t1", role="boss", agent="gpt", depends_on=("t9", "t2"), max_attempts=0))
    problems = info.value.problems
    dup = 'swarmtui add: task "t1": key "id": duplicate id: the run already has a task "t1"'
    assert dup in problems
    assert 'swarmtui add: task "t1": key "depends_on": names unknown task "t9"' in problems
    assert any('key "role": unknown role "boss" (known: reviewer, worker)' in p for p in problems)
    assert any('key "agent": unknown agent "gpt" (known: claude, codex)' in p for p in problems)
    assert any('key "max_attempts"' in p for p in problems)
    assert len(problems) == 5, problems


def test_validate_new_task_bad_id_and_case_clash() -> None:
    bad_id = r'swarmtui add: task "a\.\.b": key "id": .*not a valid'
    with pytest.raises(TaskFileError, match=bad_id):
        check(spec(id="a..b"))
    with pytest.raises(TaskFileError, match="letter case"):
        check(spec(id="T1"))


def test_validate_new_task_self_dependency() -> None:
    with pytest.raises(TaskFileError) as info:
        check(spec(depends_on=("new",)))
    assert info.value.problems == ["swarmtui add: dependency cycle: new -> new"]
