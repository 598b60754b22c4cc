"""The wrapper (``python -m swarmtui.engine.wrap AGENT_DIR``): each agent window's small process.

It reads ``launch.json`` and ``env.json`` (written by the supervisor; the latter, which holds the
agent's whole environment, is 0600 and deleted as soon as it is read), starts the agent in its
own process group with exactly that environment (nothing is inherited from the tmux server),
records the group id in ``agent.pgid``, shows the agent's output in the pane while teeing it to a
capped ``output.log``, forwards SIGTERM/SIGINT/SIGHUP to the group (KILL after a grace period),
ends the agent when the supervisor's heartbeat has been silent past the orphan timeout, and
finally writes ``exit.json``: how it ended, when, and what the adapter learnt about usage.

If the wrapper itself is killed, the agent's leader gets SIGKILL from the kernel (parent-death
signal) and the supervisor ends the rest of the group from ``agent.pgid``.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from swarmtui.boundedjson import STREAM_MAX_DEPTH, too_deep
from swarmtui.engine.adapters import adapter_for
from swarmtui.engine.adapters.base import object_line
from swarmtui.engine.runtime import proc as procs
from swarmtui.engine.sandbox import box_asked
from swarmtui.engine.wrapper.hookwait import await_hooks
from swarmtui.engine.wrapper.launch import (
    CappedLog,
    LaunchSpec,
    build_argv,
    with_site,
    write_json_atomic,
    write_text_atomic,
)
from swarmtui.engine.wrapper.paneview import PaneView
from swarmtui.engine.wrapper.setupstep import RunsSetup, die_with_parent
from swarmtui.engine.wrapper.signallog import SignalLog
from swarmtui.protocol import (
    AGENT_PGID_FILE,
    EXIT_FILE,
    OUTPUT_LOG,
    STEER_TOKEN_ENV,
    WRAP_PID_FILE,
)
from swarmtui.secrets import Redactor, secret_values

# Every spawn pays for what a wrapper imports: these where a run needs them, typing never.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from swarmtui.engine.sandbox.box import Box
    from swarmtui.engine.wrapper.interactive import Interactive
    from swarmtui.engine.wrapper.pane import LivePane
    from swarmtui.engine.wrapper.steered import Steered

SETUP_TAIL_BYTES = 8192  # of the setup command's output, for its event and the exit record
PARTIAL_LINE_WAIT = 0.2  # seconds a partial output line waits for its end before it is shown
LINGER_S = 2.0  # what the agent left running may finish by itself this long (a hook's line)
REAP_EVERY_S = 1.0  # orphans re-parented to the wrapper are reaped this often
DRAIN_S = 1.0  # what the agent left running may hold its output open this long, before TERM
READ_TO_END_S = 120.0  # the reader of an output no process of ours holds open, at most


class Wrapper(RunsSetup):
    def __init__(self, agent_dir: Path) -> None:
        self.agent_dir = agent_dir
        self.spec = LaunchSpec.read(agent_dir)
        self.proc: subprocess.Popen[bytes] | None = None
        self.box: Box | None = None  # the agent's sandbox (engine/sandbox), when the run asks
        self.how = "exited"
        self._ending = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self.adapter = adapter_for(self.spec.adapter, self.spec.extra)
        self.redact = Redactor(secret_values(self.spec.env, self.spec.secret_names))
        # The steering token is the wrapper's alone: never in the agent's environment.
        self._steer_token = self.spec.env.pop(STEER_TOKEN_ENV, "")
        live = self.spec.extra.get("live")
        self._live_cfg: dict[str, Any] | None = live if (
            isinstance(live, dict) and self._steer_token and self.spec.prompt_via == "stdin"
        ) else None
        self.live: Steered | None = None
        self.pane: LivePane | None = None  # the window as a conversation (live sessions)
        self.view: PaneView | None = None  # the window as raw output (the other runs)
        self._signals = SignalLog(agent_dir, self.redact)  # what the supervisor reads
        # mode "interactive": the CLI's own screen, followed through its hooks and transcript
        self.inter: Interactive | None = None
        if "interactive" in self.spec.extra:
            from swarmtui.engine.wrapper.interactive import Interactive
            self.inter = Interactive(agent_dir, self.spec, self.adapter, self._signals,
                                     self.redact, self._steer_token)
        self._tail: bytearray | None = None  # collects the setup command's output
        self._own: set[int] = set()  # our Popen children: their objects reap them, not us
        self._reap_lock = threading.Lock()  # a child is in _own before anyone may reap it

    # -- ending the agent -----------------------------------------------------------------

    def _signal_group(self, sig: int) -> None:
        """Signal the agent's whole process group, even after the agent itself has exited:
        its children may still be running (and holding the output pipe); and every other
        descendant, those that left the group (``setsid``, a double fork) included: the
        wrapper is their subreaper, so they are still below it."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        procs.signal_all(procs.descendants(os.getpid()), sig)

    def _popen(self, argv: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        with self._reap_lock:
            child = subprocess.Popen(argv, **kw)
            self._own.add(child.pid)
        return child

    def _reap(self) -> None:
        """Orphans re-parented here while the agent runs are reaped (not left as zombies)."""
        while not self._done.wait(REAP_EVERY_S):
            with self._reap_lock:
                procs.reap_orphans(self._own)

    def _end_leftovers(self) -> None:
        """Nothing the attempt started outlives its wrapper: what is left may finish briefly
        (none of it when the agent was asked to end), then is TERMed and KILLed."""
        linger = 0.0 if self._ending.is_set() else min(LINGER_S, self.spec.kill_grace)
        if linger:
            await_hooks(self.agent_dir, self._signals)
        with self._reap_lock:
            procs.end_descendants(self.spec.kill_grace, linger=linger, own=self._own)

    def end_agent(self, how: str) -> None:
        """TERM the agent's process group, then KILL it after the grace period."""
        with self._lock:
            if self._ending.is_set():
                return
            self._ending.set()
            self.how = how
        if self.proc is not None:
            self._terminate_group()
        # else: run() sees the flag right after starting the agent and ends it then.

    def _terminate_group(self) -> None:
        self._signal_group(signal.SIGTERM)

        def escalate() -> None:
            if not self._done.wait(self.spec.kill_grace):
                self._signal_group(signal.SIGKILL)

        threading.Thread(target=escalate, daemon=True).start()

    def _on_signal(self, signum: int, _frame: object) -> None:
        # HUP: the pane (or the whole tmux server) went away, not a request to stop.
        self.end_agent("hangup" if signum == signal.SIGHUP else "terminated")

    def _watch_heartbeat(self) -> None:
        hb = Path(self.spec.heartbeat_file)
        started = time.time()
        step = min(5.0, max(self.spec.orphan_timeout / 4, 0.05))
        # Event.wait sleeps in the kernel until the timeout: no polling loop while idle.
        while not self._done.wait(step):
            try:
                last = hb.stat().st_mtime
            except FileNotFoundError:
                last = started
            silent = time.time() - max(last, started)
            if silent > self.spec.orphan_timeout:
                msg = (f"\n[swarmtui wrap] supervisor heartbeat silent for {silent:.0f}s "
                       f"(orphan timeout {self.spec.orphan_timeout:.0f}s): ending the agent\n")
                self._say(msg)
                self.end_agent("orphaned")
                return

    def _say(self, msg: str) -> None:
        """The wrapper's own words in the pane."""
        if self.pane is not None:
            self.pane.say(msg)
        elif self.view is not None:
            self.view.write(msg.encode())
        else:
            sys.stdout.write(msg)
            sys.stdout.flush()

    # -- main -----------------------------------------------------------------------------

    def run(self) -> int:
        if self._live_cfg is not None:
            from swarmtui.engine.wrapper.pane import LivePane
            self.pane = LivePane()
            self.pane.start()
        elif self.inter is None:  # (an interactive CLI's screen is relayed by its own code)
            self.view = PaneView()
            self.view.start()
        try:
            return self._run()
        finally:
            if self.pane is not None:
                self.pane.close()
            if self.view is not None:
                self.view.close()

    def _run(self) -> int:
        spec = self.spec
        procs.set_child_subreaper()  # every descendant stays below us, however it detaches
        write_text_atomic(self.agent_dir / WRAP_PID_FILE, f"{os.getpid()}\n")
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        prompt_text = Path(spec.prompt_file).read_text()
        argv = self.inter.argv(prompt_text) if self.inter else build_argv(spec, prompt_text)
        log = CappedLog(self.agent_dir / OUTPUT_LOG, spec.log_max_bytes)
        started = time.time()
        threading.Thread(target=self._watch_heartbeat, daemon=True).start()
        threading.Thread(target=self._reap, daemon=True).start()
        if spec.setup:
            failed = self._setup(log)
            if failed is not None or self._ending.is_set():
                code, error = failed if failed is not None else (None, "ended during setup")
                self._write_exit(code=code, sig=None, started=started, error=error,
                                 how="setup_failed" if failed is not None else self.how)
                self._end_leftovers()
                self._done.set()
                log.close()
                return 1
        if self.inter is not None and (why := self.inter.prepare()) is not None:
            self._say(f"[swarmtui wrap] the CLI's first-run screens may show: {why}\n")
        try:
            env = dict(spec.env)
            if box_asked(spec.extra):  # its modules only then; its channel needs the client's
                with_site()
                from swarmtui.engine.sandbox.box import Box
                self.box = Box.open(self.agent_dir, spec.extra, self._signals)
                argv, env = self.box.command(argv, env, spec.adapter, spec.cwd)
            if self.inter is not None:
                self.proc = self.inter.term.popen(self._popen, argv, cwd=spec.cwd, env=env,
                                                  preexec=die_with_parent)
            else:
                self.proc = self._popen(
                    argv, cwd=spec.cwd, env=env, start_new_session=True,
                    preexec_fn=die_with_parent,
                    stdin=subprocess.PIPE if spec.prompt_via == "stdin" else subprocess.DEVNULL,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                )
        except OSError as e:
            msg = f"[swarmtui wrap] cannot start {argv[0]!r}: {e}\n"
            self._say(msg)
            log.write(msg.encode())
            log.close()
            self._write_exit(code=127, sig=None, started=started, error=str(e),
                             how="not_started")
            self._done.set()
            return 127
        write_text_atomic(self.agent_dir / AGENT_PGID_FILE, f"{self.proc.pid}\n")
        if self._ending.is_set():
            self._terminate_group()  # a signal arrived while the agent was starting
        if self.inter is not None:
            self.inter.start(log, self.end_agent)
            pump = threading.Thread(target=self.inter.relay, daemon=True)
        else:
            if self._live_cfg is not None:
                self._start_live(prompt_text)
            elif spec.prompt_via == "stdin":
                threading.Thread(target=self._feed_stdin, args=(prompt_text,),
                                 daemon=True).start()
            pump = threading.Thread(target=self._pump, args=(log,), daemon=True)
        pump.start()
        rc = self.proc.wait()
        if self.live is not None:
            self.live.end()
        if self.inter is not None:
            self.inter.end()
        self._await_output(pump)
        sig_name = signal.Signals(-rc).name if rc < 0 else None
        how = self.how if (sig_name or self._ending.is_set()) else "exited"
        if self.box is not None:
            self.box.settle()  # its last commit is on the real branch before the record
        # The record first: the supervisor believes it only once this wrapper and the agent's
        # group are gone, so what the leftovers write meanwhile still counts.
        self._write_exit(code=rc if rc >= 0 else None, sig=sig_name, started=started, how=how)
        self._end_leftovers()
        pump.join(timeout=2.0)
        if self.box is not None:
            self.box.close()
        self._done.set()
        log.close()
        return rc if rc >= 0 else 128 - rc

    def _await_output(self, pump: threading.Thread) -> None:
        """The agent is gone: wait until its output has been read to the end, since the exit
        record carries what its last lines said (Codex's usage is in its last line). Whatever
        it left behind in its group (a dev server, a stuck grandchild) may hold the output pipe
        open: such leftovers get a moment, then TERM, then KILL. Once no process below the
        wrapper is left, nothing holds the pipe and the reader only has reading left: it is
        waited for however long a loaded machine makes that take, not cut short as though a
        leftover held the pipe (bounded only against a pipe handed outside the wrapper)."""
        pump.join(timeout=DRAIN_S)
        for sig, wait in ((signal.SIGTERM, self.spec.kill_grace), (signal.SIGKILL, 2.0)):
            if not pump.is_alive() or not procs.descendants(os.getpid()):
                break
            self._signal_group(sig)
            pump.join(timeout=wait)
        if pump.is_alive() and not procs.descendants(os.getpid()):
            pump.join(timeout=READ_TO_END_S)

    def _start_live(self, prompt_text: str) -> None:
        """Keep the agent's input open for the operator (its permission requests, messages,
        interrupts), commanded through the attempt's steering pipe."""
        assert self.proc is not None
        assert self.proc.stdin is not None
        from swarmtui.engine.wrapper.steered import Steered
        self.live = Steered(self.proc.stdin, self.agent_dir, self._steer_token,
                            self._live_cfg or {}, self._signals, self.pane)
        self.live.start(prompt_text)

    def _feed_stdin(self, text: str) -> None:
        assert self.proc is not None
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def _show(self, data: bytes, log: CappedLog) -> None:
        """Redacted output to the pane and the log."""
        data = self.redact.bytes(data)
        if self._tail is not None:
            self._tail += data
            del self._tail[:-SETUP_TAIL_BYTES]
        if self.pane is not None:
            self.pane.output(data)
        elif self.view is not None:
            self.view.write(data)
        log.write(data)

    def _pump(self, log: CappedLog, observe: bool = True) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        pending = b""  # the line being parsed by the adapter
        held = b""  # output not yet shown: redaction works on whole lines, so a secret split
        # across two reads is still caught; a partial line is shown after a short quiet
        want = self.adapter.lines  # which lines to look at (the live session reads objects)
        want = "json" if want == "none" and self.live is not None else want
        observe = observe and want != "none"
        while True:
            if held and not select.select([fd], [], [], PARTIAL_LINE_WAIT)[0]:
                self._show(held, log)
                held = b""
                continue
            try:
                chunk = os.read(fd, 65536)
            except InterruptedError:
                continue
            if not chunk:
                break
            held += chunk
            cut = len(held) if len(held) > 65536 else held.rfind(b"\n") + 1
            if cut:
                self._show(held[:cut], log)
                held = held[cut:]
            if not observe:
                continue
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if want == "all" or line[:1] == b"{":
                    self._observe(line)
            if len(pending) > 4_000_000:  # a runaway line: do not hold it all in memory
                pending = b""
        if held:
            self._show(held, log)
        if pending and observe and (want == "all" or pending[:1] == b"{"):
            self._observe(pending)

    def _observe(self, line: bytes) -> None:
        """One output line to the adapter, unless it nests deeper than any line of the agent
        CLI's own does (the adapter's parser would recurse that deep)."""
        text = line.decode("utf-8", "replace")
        if too_deep(text, STREAM_MAX_DEPTH):
            return
        signals = self.adapter.observe(text)
        if self.live is not None:
            # A denial the session itself gave (the operator, the timeout) is its answer's
            # event already, not a permission the attempt still lacks.
            gone = self.live.session.denied_uses
            signals = [s for s in signals if not (s.get("kind") == "permission_denied"
                                                  and s.get("tool_use") in gone)]
            if (obj := object_line(text)) is not None:
                self.live.session.on_line(obj)
        self._signals(signals)

    def _write_exit(self, *, code: int | None, sig: str | None, started: float, how: str,
                    error: str | None = None) -> None:
        data: dict[str, Any] = {
            "how": how,
            "code": code,
            "signal": sig,
            "started_at": started,
            "ended_at": time.time(),
            "pid": self.proc.pid if self.proc else None,
        }
        if error:
            data["error"] = error
        try:
            self.adapter.exited(code)
            data.update(self.adapter.usage())
        except Exception as e:  # noqa: BLE001 - the exit record is written whatever the stream
            data["adapter_error"] = f"{type(e).__name__}: {e}"[:300]
        data = json.loads(self.redact(json.dumps(data)))  # an API error may quote a key
        write_json_atomic(self.agent_dir / EXIT_FILE, data, mode=0o600)


def main(agent_dir: str) -> int:
    return Wrapper(Path(agent_dir)).run()
