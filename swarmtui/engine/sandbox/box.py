"""The wrapper's side of an attempt's box: it makes the private folders, the branch's ref
folder and the agent's channel, wraps the agent's argv in bubblewrap, keeps the real branch in
step with the agent's commits, and clears up.

Asked for by the supervisor through ``launch.json``'s ``extra["sandbox"]``: ``mode`` ("bwrap"),
``network`` (with ``api_hosts``), ``read``, ``write``, ``repo``, ``task`` and ``branch``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarmtui.engine.sandbox import box_asked, bwrap, netport
from swarmtui.engine.sandbox.apihosts import api_hosts
from swarmtui.engine.sandbox.channel import ANSWER_TIMEOUT, SOCKET_ENV, ChannelServer
from swarmtui.engine.sandbox.egress import Egress
from swarmtui.engine.sandbox.gitident import identity_env
from swarmtui.engine.sandbox.layout import SandboxError, git_view, mounts
from swarmtui.engine.sandbox.probe import probe
from swarmtui.engine.sandbox.refsync import RefSync

PRIVATE_DIR = "sandbox"  # .swarm/sandbox/<id>: the attempt's private tmp, home and ref folder
NETWORKS = ("full", "none", "api")
Record = Callable[[list[dict[str, Any]]], None]


class Box:
    """``Box.none()`` is no box: its command is the agent's own, and settling does nothing."""

    def __init__(self, agent_dir: Path | None = None, sb: dict[str, Any] | None = None,
                 record: Record | None = None) -> None:
        self.on = agent_dir is not None and sb is not None
        self.socket_dir: Path | None = None
        self.channel: ChannelServer | None = None
        self.egress: Egress | None = None
        self.record = record  # the attempt's signals (refused connections)
        if agent_dir is None or sb is None:
            return
        self.agent_dir = agent_dir
        self.aid = agent_dir.name
        self.repo = Path(str(sb["repo"]))
        self.task = str(sb["task"])
        net = sb.get("network", "full")
        if net not in NETWORKS:
            raise SandboxError(f"network {net!r} is not one of {', '.join(NETWORKS)}")
        self.network = str(net)
        self.api_hosts = [str(h) for h in sb.get("api_hosts") or []]
        self.read = [str(p) for p in sb.get("read") or []]
        self.write = [str(p) for p in sb.get("write") or []]
        self.private = agent_dir.parent.parent / PRIVATE_DIR / self.aid
        self.view = git_view(Path(str(sb["worktree"])), self.repo, str(sb["branch"]))
        self.refs = RefSync(self.view, self.private)

    @classmethod
    def none(cls) -> Box:
        return cls()

    @classmethod
    def open(cls, agent_dir: Path, extra: dict[str, Any], record: Record | None = None) -> Box:
        """The box the run asked for (none, when none); SandboxError when it cannot be made.
        ``record`` takes the signals the box has to tell (a refused connection)."""
        if not box_asked(extra):
            return cls()
        sb = extra["sandbox"]
        found = probe()
        if not found.ok:
            raise SandboxError(f"the agent's sandbox is required but {found.why}")
        return cls(agent_dir, sb, record)

    def command(self, argv: list[str], env: dict[str, str], adapter: str, cwd: str
                ) -> tuple[list[str], dict[str, str]]:
        """The agent's argv inside bubblewrap, and its environment there."""
        if not self.on:
            return argv, env
        try:
            return self._command(argv, env, adapter, cwd)
        except BaseException:
            self.close()
            raise

    def _command(self, argv: list[str], env: dict[str, str], adapter: str, cwd: str
                 ) -> tuple[list[str], dict[str, str]]:
        old = os.umask(0o077)
        try:
            self.private.mkdir(parents=True, exist_ok=True)
            self.socket_dir = Path(tempfile.mkdtemp(prefix="swarmtui-"))
        finally:
            os.umask(old)
        self.channel = ChannelServer(self.socket_dir / "agent.sock", self._request)
        self.channel.start()
        refs = self.refs.mounts()
        ms = mounts(worktree=Path(cwd), agent_dir=self.agent_dir, view=self.view,
                    private=self.private, adapter=adapter, env=env, argv=argv,
                    read=self.read, write=self.write, socket_dir=self.socket_dir, refs=refs)
        self.refs.start()
        exe = probe().path or "bwrap"
        boxed = bwrap.argv(ms, chdir=cwd, network=self.network, root=os.geteuid() == 0,
                           bwrap=exe)
        if self.network == "api":
            if self.egress is not None:  # a box started again (the tests do)
                self.egress.close()
            self.egress = Egress(api_hosts(adapter, env, self.api_hosts), self.record)
            self.egress.take(self.socket_dir / Path(bwrap.NET_SOCKET).name)
            # The box's first program opens its port for the proxy, then becomes the agent.
            boxed += [sys.executable, "-I", "-S", netport.__file__, bwrap.NET_SOCKET, "--"]
        # IS_SANDBOX: it now is one (Claude Code's bypass mode asks for it as root).
        return [*boxed, *argv], {**env, **identity_env(adapter, env, cwd),
                                 SOCKET_ENV: bwrap.SOCKET, "IS_SANDBOX": "1", "TMPDIR": "/tmp"}

    def _request(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        """A request from inside this box: to the inbox as this attempt, whatever it claims."""
        if op != "spawn":
            return {"status": "refused", "reason": f"{op!r} is not something an agent asks"}
        from swarmtui.client import RunClient

        args.setdefault("requester", self.task)
        client = RunClient(self.repo)
        try:
            res = client.submit("spawn", args, source=f"agent:{self.aid}",
                                timeout=ANSWER_TIMEOUT - 10)
        finally:
            client.store.close()
        return {**res.result, "status": res.status}

    def settle(self) -> None:
        """The agent has exited: its last commit moves the real branch now."""
        if self.on:
            self.refs.stop()

    def close(self) -> None:
        if not self.on:
            return
        self.refs.stop()
        if self.channel is not None:
            self.channel.close()
        if self.egress is not None:
            self.egress.close()
        if self.socket_dir is not None:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
        shutil.rmtree(self.private, ignore_errors=True)
