"""``python -m swarmtui.engine.runners.sshremote CMD``: swarmtui's side of an SSH host.

The SSH runner runs this on the host, one command per ssh session: ``info`` (versions, disk,
where the work directory is), ``init`` (the work directory and the bare clone), ``prepare`` (an
attempt's worktree), ``put`` (untracked files into a worktree), ``start`` (the attempt's files
and its tmux window), ``end``, ``close`` and ``mirror``: the one long-lived command per host that
streams every watched attempt's protocol files, the session's panes and which agents' process
groups live, and turns the supervisor's heartbeat into the mtime of the host's heartbeat file;
and ``tmuxcheck`` (for ``doctor``: a formatted tmux list read back as the mirror reads it).
Requests come as JSON on stdin (or the first argument); answers are JSON on stdout.

tmux runs with ``-u`` (``runtime/tmuxcli.py``): an ssh session often has no locale at all, and
a tmux client in the C locale prints the tabs of a formatted list as ``_``.

Only the standard library, ``swarmtui.protocol`` and ``tmuxcli`` are used here (it starts on
every call); ``info`` also asks ``sandbox.probe`` (standard library only) whether bubblewrap
works on the host.
Files written by agents are read without following links (``O_NOFOLLOW`` on every component
below the work directory), only when regular, and bounded; the supervisor's side checks again.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.engine.runners.sshremotemirror import (
    Mirror,
    _signal_group,
    _tmux,
    _tmux_conf,
    _tmux_env,
)
from swarmtui.engine.runtime import tmuxcli

CLONE = "clone.git"
# Appended files: (name, most bytes mirrored in all); whole files: (name, cap).
# What the agent takes from the host rather than from the supervisor's machine.
HOST_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "XDG_RUNTIME_DIR")


def workdir_root(workdir: str, key: str) -> Path:
    base = Path(os.path.expanduser(workdir))
    if not base.is_absolute():
        base = Path.home() / base
    return base / key


def _out(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"missing ({e})"
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 \
        else f"failed ({done.stderr.strip()[:100]})"


# -- one-shot commands -------------------------------------------------------------------------

def cmd_info(req: dict[str, Any]) -> None:
    root = workdir_root(req["workdir"], req["key"])
    probe = root if root.exists() else root.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    from swarmtui import __version__
    from swarmtui.engine.sandbox.probe import probe as box_probe

    box = box_probe()  # asked once per host: the runner calls info once per connection
    _out({"root": str(root), "clone": (root / CLONE / "HEAD").is_file(),
          "sandbox": {"ok": box.ok, "version": box.version, "why": box.why},
          "python": sys.version.split()[0], "swarmtui": __version__,
          "tmux": _version(["tmux", "-V"]), "git": _version(["git", "--version"]),
          "disk_free": usage.free, "disk_total": usage.total})


def cmd_init(req: dict[str, Any]) -> None:
    root = Path(req["root"])
    for d in (root, root / P.SWARM_DIR, root / P.SWARM_DIR / P.AGENTS_DIR,
              root / P.SWARM_DIR / P.WORKTREES_DIR):
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not (root / CLONE / "HEAD").is_file():
        subprocess.run(["git", "init", "-q", "--bare", str(root / CLONE)], check=True)
    _out({"ok": True})


def _git(*args: str, cwd: Path, ok: tuple[int, ...] = (0,)) -> tuple[int, str]:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          check=False, errors="replace")
    if done.returncode not in ok:
        raise SystemExit(f"git {args[0]}: {done.stderr.strip()[-400:]}")
    return done.returncode, done.stdout


def cmd_prepare(req: dict[str, Any]) -> None:
    root = Path(req["root"])
    clone = root / CLONE
    wt = root / P.SWARM_DIR / P.WORKTREES_DIR / req["aid"]
    if req.get("reuse"):
        prev = root / P.SWARM_DIR / P.WORKTREES_DIR / req["reuse"]
        if not prev.is_dir():
            raise SystemExit(f"the worktree of {req['reuse']} is not on this host")
        _git("checkout", "-q", "-b", req["branch"], cwd=prev)
        _out({"worktree": str(prev), "conflicts": []})
        return
    _git("worktree", "add", "-q", str(wt), req["branch"], cwd=clone)
    conflicts: list[str] = []
    if req.get("merge_in"):
        ident = ("-c", f"user.name={req.get('name') or 'swarmtui'}",
                 "-c", f"user.email={req.get('email') or 'swarmtui@localhost'}")
        message = req.get("message") or "swarm: merge"
        code, _ = _git(*ident, "merge", "--no-ff", "-m", message, req["merge_in"], cwd=wt,
                       ok=(0, 1))
        if code:
            conflicts = _git("diff", "--name-only", "--diff-filter=U", cwd=wt)[1].split()
            # Committed with its markers, as Git.merge_in_worktree does here: a merge left in
            # progress refuses the resolver's `git commit <paths>`.
            _git("add", "-A", cwd=wt)
            _git(*ident, "commit", "--no-verify", "-q", "-m",
                 message + "\n\nConflict markers left for the resolver.", cwd=wt)
    _out({"worktree": str(wt), "conflicts": conflicts})


def _safe_target(base: Path, rel: str) -> Path | None:
    parts = Path(rel).parts
    if not parts or Path(rel).is_absolute() or ".." in parts:
        return None
    target = base.joinpath(*parts)
    parent = target.parent
    # No link anywhere between the base and the new file's folder.
    probe = parent
    while probe != base:
        if probe.is_symlink():
            return None
        probe = probe.parent
    return target


def cmd_put(req: dict[str, Any]) -> None:
    """Untracked files into a worktree: never over an existing file, never through a link."""
    wt = Path(req["root"]) / P.SWARM_DIR / P.WORKTREES_DIR / req["aid"]
    done: list[str] = []
    for entry in req["files"]:
        target = _safe_target(wt, entry["path"])
        if target is None or target.exists() or target.is_symlink():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if "link" in entry:
            os.symlink(entry["link"], target)
        else:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         entry.get("mode", 0o644) & 0o777)
            with os.fdopen(fd, "wb") as f:
                f.write(base64.b64decode(entry["data"]))
        done.append(entry["path"])
    _out({"files": done})


def _ensure_session(session: str, cwd: str) -> None:
    if _tmux("has-session", "-t", f"={session}").returncode == 0:
        return
    done = _tmux("new-session", "-d", "-s", session, "-n", "events", "-c", cwd, "-x", "200",
                 "-y", "50", "sh", "-c", "echo swarmtui agents of a remote supervisor; "
                 "exec tail -f /dev/null")
    if done.returncode != 0 and _tmux("has-session", "-t", f"={session}").returncode != 0:
        raise SystemExit(f"tmux new-session: {done.stderr.strip()}")


def cmd_start(req: dict[str, Any]) -> None:
    root = Path(req["root"])
    adir = root / P.SWARM_DIR / P.AGENTS_DIR / req["aid"]
    adir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, data in req["files"].items():
        if "/" in name or name.startswith("."):
            continue
        raw = base64.b64decode(data)
        if name == P.ENV_FILE:
            env = json.loads(raw)
            for k in HOST_ENV:
                if k in os.environ:
                    env[k] = os.environ[k]
                else:
                    env.pop(k, None)
            env.pop("SSH_AUTH_SOCK", None)
            raw = json.dumps(env).encode()
        tmp = adir / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, adir / name)
    _ensure_session(req["session"], str(root))
    done = _tmux("new-window", "-d", "-P", "-F", "#{pane_pid}", "-t", f"={req['session']}:",
                 "-n", req["window"], "-c", req["cwd"].replace("#", "##"),
                 req["python"], "-P", "-m", "swarmtui.engine.wrap", str(adir))
    if done.returncode != 0:
        raise SystemExit(f"tmux new-window: {done.stderr.strip()}")
    _out({"pane_pid": int(done.stdout.strip() or 0)})


def cmd_end(req: dict[str, Any]) -> None:
    target = f"={req['session']}:={req['window']}"
    pgid = req.get("pgid")
    if req.get("hard"):
        _signal_group(pgid, signal.SIGKILL)
        _tmux("kill-window", "-t", target)
        _out({"sent": True})
        return
    sent = False
    wpid = req.get("wrapper_pid")
    if wpid and wpid > 1:
        try:
            os.kill(wpid, signal.SIGTERM)
            sent = True
        except (ProcessLookupError, PermissionError):
            pass
    sent = _signal_group(pgid, signal.SIGTERM) or sent
    if not sent:
        _tmux("kill-window", "-t", target)
    _out({"sent": sent})


def cmd_steer(req: dict[str, Any]) -> None:
    """One command line into a remote attempt's steering pipe (the wrapper checks its token)."""
    from swarmtui.engine.wrapper import steerpipe

    path = steerpipe.steer_path(Path(req["agent_dir"]))
    _out({"sent": steerpipe.send(path, str(req["line"]).encode())})


def cmd_close(req: dict[str, Any]) -> None:
    _tmux("kill-session", "-t", f"={req['session']}")
    _out({"ok": True})


def cmd_tmuxcheck(req: dict[str, Any]) -> None:
    """tmux run as every command here runs it, on a server of its own: does a formatted list
    read back intact?"""
    _out({"problem": tmuxcli.round_trip(_tmux_conf(), _tmux_env())})


# -- the mirror --------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write("usage: python -m swarmtui.engine.runners.sshremote CMD [JSON]\n")
        return 2
    cmd = argv[1]
    req = json.loads(argv[2]) if len(argv) > 2 else json.loads(sys.stdin.read() or "{}")
    if cmd == "mirror":
        Mirror(Path(req["root"]), req["session"]).run()
        return 0
    handler = {"info": cmd_info, "init": cmd_init, "prepare": cmd_prepare, "put": cmd_put,
               "start": cmd_start, "end": cmd_end, "close": cmd_close, "steer": cmd_steer,
               "tmuxcheck": cmd_tmuxcheck}.get(cmd)
    if handler is None:
        sys.stderr.write(f"unknown command {cmd!r}\n")
        return 2
    handler(req)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
