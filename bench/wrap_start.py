"""The wrapper's start-up cost: CPU seconds from its exec until the agent runs, and its whole
life around an agent that exits at once.

``python bench/wrap_start.py [--before REF] [--after REF] [--runs 40] [--adapter generic]``

Each tree (a commit, checked out by ``git archive`` into /tmp with a Python that imports it:
``bench/fleet.py``'s ``snapshot_python``, so an editable install's import hook is not counted)
starts its wrapper exactly as its local runner would (``wrapper_argv``, and the environment
its tmux window gets), on a pseudo-terminal like a pane's, for an agent folder whose agent is
``sh -c 'cat /proc/$PPID/stat > FILE'``: the wrapper's own CPU at the moment its agent runs is
read from there, and the whole life from ``wait4``. Trees alternate run by run, so a ratio
compares like with like on a shared box; a warm-up run per tree compiles the bytecode first.
Prints the mean and median per tree, and the after/before ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet import snapshot_python

TICK = os.sysconf("SC_CLK_TCK")
ASK = """
import json, sys
from pathlib import Path
from swarmtui.engine.runners import local
argv = local.wrapper_argv(Path(sys.argv[1]))
env = local.wrapper_env() if hasattr(local, "wrapper_env") else {}
print(json.dumps([argv, env]))
"""
PANE_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ")


def command_of(py: str, adir: Path) -> tuple[list[str], dict[str, str]]:
    """The argv and extra environment the tree's local runner gives a wrapper."""
    out = subprocess.run([py, "-c", ASK, str(adir)], capture_output=True, text=True,
                         check=True, cwd="/").stdout
    argv, env = json.loads(out)
    return list(argv), dict(env)


def agent_dir(root: Path, i: int, adapter: str) -> tuple[Path, Path]:
    adir = root / "agents" / f"t{i:04d}-1"
    adir.mkdir(parents=True)
    wt = root / "wt"
    wt.mkdir(exist_ok=True)
    stat = adir / "wstat"
    (adir / "prompt.md").write_text("bench prompt\n")
    spec = {"argv": ["/bin/sh", "-c", f"cat /proc/$PPID/stat > {stat}"], "cwd": str(wt),
            "prompt_via": "stdin", "prompt_file": str(adir / "prompt.md"),
            "heartbeat_file": str(root / "heartbeat"), "orphan_timeout": 600.0,
            "kill_grace": 5.0, "log_max_bytes": 10_000_000, "adapter": adapter, "extra": {},
            "secret_names": [], "setup": "", "setup_timeout": 600.0}
    (adir / "launch.json").write_text(json.dumps(spec))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "SWARM_AGENT_ID": adir.name}
    fd = os.open(adir / "env.json", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, json.dumps(env).encode())
    os.close(fd)
    return adir, stat


def drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def one(py: str, root: Path, i: int, adapter: str) -> tuple[float, float]:
    """(wrapper CPU s when its agent ran, wrapper CPU s for its whole life)."""
    adir, stat = agent_dir(root, i, adapter)
    if py not in CMD:
        CMD[py] = command_of(py, Path(PLACE))
    argv, extra = CMD[py]
    argv = [str(adir) if a == PLACE else a for a in argv]
    env = {k: v for k, v in os.environ.items() if k in PANE_ENV}
    env["TERM"] = "tmux-256color"
    env.update(extra)
    master, slave = os.openpty()
    reader = threading.Thread(target=drain, args=(master,), daemon=True)
    reader.start()
    p = subprocess.Popen(argv, cwd=adir.parent.parent / "wt", env=env, stdin=slave,
                         stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    os.close(master)
    whole = ru.ru_utime + ru.ru_stime
    f = stat.read_text().rpartition(")")[2].split()
    at_agent = (int(f[11]) + int(f[12])) / TICK
    return at_agent, whole


CMD: dict[str, tuple[list[str], dict[str, str]]] = {}  # per Python: its runner's command
PLACE = "/AGENT-DIR"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", help="a commit to compare with")
    ap.add_argument("--after", default="HEAD")
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--adapter", default="generic")
    a = ap.parse_args()
    trees = [("after", a.after)]
    if a.before:
        trees.insert(0, ("before", a.before))
    pys = {label: snapshot_python(ref) for label, ref in trees}
    root = Path(tempfile.mkdtemp(prefix="swt-wrapstart-"))
    got: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in trees}
    try:
        for label, _ in trees:  # warm-up: bytecode compiled, the command learnt
            one(pys[label][0], root / f"warm-{label}", 0, a.adapter)
        for i in range(a.runs):
            for label, _ in trees:
                got[label].append(one(pys[label][0], root / label, i, a.adapter))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"wrapper start-up, adapter {a.adapter}, {a.runs} runs per tree (CPU ms; "
          f"load {os.getloadavg()[0]:.1f})")
    means: dict[str, tuple[float, float]] = {}
    for label, ref in trees:
        at = [x[0] * 1000 for x in got[label]]
        whole = [x[1] * 1000 for x in got[label]]
        means[label] = (statistics.mean(at), statistics.mean(whole))
        print(f"  {label:6} {ref} ({pys[label][1][:10]}): until the agent runs mean "
              f"{means[label][0]:6.1f} median {statistics.median(at):6.1f}; whole life mean "
              f"{means[label][1]:6.1f} median {statistics.median(whole):6.1f}")
        print(f"         argv {' '.join(CMD[pys[label][0]][0][:-1])} ... env "
              f"{sorted(CMD[pys[label][0]][1])}")
    if "before" in means:
        b, f = means["before"], means["after"]
        print(f"  after/before: until the agent runs {f[0] / b[0]:.2f}, whole life "
              f"{f[1] / b[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
