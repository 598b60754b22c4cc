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
every call).
Files written by agents are read without following links (``O_NOFOLLOW`` on every component
below the work directory), only when regular, and bounded; the supervisor's side checks again.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.engine.runtime import tmuxcli

CLONE = "clone.git"
TMUX_SOCKET = "swarmtui"  # under the user's own tmux directory there
# Appended files: (name, most bytes mirrored in all); whole files: (name, cap).
APPEND_FILES = ((P.PROGRESS_FILE, 64 << 20), (P.SIGNALS_FILE, P.SIGNALS_MAX_BYTES),
                (P.OUTPUT_LOG, 256 << 20))
WHOLE_FILES = ((P.RESULTS_FILE, 1 << 20), (P.EXIT_FILE, 64 << 10), (P.AGENT_PGID_FILE, 64),
               (P.WRAP_PID_FILE, 64))
CHUNK = 192 << 10  # bytes of one file in one frame
FILE_POLL = 0.1
PANE_POLL = 0.5
PANES_FORMAT = "#{pane_pid}\t#{pane_dead}\t#{window_name}"  # the name (free text) last
SERVER_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ", "TMPDIR", "TMUX_TMPDIR")
# What the agent takes from the host rather than from the supervisor's machine.
HOST_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "XDG_RUNTIME_DIR")
_NOFOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


def workdir_root(workdir: str, key: str) -> Path:
    base = Path(os.path.expanduser(workdir))
    if not base.is_absolute():
        base = Path.home() / base
    return base / key


def _out(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _tmux_conf() -> str:
    return str(Path(__file__).resolve().parents[2] / "data" / "tmux.conf")


def _tmux_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in SERVER_ENV}


def _tmux(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [*tmuxcli.client_argv(["-L", TMUX_SOCKET], _tmux_conf()), *args]
    try:
        return subprocess.run(argv, capture_output=True, text=True, env=_tmux_env(),
                              check=False, encoding="utf-8", errors="replace",
                              timeout=tmuxcli.CALL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", f"tmux {args[0]}: no answer within "
                                           f"{tmuxcli.CALL_TIMEOUT:.0f}s")


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

    _out({"root": str(root), "clone": (root / CLONE / "HEAD").is_file(),
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


def _signal_group(pgid: int | None, sig: int) -> bool:
    if not pgid or pgid <= 1 or pgid == os.getpgrp():
        return False
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


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


def cmd_close(req: dict[str, Any]) -> None:
    _tmux("kill-session", "-t", f"={req['session']}")
    _out({"ok": True})


def cmd_tmuxcheck(req: dict[str, Any]) -> None:
    """tmux run as every command here runs it, on a server of its own: does a formatted list
    read back intact?"""
    _out({"problem": tmuxcli.round_trip(_tmux_conf(), _tmux_env())})


# -- the mirror --------------------------------------------------------------------------------

class _Watched:
    def __init__(self) -> None:
        self.sent: dict[str, tuple[int | None, int]] = {}  # append file -> (inode, sent)
        self.whole: dict[str, tuple[int, int, int]] = {}  # whole file -> (ino, size, mtime)


def _open_under(agents_fd: int, aid: str, name: str) -> tuple[int, os.stat_result] | None:
    try:
        dfd = os.open(aid, _NOFOLLOW | os.O_DIRECTORY, dir_fd=agents_fd)
    except OSError:
        return None
    try:
        fd = os.open(name, _NOFOLLOW | os.O_NONBLOCK, dir_fd=dfd)
    except OSError:
        return None
    finally:
        os.close(dfd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None
    return fd, st


class Mirror:
    def __init__(self, root: Path, session: str) -> None:
        self.root = root
        self.session = session
        self.watched: dict[str, _Watched] = {}
        self.lock = threading.Lock()
        self.out_lock = threading.Lock()

    def send(self, obj: dict[str, Any]) -> None:
        with self.out_lock:
            sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
            sys.stdout.flush()

    def commands(self) -> None:
        hb = self.root / P.SWARM_DIR / P.HEARTBEAT_FILE
        for line in sys.stdin:
            word, _, arg = line.strip().partition(" ")
            if word == "w":
                words = arg.split()
                if not words or "/" in words[0] or words[0].startswith("."):
                    continue
                aid, have = words[0], words[1:]
                w = _Watched()
                for (name, _), off in zip(APPEND_FILES, have, strict=False):
                    if off.isdigit():
                        w.sent[name] = (None, int(off))  # already there: send what follows
                with self.lock:
                    self.watched.setdefault(aid, w)
            elif word == "e":
                self.send({"k": "e", "n": arg[:20]})  # an echo: the round trip, measured
            elif word == "u":
                with self.lock:
                    self.watched.pop(arg, None)
            elif word == "h":
                try:
                    when = time.time() - max(0.0, float(arg))
                    if not hb.exists():
                        hb.touch()
                    os.utime(hb, (when, when))
                except (OSError, ValueError):
                    pass
        os._exit(0)  # the supervisor's side closed the stream

    def _files(self, agents_fd: int, aid: str, w: _Watched) -> None:
        for name, limit in APPEND_FILES:
            got = _open_under(agents_fd, aid, name)
            if got is None:
                continue
            fd, st = got
            try:
                ino, sent = w.sent.get(name, (st.st_ino, 0))
                restart = (ino is not None and ino != st.st_ino) or st.st_size < sent
                if restart:
                    sent = 0
                if st.st_size > sent and sent < limit:
                    data = os.pread(fd, min(CHUNK, st.st_size - sent, limit - sent), sent)
                    self.send({"k": "f", "a": aid, "n": name, "o": sent, "r": restart,
                               "d": base64.b64encode(data).decode()})
                    sent += len(data)
                elif restart:
                    self.send({"k": "f", "a": aid, "n": name, "o": 0, "r": True, "d": ""})
                w.sent[name] = (st.st_ino, sent)
            finally:
                os.close(fd)
        for name, cap in WHOLE_FILES:
            got = _open_under(agents_fd, aid, name)
            if got is None:
                if name in w.whole:
                    del w.whole[name]
                    self.send({"k": "rm", "a": aid, "n": name})
                continue
            fd, st = got
            try:
                key = (st.st_ino, st.st_size, st.st_mtime_ns)
                if w.whole.get(name) == key:
                    continue
                data = os.pread(fd, cap + 1, 0)  # one byte over the cap says "too large"
                self.send({"k": "f", "a": aid, "n": name, "o": 0, "w": True,
                           "d": base64.b64encode(data).decode()})
                w.whole[name] = key
            finally:
                os.close(fd)

    def _panes(self) -> None:
        done = _tmux("list-panes", "-s", "-t", f"={self.session}", "-F", PANES_FORMAT)
        panes = []
        if done.returncode == 0:
            for line in done.stdout.splitlines():
                try:
                    pid, dead, name = tmuxcli.split_fields(line, 3, PANES_FORMAT, "list-panes")
                    panes.append([name, int(pid or 0), dead == "1"])
                except ValueError as e:
                    # Never a wrong list: a window misread would be taken for gone.
                    self.send({"k": "x", "m": str(e)[:500]})
                    return
        groups: dict[str, bool] = {}
        agents = self.root / P.SWARM_DIR / P.AGENTS_DIR
        with self.lock:
            aids = list(self.watched)
        for aid in aids:
            try:
                pgid = int((agents / aid / P.AGENT_PGID_FILE).read_text()[:20].strip())
            except (OSError, ValueError):
                continue
            groups[aid] = _signal_group(pgid, 0)
        self.send({"k": "p", "server": done.returncode == 0, "panes": panes, "g": groups,
                   "t": time.time()})

    def run(self) -> None:
        agents = self.root / P.SWARM_DIR / P.AGENTS_DIR
        agents.mkdir(mode=0o700, parents=True, exist_ok=True)
        threading.Thread(target=self.commands, daemon=True).start()
        self.send({"k": "hello", "root": str(self.root), "pid": os.getpid()})
        next_panes = 0.0
        while True:
            try:
                fd = os.open(agents, _NOFOLLOW | os.O_DIRECTORY)
            except OSError:
                agents.mkdir(mode=0o700, parents=True, exist_ok=True)
                time.sleep(FILE_POLL)
                continue
            try:
                with self.lock:
                    items = list(self.watched.items())
                for aid, w in items:
                    self._files(fd, aid, w)
            finally:
                os.close(fd)
            if time.monotonic() >= next_panes:
                self._panes()
                next_panes = time.monotonic() + PANE_POLL
            time.sleep(FILE_POLL)


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
               "start": cmd_start, "end": cmd_end, "close": cmd_close,
               "tmuxcheck": cmd_tmuxcheck}.get(cmd)
    if handler is None:
        sys.stderr.write(f"unknown command {cmd!r}\n")
        return 2
    handler(req)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
