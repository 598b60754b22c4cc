"""The SSH runner: attempts on another host, in swarmtui's own tmux server there.

Per host (``[[hosts]]``), under its work directory, one folder per supervisor repository (named
like the local tmux session) holds a bare clone (``clone.git``) and a ``.swarm`` laid out as the
local one. Preparing an attempt pushes its start commit to the clone over the host's one SSH
master (``git push`` through ``GIT_SSH_COMMAND``) and adds the worktree there; a local worktree
of the same branch is made too, which is where the attempt is verified: before its results (and
again before its exit record) reach the local agent folder, its branch is fetched back over the
same master and that worktree moved to it. Verification and merges stay on this machine.

Starting an attempt sends its folder (prompt, launch spec, environment: every local path of the
repository rewritten to the host's) to ``sshremote start``, which opens the window running
``python -m swarmtui.engine.wrap``. What the attempt writes comes back through the host's mirror
(``sshmirror``), so ``snapshot`` and ``group_alive`` answer from what the host last said and
never block. A host not heard from raises ``HostUnknown``; one unreachable past ``lost_after``
raises ``ServerGone``; its agents are taken for ended once the orphan timeout (and the wrapper's
grace) has passed since the last heartbeat was handed to ssh.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shlex
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from swarmtui import protocol as P
from swarmtui.config.hosts import HostConfig
from swarmtui.engine.runners.base import HostUnknown, PrepareJob, RunnerError, ServerGone
from swarmtui.engine.runners.bootstrap import Copied, copy_untracked
from swarmtui.engine.runners.sshmirror import MirrorLink
from swarmtui.engine.runners.sshremote import CLONE
from swarmtui.engine.runners.sshremotemirror import TMUX_SOCKET
from swarmtui.engine.runtime.git import Git, GitError, identity_env, run_git
from swarmtui.engine.runtime.ssh import SshHost
from swarmtui.engine.runtime.ssherrors import SshError
from swarmtui.engine.runtime.tmux import PaneInfo, session_name_for
from swarmtui.engine.runtime.tmuxcli import FLAGS, utf8_locale
from swarmtui.engine.runtime.worktreelock import worktree_admin
from swarmtui.engine.sandbox.policy import forget_host, note_host
from swarmtui.engine.sandbox.probe import Probe

log = logging.getLogger(__name__)

REMOTE_MODULE = "swarmtui.engine.runners.sshremote"
STALE_AFTER = 3.0  # seconds without a pane report before the host's view counts as old
# A window opened less than this before the host's latest pane report may not be in it yet.
SETTLE = 1.0
UPLOAD_MAX = 4 << 20  # one file of an attempt's folder sent to the host
COPY_MAX = 64 << 20  # all untracked files copied into one remote worktree
_NOT_SENT = frozenset({P.RESULTS_FILE, P.EXIT_FILE, P.AGENT_PGID_FILE, P.WRAP_PID_FILE,
                       P.OUTPUT_LOG, P.SIGNALS_FILE, P.VERIFY_LOG})


class SshRunner:
    def __init__(self, repo: Path, host: HostConfig, git: Git, *, control_dir: Path,
                 orphan_timeout: float, kill_grace: float, connect: bool = True) -> None:
        self.name = host.name
        self.cfg = host
        self.repo = Path(repo)
        self.git = git
        self.transport = SshHost(host.ssh, config_file=host.ssh_config or None,
                                 control_dir=control_dir,
                                 connect_timeout=host.connect_timeout,
                                 extra_options=host.ssh_options)
        self.session = session_name_for(self.repo)
        self.root = ""  # the repository's folder on the host, once known
        self.info: dict[str, Any] = {}
        self.orphan_after = orphan_timeout + kill_grace + min(5.0, orphan_timeout / 4) + 2.0
        self.given_up: set[str] = set()  # windows taken for ended while the host was away
        self._ready = threading.Lock()
        self._worktrees: dict[str, tuple[Path, str]] = {}  # aid -> (local worktree, branch)
        self._opened: dict[str, float] = {}  # window -> when start() opened it (monotonic)
        self.link = MirrorLink(self.transport, name=self.name,
                               local_swarm=self.repo / P.SWARM_DIR, session=self.session,
                               argv=self._mirror_argv, before_whole=self._fetch_for)
        if connect:
            self.link.start()

    # -- talking to the host ---------------------------------------------------------------

    def _remote(self, cmd: str, req: Mapping[str, Any], *, stdin: bool = False,
                timeout: float = 120.0) -> dict[str, Any]:
        body = json.dumps(req)
        argv = [self.cfg.python, "-P", "-m", REMOTE_MODULE, cmd]
        try:
            if stdin:
                code, out, err = self.transport.run(argv, input=body, timeout=timeout)
            else:
                code, out, err = self.transport.run([*argv, body], timeout=timeout)
        except SshError as e:
            raise ServerGone(f"host {self.name}: {e}") from None
        if code != 0:
            raise RunnerError(f"host {self.name}: {cmd} failed (exit {code}): "
                              f"{err.strip()[-400:] or out.strip()[-400:]}")
        try:
            answer = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RunnerError(f"host {self.name}: {cmd} answered {out.strip()[-200:]!r}"
                              ) from None
        if not isinstance(answer, dict):
            raise RunnerError(f"host {self.name}: {cmd} answered {answer!r}")
        return answer

    def ready(self) -> str:
        """The host's folder for this repository, set up on first use (blocks)."""
        with self._ready:
            if self.root:
                return self.root
            info = self._remote("info", {"workdir": self.cfg.workdir, "key": self.session})
            root = str(info.get("root") or "")
            if not root.startswith("/"):
                raise RunnerError(f"host {self.name}: no usable work directory ({root!r})")
            self._remote("init", {"root": root})
            self.info = {**info, "clone": True}
            self.root = root
            self._note_sandbox(info.get("sandbox"))
            return root

    def _note_sandbox(self, said: Any) -> None:
        """What the host said of its bubblewrap, for the attempts placed there (its wrapper
        boxes them when it works); said in the log when it does not."""
        if isinstance(said, dict):
            found = Probe(bool(said.get("ok")), version=str(said.get("version") or "")[:100],
                          why=str(said.get("why") or "")[:400])
        else:
            found = Probe(False, why="its swarmtui does not say whether bubblewrap works there")
        note_host(self.name, found)
        if not found.ok:
            log.warning("host %s: attempts there are not sandboxed: %s", self.name, found.why)

    def _mirror_argv(self) -> list[str]:
        try:
            root = self.ready()
        except RunnerError as e:
            raise RuntimeError(str(e)) from None
        return [self.cfg.python, "-P", "-m", REMOTE_MODULE, "mirror",
                json.dumps({"root": root, "session": self.session})]

    def _git_env(self) -> dict[str, str]:
        return {"GIT_SSH_COMMAND": self.transport.git_ssh_command()}

    def _url(self) -> str:
        return self.transport.git_url(f"{self.ready()}/{CLONE}")

    def remote_path(self, local: Path | str) -> str:
        """A path under the local repository as the host sees it."""
        text = str(local)
        for prefix in self._prefixes():
            if text == prefix or text.startswith(prefix + "/"):
                return self.ready() + text[len(prefix):]
        return text

    def _prefixes(self) -> list[str]:
        out = [str(self.repo)]
        real = str(self.repo.resolve())
        if real != out[0]:
            out.append(real)
        return out

    def _rewrite(self, text: str) -> str:
        root = self.ready()
        for prefix in self._prefixes():
            text = text.replace(prefix, root)
        return text

    # -- the Runner interface --------------------------------------------------------------

    def agent_dir(self, task: str, attempt: int) -> Path:
        return P.agent_dir(self.repo, task, attempt)

    def worktree(self, task: str, attempt: int) -> Path:
        return P.worktree_dir(self.repo, task, attempt)

    def prepare(self, job: PrepareJob) -> str:
        root = self.ready()
        aid = P.agent_id(job.task, job.attempt)
        try:
            if job.reuse_worktree:
                reuse = Path(job.reuse_worktree)
                self.git.branch_here(reuse, job.branch)
                self._remote("prepare", {"root": root, "aid": aid, "branch": job.branch,
                                         "reuse": reuse.name})
                self._worktrees[aid] = (reuse, job.branch)
                return self.git.head_of(reuse)
            start = self.git.rev(job.start)
            if not start:
                raise RunnerError(f"{job.start!r} is not a commit here")
            local = self.worktree(job.task, job.attempt)
            self.git.add_worktree(local, job.branch, job.start)
            self._worktrees[aid] = (local, job.branch)
            refs = [f"+{start}:refs/heads/{job.branch}"]
            merge_in = ""
            if job.merge_in:
                merge_in = self.git.rev(job.merge_in) or ""
                refs.append(f"+{merge_in}:refs/swarm/merge/{aid}")
            run_git(self.repo, "push", "--quiet", "--no-verify", self._url(), *refs,
                    env=self._git_env())
        except GitError as e:
            raise RunnerError(f"host {self.name}: {e}") from None
        ident = identity_env(self.repo)
        self._remote("prepare", {"root": root, "aid": aid, "branch": job.branch,
                                 "merge_in": merge_in, "message": job.merge_message,
                                 "name": ident.get("GIT_AUTHOR_NAME", ""),
                                 "email": ident.get("GIT_AUTHOR_EMAIL", "")})
        return start

    def copy_untracked(self, worktree: Path, patterns: Sequence[str]) -> Copied:
        copied = copy_untracked(self.repo, worktree, patterns)  # the local worktree: verify's
        entries: list[dict[str, Any]] = []
        total = 0
        for rel in copied.files:
            src = worktree / rel
            st = os.lstat(src)
            if stat.S_ISLNK(st.st_mode):
                entries.append({"path": rel, "link": os.readlink(src)})
            elif stat.S_ISREG(st.st_mode):
                total += st.st_size
                if total > COPY_MAX:
                    raise OSError(f"more than {COPY_MAX >> 20} MiB of untracked files")
                entries.append({"path": rel, "mode": st.st_mode & 0o777,
                                "data": base64.b64encode(src.read_bytes()).decode()})
        if entries:
            self._remote("put", {"root": self.ready(), "aid": worktree.name,
                                 "files": entries}, stdin=True)
        return copied

    def start(self, window: str, agent_dir: Path, worktree: Path) -> int | None:
        root = self.ready()
        files: dict[str, str] = {}
        for entry in os.scandir(agent_dir):
            if entry.name in _NOT_SENT or entry.name.startswith("."):
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            data = Path(entry.path).read_bytes()[:UPLOAD_MAX]
            if entry.name.endswith((".json", ".md")):
                text = data.decode("utf-8", "replace")
                if entry.name.endswith(".json"):
                    text = json.dumps(_map_strings(json.loads(text), self._rewrite))
                else:
                    text = self._rewrite(text)
                data = text.encode()
            files[entry.name] = base64.b64encode(data).decode()
        answer = self._remote("start", {"root": root, "aid": agent_dir.name, "window": window,
                                        "session": self.session, "python": self.cfg.python,
                                        "cwd": self.remote_path(worktree), "files": files},
                              stdin=True)
        # The environment now lives on the host (read and deleted there by the wrapper).
        (agent_dir / P.ENV_FILE).unlink(missing_ok=True)
        self.link.watch(window)
        self._opened[window] = time.monotonic()
        pid = answer.get("pane_pid")
        return pid if isinstance(pid, int) else None

    def snapshot(self) -> dict[str, PaneInfo]:
        link = self.link
        seen = link.seen
        now = time.monotonic()
        if link.connected and seen is not None and now - seen.at < STALE_AFTER:
            panes = {k: v for k, v in seen.panes.items() if k != "events"} if seen.server \
                else {}
            for window in self._not_settled(seen.at):
                panes.setdefault(window, PaneInfo(self.session, window, "", 0, "", 0, False,
                                                  None))
            return panes
        since = link.last_contact or link.started_at
        why = link.reason or "no answer yet"
        if now - since > self.cfg.lost_after:
            raise ServerGone(f"host {self.name} is unreachable: {why}")
        raise HostUnknown(f"host {self.name}: {why}")

    def _not_settled(self, report_at: float) -> set[str]:
        """Windows the host's latest report cannot speak for yet: opened just before it, or
        whose results or exit record are here but not yet written (their branch is being
        fetched). They count as alive until it can."""
        out = set(self.link.pending_aids())
        for window, opened in list(self._opened.items()):
            if report_at - opened > SETTLE:
                del self._opened[window]
            else:
                out.add(window)
        return out

    def past_orphan_deadline(self) -> bool:
        """Whether every agent of the host has surely ended itself: the orphan timeout and the
        wrapper's grace have passed since a heartbeat was last handed to ssh."""
        link = self.link
        if link.connected and link.seen is not None and \
                time.monotonic() - link.seen.at < STALE_AFTER:
            return False
        last = max(link.last_beat or 0.0, link.last_contact or 0.0) or link.started_at
        return time.monotonic() - last > self.orphan_after

    def group_alive(self, pgid: int, window: str | None = None) -> bool:
        link = self.link
        seen = link.seen
        if link.connected and seen is not None and time.monotonic() - seen.at < STALE_AFTER:
            if window in self._not_settled(seen.at):
                return True
            return bool(window and seen.groups.get(window, False))
        if not self.past_orphan_deadline():
            return True  # cannot know: its agent may run until the orphan timeout ends it
        if window:
            self.given_up.add(window)
        return False

    def steer(self, task: str, attempt: int, line: bytes) -> bool:
        where = self.remote_path(self.agent_dir(task, attempt))
        answer = self._remote("steer", {"agent_dir": where, "line": line.decode()},
                              stdin=True, timeout=30)
        return bool(answer.get("sent"))

    def end(self, window: str, *, pgid: int | None, wrapper_pid: int | None,
            hard: bool) -> None:
        self._remote("end", {"session": self.session, "window": window, "pgid": pgid,
                             "wrapper_pid": wrapper_pid, "hard": hard}, timeout=30)

    def ensure_session(self) -> None:
        pass  # made on the host by the first start

    def close_session(self) -> None:
        try:
            self._remote("close", {"session": self.session}, timeout=30)
        except RunnerError as e:
            log.warning("host %s: its session was not closed: %s", self.name, e)

    def set_status(self, line: str) -> None:
        pass

    def attach_argv(self, window: str | None = None) -> list[str]:
        argv = ["ssh", "-t"]
        if self.cfg.ssh_config:
            argv += ["-F", self.cfg.ssh_config]
        for opt in self.cfg.ssh_options:
            argv += ["-o", opt]
        target = f"={self.session}:={window}" if window else f"={self.session}"
        # The terminal is this one: its locale, not the host's (often none), says whether it
        # shows UTF-8.
        utf8 = list(FLAGS) if utf8_locale(os.environ) else []
        return [*argv, "--", self.cfg.ssh,
                shlex.join(["tmux", *utf8, "-L", TMUX_SOCKET, "attach-session", "-t", target])]

    def place(self, role: str, busy: Mapping[str, int]) -> str | None:
        if self.cfg.roles and role not in self.cfg.roles:
            return None
        if not self.reachable() or busy.get(self.name, 0) >= self.cfg.slots:
            return None
        return self.name

    def track(self, window: str, runner: str) -> None:
        self.link.watch(window)

    def unreachable(self) -> dict[str, str | None]:
        try:
            self.snapshot()
        except ServerGone as e:
            reason: str | None = str(e)
        except HostUnknown:
            reason = None
        else:
            return {}
        if self.past_orphan_deadline():
            return {}
        return dict.fromkeys(self.link.watched, reason)

    def settle(self) -> None:
        link = self.link
        if not link.watched:
            return
        # Until lost_after has passed since the link started, the host is only "not heard
        # from yet" (HostUnknown); after it, it counts as lost (ServerGone).
        left = self.cfg.lost_after - (time.monotonic() - link.started_at)
        link.wait_seen(max(0.0, left))

    def close(self) -> None:
        forget_host(self.name)
        self.link.close()
        self.transport.close()

    # -- more than the interface -----------------------------------------------------------

    def reachable(self) -> bool:
        seen = self.link.seen
        return self.link.connected and seen is not None and \
            time.monotonic() - seen.at < STALE_AFTER

    def fetch_back(self, aid: str) -> str:
        """Fetch the attempt's branch from the host and move its local worktree to it;
        returns the commit (blocks)."""
        local, branch = self._worktrees.get(aid) or (
            self.repo / P.SWARM_DIR / P.WORKTREES_DIR / aid, f"swarm/{aid}")
        env = self._git_env()
        url = self._url()
        try:
            if not local.is_dir():
                run_git(self.repo, "fetch", "--quiet", "--no-tags", url,
                        f"+refs/heads/{branch}:refs/heads/{branch}", env=env)
                with worktree_admin(self.repo):
                    run_git(self.repo, "worktree", "add", "--quiet", str(local), branch)
                return self.git.head_of(local)
            run_git(local, "fetch", "--quiet", "--no-tags", url, f"+refs/heads/{branch}",
                    env=env)
            _, new, _ = run_git(local, "rev-parse", "FETCH_HEAD")
            new = new.strip()
            if new != self.git.head_of(local):
                run_git(local, "reset", "--hard", "--quiet", new)
            return new
        except GitError as e:
            raise RunnerError(f"host {self.name}: fetching {branch} back: {e}") from None

    def _fetch_for(self, aid: str, name: str) -> bool:
        try:
            self.fetch_back(aid)
        except (RunnerError, SshError, OSError):
            return False
        return True


def _map_strings(obj: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(obj, str):
        return fn(obj)
    if isinstance(obj, list):
        return [_map_strings(x, fn) for x in obj]
    if isinstance(obj, dict):
        return {k: _map_strings(v, fn) for k, v in obj.items()}
    return obj
