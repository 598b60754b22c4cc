"""The wrapper as the local runner starts it (``wrapper_argv`` and ``wrapper_env``: without the
site module, swarmtui found through the window's environment), and what it imports before
its agent runs: every spawn pays for that (docs/performance.md, "Spawning N")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from swarmtui.engine.runners.local import package_root, wrapper_argv, wrapper_env
from swarmtui.engine.runtime.tmux import server_env
from swarmtui.engine.wrapper.launch import LaunchSpec
from swarmtui.protocol import EXIT_FILE, OUTPUT_LOG, PROMPT_FILE

AGENT = """
import json, os, sys
print("AGENT-SAW " + json.dumps({"env": dict(os.environ), "stdin": sys.stdin.read()}))
"""

# Modules a wrapper for a plain (generic, unboxed, non-interactive) attempt has no use for;
# each was imported at every start before (bench/wrap_start.py measures what that cost).
NOT_NEEDED = (
    "swarmtui.engine.sandbox.box", "swarmtui.engine.wrapper.interactive",
    "swarmtui.engine.wrapper.pane", "swarmtui.engine.wrapper.steered",
    "swarmtui.engine.wrapper.steerpipe", "swarmtui.hook", "swarmtui.model",
    "swarmtui.engine.adapters.claude", "swarmtui.engine.adapters.codex",
    "swarmtui.engine.adapters.aider", "swarmtui.engine.adapters.opencode",
    "dataclasses", "logging", "inspect", "email", "typing",
)


def the_window_env() -> dict[str, str]:
    """What a wrapper's process gets in its window: the tmux server's environment (swarmtui
    starts the server with only ``server_env``) plus the runner's additions."""
    return {**server_env(), **wrapper_env()}


def test_the_wrapper_started_as_the_runner_starts_it_runs_its_agent(tmp_path: Path) -> None:
    adir, work = tmp_path / "agent", tmp_path / "work"
    adir.mkdir()
    work.mkdir()
    (tmp_path / "agent.py").write_text(AGENT)
    (adir / PROMPT_FILE).write_text("the task\n")
    LaunchSpec(argv=[sys.executable, str(tmp_path / "agent.py")], cwd=str(work),
               env={"ONLY": "this"}, prompt_via="stdin", prompt_file=str(adir / PROMPT_FILE),
               heartbeat_file=str(tmp_path / "hb"), orphan_timeout=300.0, kill_grace=5.0,
               log_max_bytes=1 << 20).write(adir)
    argv = wrapper_argv(adir)
    assert "-S" in argv and "-P" in argv  # the installed package is plain files here
    done = subprocess.run(argv, cwd=work, env=the_window_env(), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(ln for ln in (adir / OUTPUT_LOG).read_text().splitlines()
                if ln.startswith("AGENT-SAW "))
    saw = json.loads(line.removeprefix("AGENT-SAW "))
    assert saw["stdin"] == "the task\n"
    # Exactly the environment the supervisor wrote: not the window's PYTHONPATH.
    assert {k: v for k, v in saw["env"].items() if k not in ("PWD", "SHLVL", "_", "LC_CTYPE")
            } == {"ONLY": "this"}
    assert json.loads((adir / EXIT_FILE).read_text())["how"] == "exited"


def test_the_wrapper_imports_nothing_its_plain_attempts_do_not_need() -> None:
    code = ("import json, sys; import swarmtui.engine.wrapper.main; "
            "print(json.dumps(sorted(sys.modules)))")
    argv = [a for a in wrapper_argv(Path("/x")) if a not in ("-m", "swarmtui.engine.wrap", "/x")]
    done = subprocess.run([*argv, "-c", code], cwd="/", env=the_window_env(),
                          capture_output=True, text=True, timeout=60, check=True)
    loaded = set(json.loads(done.stdout))
    outside = {m for m in loaded if m.split(".")[0] not in sys.stdlib_module_names
               and m.split(".")[0] not in ("swarmtui", "__main__")}
    assert outside == set()  # it starts without site: nothing else could be found anyway
    assert sorted(loaded & set(NOT_NEEDED)) == []
    assert "site" not in loaded


def test_a_wrapper_started_without_site_can_turn_it_on_for_what_needs_more() -> None:
    # A boxed attempt's channel hands spawns to the run's client, which needs pydantic.
    code = ("from swarmtui.engine.wrapper.launch import with_site; with_site(); "
            "import swarmtui.client, pydantic; print('ok')")
    argv = [a for a in wrapper_argv(Path("/x")) if a not in ("-m", "swarmtui.engine.wrap", "/x")]
    done = subprocess.run([*argv, "-c", code], cwd="/", env=the_window_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def test_the_wrapper_keeps_site_where_its_folder_would_shadow_the_standard_library(
        tmp_path: Path) -> None:
    assert package_root(str(tmp_path)) is None  # no swarmtui here
    (tmp_path / "swarmtui" / "engine").mkdir(parents=True)
    (tmp_path / "swarmtui" / "engine" / "wrap.py").write_text("")
    (tmp_path / "some_dist-1.0.dist-info").mkdir()
    assert package_root(str(tmp_path)) == str(tmp_path)
    (tmp_path / "enum.py").write_text("")  # a backport: first on PYTHONPATH, it would win
    assert package_root(str(tmp_path)) is None
