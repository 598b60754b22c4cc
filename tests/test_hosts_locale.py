"""tmux output that never depends on the locale (issue 18.3).

tmux prints a formatted list (``list-panes -F``, ``list-windows -F``) for a client whose
locale is not UTF-8 with every tab and non-ASCII byte replaced by ``_``. sshd gives exactly that
locale (no LANG, no LC_*) without PAM or AcceptEnv, and a supervisor started from cron or a
bare ``env -i`` runs in it too. These tests run swarmtui's tmux calls in the C locale: here
(``LC_ALL=C``) against a real tmux server, and on a real sshd host whose sessions have no
locale variable at all (tests/sshd.py, ``lang=None``).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from swarmtui.config import Config, config_from_dict
from swarmtui.engine.runners.hosts import HostsRunner
from swarmtui.engine.runtime.tmux import Tmux, session_name_for
from swarmtui.fake_agent import verify_command_for
from tests.conftest import git
from tests.fleet import Fleet, fake, fast_config, start, task
from tests.sshd import HostFactory, SshdHost
from tests.sshd import ssh_hosts as ssh_hosts  # the fixture

HOST_PATH = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"


@pytest.fixture
def c_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process (and so every tmux client and server it starts) in the C locale."""
    for name in list(os.environ):
        if name == "LANG" or name.startswith("LC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LC_ALL", "C")


def non_ascii_repo(tmp_path: Path) -> Path:
    """A repository whose name (and so its tmux session's name) is not ASCII."""
    repo = tmp_path / "dépôt-ü"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# test repo\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


# -- a host without a locale ---------------------------------------------------------------

def test_a_host_made_without_lang_has_no_locale_variable(ssh_hosts: HostFactory) -> None:
    (host,) = ssh_hosts(1, lang=None)
    done = host.ssh("env")
    assert done.returncode == 0, done.stderr
    names = [line.split("=", 1)[0] for line in done.stdout.splitlines()]
    assert "HOME" in names
    assert [n for n in names if n == "LANG" or n.startswith("LC_")] == []
    (default,) = ssh_hosts(1)
    assert "LANG=C.UTF-8" in default.ssh("env").stdout.splitlines()


# -- the local tmux server in the C locale ----------------------------------------------------

def test_local_tmux_calls_read_the_same_in_the_c_locale(
        c_locale: None, tmux_socket: str, tmp_path: Path) -> None:
    repo = non_ascii_repo(tmp_path)
    tmux = Tmux(session_name_for(repo))
    assert not session_name_for(repo).isascii()
    tmux.new_session(["sh", "-c", "printf 'naïve café ✓\\tend\\n'; exec sleep 300"], cwd=repo,
                     window_name="events")
    assert tmux.has_session()
    pane = tmux.new_window("t-1", ["sleep", "300"], cwd=repo)
    assert pane.window_name == "t-1" and pane.pane_pid > 0 and pane.session == tmux.session
    panes = tmux.list_panes()
    assert set(panes) == {"events", "t-1"}
    assert panes["t-1"].pane_pid == pane.pane_pid
    assert tmux.windows() == {0: "events", 1: "t-1"}
    text = tmux.capture("events")
    assert "naïve café ✓" in text
    tmux.kill_session()


# -- runs, end to end -------------------------------------------------------------------------

def locale_config(host: SshdHost) -> Config:
    """This machine runs workers, the host runs orchestrators. The agents take a few seconds:
    long enough for liveness to look at their windows many times."""
    base = fast_config({"fake": fake("success", pace=1.0)},
                       slots={"max_agents": 2, "pools": {"worker": 2, "orchestrator": 2}},
                       heartbeat={"orphan_timeout": "30s", "progress_interval": "5s"},
                       merge={"auto": True})
    data: dict[str, Any] = base.to_dict()
    data["hosts"] = [{"name": "local", "slots": 1, "roles": ["worker"]},
                     {"name": host.name, "ssh": host.alias, "ssh_config": str(host.ssh_config),
                      "slots": 1, "roles": ["orchestrator"], "python": sys.executable,
                      "connect_timeout": "2s", "lost_after": "5s"}]
    return config_from_dict(data, "test-config")


def run_to_the_end(fleets: list[Fleet], repo: Path, host: SshdHost, ids: dict[str, str]) -> None:
    """Run one task per ``ids`` entry (task id -> where it must run); all must pass and merge
    with nothing failed, crashed, lost or retried."""
    tasks = [task(tid, "fake", role="worker" if where == "local" else "orchestrator",
                  verify=verify_command_for("success", tid)) for tid, where in ids.items()]
    f = start(fleets, repo, locale_config(host), tasks)
    assert isinstance(f.sup.runner, HostsRunner)
    assert f.wait_done(timeout=120), f.summary()
    st = f.store.replay()
    assert {t.id: str(t.state) for t in st.tasks.values()} == dict.fromkeys(ids, "merged")
    assert {rec.task: rec.runner for rec in st.attempts.values()} == ids
    assert f.of("attempt_failed") == []
    assert [e.data["how"] for e in f.of("agent_exited")] == ["exited"] * len(ids)


@pytest.mark.e2e
def test_an_attempt_on_a_host_without_a_locale_runs_to_the_end(
        fleets: list[Fleet], ssh_hosts: HostFactory, tmp_path: Path) -> None:
    (host,) = ssh_hosts(1, env={"PATH": HOST_PATH}, lang=None)
    run_to_the_end(fleets, non_ascii_repo(tmp_path), host, {"there": host.name})


@pytest.mark.e2e
def test_attempts_here_in_the_c_locale_and_on_a_host_without_one_run_to_the_end(
        c_locale: None, fleets: list[Fleet], ssh_hosts: HostFactory, tmp_path: Path) -> None:
    (host,) = ssh_hosts(1, env={"PATH": HOST_PATH}, lang=None)
    run_to_the_end(fleets, non_ascii_repo(tmp_path), host, {"here": "local",
                                                            "there": host.name})


# -- doctor ---------------------------------------------------------------------------------------

def _doctor(repo: Path, config: Path, env: dict[str, str]) -> dict[str, dict[str, str]]:
    done = subprocess.run([sys.executable, "-m", "swarmtui", "doctor", "--json", "--repo",
                           str(repo)], capture_output=True, text=True, timeout=120,
                          env={**env, "SWARMTUI_CONFIG": str(config)})
    return {c["what"]: c for c in json.loads(done.stdout)["checks"]}


def _hosts_toml(path: Path, host: SshdHost) -> Path:
    path.write_text("\n".join([
        "[[hosts]]", f"name = {json.dumps(host.name)}", f"ssh = {json.dumps(host.alias)}",
        f"ssh_config = {json.dumps(str(host.ssh_config))}",
        f"python = {json.dumps(sys.executable)}", 'connect_timeout = "2s"', ""]))
    return path


@pytest.mark.e2e
def test_doctor_reads_a_tmux_list_back_here_and_on_each_host(
        c_locale: None, git_repo: Path, ssh_hosts: HostFactory, tmp_path: Path) -> None:
    bare = _bare_tmux(tmp_path / "bare-tmux")
    (good,) = ssh_hosts(1, env={"PATH": HOST_PATH}, lang=None)
    (bad,) = ssh_hosts(1, env={"PATH": f"{bare}:{HOST_PATH}"}, lang=None)

    checks = _doctor(git_repo, _hosts_toml(tmp_path / "good.toml", good), dict(os.environ))
    assert checks["tmux output"]["level"] == "ok", checks["tmux output"]
    assert checks[f"host {good.name}"]["level"] == "ok", checks[f"host {good.name}"]

    env = {**os.environ, "PATH": f"{bare}:{os.environ['PATH']}"}
    checks = _doctor(git_repo, _hosts_toml(tmp_path / "bad.toml", bad), env)
    assert checks["tmux output"]["level"] == "fail"
    assert "expected 3 tab-separated fields" in checks["tmux output"]["detail"]
    assert checks[f"host {bad.name}"]["level"] == "fail"
    assert "tmux output: tmux list-windows printed '0_" in checks[f"host {bad.name}"]["detail"]


# -- the host's side of the mirror ----------------------------------------------------------------

def _bare_tmux(folder: Path) -> Path:
    """A ``tmux`` that drops ``-u``: tmux as it was run before, in whatever locale it gets."""
    folder.mkdir()
    (folder / "tmux").write_text(
        "#!/bin/sh\nfor a; do shift; [ \"$a\" = -u ] || set -- \"$@\" \"$a\"; done\n"
        f"exec {shlex.quote(shutil.which('tmux') or 'tmux')} \"$@\"\n")
    (folder / "tmux").chmod(0o755)
    return folder


def test_the_mirror_never_sends_a_misread_pane_list(
        c_locale: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from swarmtui.engine.runners import sshremote
    from swarmtui.engine.runners.sshmirror import MirrorLink
    from swarmtui.engine.runners.sshremotemirror import Mirror
    from swarmtui.engine.runtime.ssh import SshHost

    monkeypatch.setenv("TMUX_TMPDIR", str(tmp_path))  # the host's own tmux folder
    sshremote._ensure_session("s", str(tmp_path))
    try:
        mirror = Mirror(tmp_path, "s")
        mirror._panes()
        (frame,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert frame["k"] == "p" and [p[0] for p in frame["panes"]] == ["events"]

        bare = _bare_tmux(tmp_path / "bare")
        monkeypatch.setenv("PATH", f"{bare}:{os.environ['PATH']}")
        mirror._panes()
        (frame,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert frame["k"] == "x" and "expected 3 tab-separated fields" in frame["m"]
    finally:
        sshremote._tmux("kill-server")
    # The supervisor's side: the reason is kept, and no pane report is made up from it.
    link = MirrorLink(SshHost("nowhere", control_dir=Path("/tmp/swarmtui-test-unused")),
                      name="h",  # never connects; a short path whatever pytest's tmp is
                      local_swarm=tmp_path / ".swarm", session="s", argv=list,
                      before_whole=lambda aid, name: True)
    link._apply(frame)
    assert link.seen is None and link.reason.startswith("tmux there: tmux list-panes printed")
