"""The pane wrapper ``swarmtui wrap AGENT_DIR``, run as a real subprocess around small agents."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from swarmtui.engine.wrapper.launch import CappedLog, LaunchSpec
from swarmtui.protocol import (
    AGENT_PGID_FILE,
    ENV_AGENT_ID,
    ENV_FILE,
    ENV_PROGRESS_FILE,
    ENV_TASK_ID,
    EXIT_FILE,
    OUTPUT_LOG,
    PROMPT_FILE,
    WRAP_PID_FILE,
)
from tests.waiting import wait_until

ECHO_TAG = "ECHO-RECORD:"
SHELL_PROMPT = (
    "Fix it: $(touch pwned) `touch pwned2` ; touch pwned3 && echo \"double\" 'single' "
    "| cat > pwned4 $HOME \\n\nsecond line\n"
)

# An agent that reports, as one JSON line, everything it received.
ECHO_AGENT = f"""
import json, os, sys
rec = {{
    "argv": sys.argv[1:],
    "stdin": sys.stdin.read(),
    "cwd": os.getcwd(),
    "env": dict(os.environ),
}}
if "--file" in sys.argv:
    path = sys.argv[sys.argv.index("--file") + 1]
    rec["file_text"] = open(path).read()
print({ECHO_TAG!r} + json.dumps(rec), flush=True)
"""


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (an un-reaped corpse counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


@dataclass
class Agent:
    """An agent directory with a prompt and a launch.json for one wrapper run."""

    agent_dir: Path
    work: Path
    heartbeat: Path

    @property
    def exit_data(self) -> dict[str, Any]:
        return json.loads((self.agent_dir / EXIT_FILE).read_text())

    @property
    def log_text(self) -> str:
        return (self.agent_dir / OUTPUT_LOG).read_text(errors="replace")


@pytest.fixture
def make_agent(tmp_path: Path) -> Callable[..., Agent]:
    """Build ``launch.json`` for an agent script; returns the Agent handle."""
    counter = iter(range(1000))

    def make(script: str, *, args: tuple[str, ...] = (), prompt: str = "do the task\n",
             prompt_via: str = "stdin", env: dict[str, str] | None = None,
             orphan_timeout: float = 300.0, kill_grace: float = 5.0,
             log_max_bytes: int = 1 << 20, adapter: str = "generic",
             argv: list[str] | None = None) -> Agent:
        n = next(counter)
        agent_dir = tmp_path / f"agent-{n}"
        work = tmp_path / f"work-{n}"
        agent_dir.mkdir()
        work.mkdir()
        script_path = tmp_path / f"agent_{n}.py"
        script_path.write_text(textwrap.dedent(script))
        prompt_file = agent_dir / PROMPT_FILE
        prompt_file.write_text(prompt)
        heartbeat = tmp_path / f"heartbeat-{n}"
        heartbeat.touch()
        LaunchSpec(
            argv=argv if argv is not None else [sys.executable, str(script_path), *args],
            cwd=str(work), env=env or {}, prompt_via=prompt_via, prompt_file=str(prompt_file),
            heartbeat_file=str(heartbeat), orphan_timeout=orphan_timeout,
            kill_grace=kill_grace, log_max_bytes=log_max_bytes, adapter=adapter,
        ).write(agent_dir)
        return Agent(agent_dir=agent_dir, work=work, heartbeat=heartbeat)

    return make


def wrap_argv(agent: Agent) -> list[str]:
    return [sys.executable, "-m", "swarmtui", "wrap", str(agent.agent_dir)]


def run_wrap(agent: Agent, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(wrap_argv(agent), capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def popen_wrap() -> Iterator[Callable[[Agent], subprocess.Popen[bytes]]]:
    """Start wrappers in the background; any still running at the end is killed."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(agent: Agent) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(wrap_argv(agent), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def echo_record(text: str) -> dict[str, Any]:
    for line in text.splitlines():
        if line.startswith(ECHO_TAG):
            return json.loads(line[len(ECHO_TAG):])
    raise AssertionError(f"no echo record in output: {text!r}")


# -- how the prompt reaches the agent ------------------------------------------------------------


def test_prompt_via_stdin(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(ECHO_AGENT, prompt="line one\nline two\n", prompt_via="stdin")
    proc = run_wrap(agent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rec = echo_record(proc.stdout)
    assert rec["stdin"] == "line one\nline two\n"
    assert rec["argv"] == []


def test_prompt_via_file_appended(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(ECHO_AGENT, args=("--flag",), prompt="from a file\n", prompt_via="file")
    proc = run_wrap(agent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rec = echo_record(proc.stdout)
    prompt_path = str(agent.agent_dir / PROMPT_FILE)
    assert rec["argv"] == ["--flag", prompt_path]
    assert rec["stdin"] == ""


def test_prompt_via_file_placeholder(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(ECHO_AGENT, args=("--file", "{prompt_file}", "--after"),
                       prompt="placeholder prompt\n", prompt_via="file")
    proc = run_wrap(agent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rec = echo_record(proc.stdout)
    prompt_path = str(agent.agent_dir / PROMPT_FILE)
    assert rec["argv"] == ["--file", prompt_path, "--after"]  # replaced in place, not appended
    assert rec["file_text"] == "placeholder prompt\n"


def test_prompt_via_argument_appended(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(ECHO_AGENT, args=("-p",), prompt="the prompt text", prompt_via="argument")
    proc = run_wrap(agent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert echo_record(proc.stdout)["argv"] == ["-p", "the prompt text"]


def test_prompt_via_argument_placeholder(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(ECHO_AGENT, args=("--prompt={prompt}", "--end"), prompt="inline",
                       prompt_via="argument")
    proc = run_wrap(agent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert echo_record(proc.stdout)["argv"] == ["--prompt=inline", "--end"]


@pytest.mark.parametrize("via", ["stdin", "argument", "file"])
def test_shell_metacharacters_arrive_verbatim(make_agent: Callable[..., Agent], via: str) -> None:
    args = ("--file", "{prompt_file}") if via == "file" else ()
    agent = make_agent(ECHO_AGENT, args=args, prompt=SHELL_PROMPT, prompt_via=via)
    proc = run_wrap(agent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rec = echo_record(proc.stdout)
    received = {"stdin": rec["stdin"], "argument": (rec["argv"] or [""])[-1],
                "file": rec.get("file_text")}[via]
    assert received == SHELL_PROMPT
    for root in (agent.work, agent.agent_dir, agent.agent_dir.parent, Path.cwd()):
        for name in ("pwned", "pwned2", "pwned3", "pwned4"):
            assert not (root / name).exists(), f"{root / name} was created: a shell ran"


# -- environment, cwd, output --------------------------------------------------------------------


def test_env_and_cwd_reach_the_agent(make_agent: Callable[..., Agent]) -> None:
    env = {ENV_AGENT_ID: "t1-2", ENV_TASK_ID: "t1", ENV_PROGRESS_FILE: "/x/progress.md"}
    agent = make_agent(ECHO_AGENT, env=env)
    proc = run_wrap(agent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rec = echo_record(proc.stdout)
    for k, v in env.items():
        assert rec["env"][k] == v
    assert Path(rec["cwd"]).resolve() == agent.work.resolve()
    assert (agent.agent_dir / WRAP_PID_FILE).read_text().strip().isdigit()


# Python itself may set LC_CTYPE when it starts in the C locale (PEP 538).
_PYTHON_ADDS = {"LC_CTYPE"}


def test_agent_gets_exactly_the_launch_env(make_agent: Callable[..., Agent]) -> None:
    """Nothing of the wrapper's own environment (the tmux server's) reaches the agent."""
    env = {ENV_TASK_ID: "t1", "PATH": "/usr/bin:/bin", "ONLY_THIS": "yes"}
    agent = make_agent(ECHO_AGENT, env=env)
    wrapper_env = {**os.environ, "SWARM_LEAKED": "1", "ANTHROPIC_API_KEY": "sk-should-not-pass"}
    proc = subprocess.run(wrap_argv(agent), capture_output=True, text=True, timeout=30,
                          env=wrapper_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = echo_record(proc.stdout)["env"]
    assert {k: v for k, v in got.items() if k not in _PYTHON_ADDS} == env


def test_env_file_is_private_kept_out_of_launch_json_and_deleted_once_read(
        make_agent: Callable[..., Agent]) -> None:
    """The environment is written to a 0600 env.json (not launch.json), which the wrapper
    deletes as soon as it has read it; the agent still gets it."""
    env = {ENV_AGENT_ID: "t1-1", "VALUE_FOR_AGENT": "s3cr3t-value"}
    agent = make_agent(ECHO_AGENT, env=env)
    env_file = agent.agent_dir / ENV_FILE
    assert json.loads(env_file.read_text()) == env
    assert env_file.stat().st_mode & 0o777 == 0o600
    launch = (agent.agent_dir / "launch.json").read_text()
    assert "s3cr3t-value" not in launch and "env" not in json.loads(launch)
    proc = run_wrap(agent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert echo_record(proc.stdout)["env"]["VALUE_FOR_AGENT"] == "s3cr3t-value"
    assert not env_file.exists()
    # Only the agent's own output (which echoes it here) holds the value now.
    assert [f.name for f in agent.agent_dir.iterdir()
            if f.is_file() and "s3cr3t-value" in f.read_text(errors="replace")] == [OUTPUT_LOG]


def test_output_shown_and_teed_to_log(make_agent: Callable[..., Agent]) -> None:
    script = """
    import sys
    print("hello on stdout", flush=True)
    print("hello on stderr", file=sys.stderr, flush=True)
    print("goodbye", flush=True)
    """
    agent = make_agent(script)
    proc = run_wrap(agent)
    assert proc.returncode == 0
    for line in ("hello on stdout", "hello on stderr", "goodbye"):
        assert line in proc.stdout
        assert line in agent.log_text


def test_capped_log_keeps_head_and_newest_tail(make_agent: Callable[..., Agent]) -> None:
    cap = 8192
    n_lines = 4000  # ~200 KB
    script = f"""
    import sys
    for i in range(1, {n_lines} + 1):
        sys.stdout.write(f"line {{i:06d}} " + "x" * 36 + "\\n")
    sys.stdout.flush()
    """
    agent = make_agent(script, log_max_bytes=cap)
    proc = run_wrap(agent)
    assert proc.returncode == 0
    # The pane shows everything; only the log is capped.
    assert proc.stdout.count("\n") >= n_lines
    data = (agent.agent_dir / OUTPUT_LOG).read_bytes()
    assert len(data) <= cap + len(CappedLog.MARKER)
    assert data.startswith(b"line 000001 ")
    assert data.rstrip(b"\n").endswith(f"line {n_lines:06d} ".encode() + b"x" * 36)
    assert CappedLog.MARKER in data


def test_capped_log_unit_small_writes_stay_whole(tmp_path: Path) -> None:
    log = CappedLog(tmp_path / "out.log", 4096)
    for i in range(2000):
        log.write(f"{i:05d}\n".encode())
    log.close()
    data = (tmp_path / "out.log").read_bytes()
    assert len(data) <= 4096 + len(CappedLog.MARKER)
    assert data.startswith(b"00000\n00001\n")
    assert data.endswith(b"01999\n")
    assert log.truncations >= 1


# -- exit.json -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [0, 7])
def test_exit_json_records_normal_exit(make_agent: Callable[..., Agent], code: int) -> None:
    agent = make_agent(f"import sys; print('bye'); sys.exit({code})")
    before = time.time()
    proc = run_wrap(agent)
    assert proc.returncode == code
    data = agent.exit_data
    assert data["code"] == code
    assert data["signal"] is None
    assert data["how"] == "exited"
    assert before <= data["started_at"] <= data["ended_at"] <= time.time()
    assert isinstance(data["pid"], int)
    assert "error" not in data


# A Codex-like agent: its last line, printed as it exits, carries the run's usage.
LAST_LINE_USAGE = """
import json
for line in ({"type": "thread.started", "thread_id": "thread-1"}, {"type": "turn.started"},
             {"type": "turn.completed", "usage": {"input_tokens": 900, "cached_input_tokens": 200,
                                                  "output_tokens": 40}}):
    print(json.dumps(line), flush=True)
"""
# The wrapper with its output reader starved for a while on that last line, as a thread of it
# can be on a loaded machine (the agent has exited by then; nothing holds its output open).
STARVED_READER = """
import sys, time
from pathlib import Path
from swarmtui.engine.wrapper.main import Wrapper
observe = Wrapper._observe
def starved(self, line):
    if b"turn.completed" in line:
        time.sleep(float(sys.argv[2]))
    observe(self, line)
Wrapper._observe = starved
sys.exit(Wrapper(Path(sys.argv[1])).run())
"""


def test_the_exit_record_waits_for_the_agents_last_line_however_slow_its_reader(
        make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(LAST_LINE_USAGE, adapter="codex", kill_grace=0.5)
    # Longer than every grace the wrapper gives leftovers (1 s + kill_grace + 2 s): there are
    # none, so the reader is not cut short; the record carries the last line's usage.
    proc = subprocess.run([sys.executable, "-c", STARVED_READER, str(agent.agent_dir), "5"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = agent.exit_data
    assert data["session_id"] == "thread-1"
    assert data["tokens"] == 940, data


def test_missing_command_exits_127(make_agent: Callable[..., Agent], tmp_path: Path) -> None:
    agent = make_agent("", argv=[str(tmp_path / "no-such-agent-binary"), "-p"])
    proc = run_wrap(agent)
    assert proc.returncode == 127
    data = agent.exit_data
    assert data["code"] == 127
    assert data["how"] == "not_started"
    assert data["error"]
    assert "no-such-agent-binary" in proc.stdout
    assert "no-such-agent-binary" in agent.log_text


# -- signals -------------------------------------------------------------------------------------

GROUP_AGENT = """
import json, os, signal, subprocess, sys, time
if "--ignore-term" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if "--stubborn-grandchild" in sys.argv:
    # A grandchild that ignores TERM and keeps the agent's stdout open.
    ready = sys.argv[1] + ".ready"
    code = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            f"open({ready!r}, 'w').close(); time.sleep(1000)")
    child = subprocess.Popen([sys.executable, "-c", code])
    while not os.path.exists(ready):
        time.sleep(0.01)
else:
    child = subprocess.Popen(["sleep", "1000"])
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    json.dump({"agent": os.getpid(), "grandchild": child.pid}, f)
os.replace(tmp, sys.argv[1])
while True:
    time.sleep(3600)
"""


def _start_group_agent(make_agent: Callable[..., Agent],
                       popen_wrap: Callable[[Agent], subprocess.Popen[bytes]],
                       tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], Agent,
                                                             dict[str, int]]:
    pids_file = tmp_path / f"pids-{len(extra)}.json"
    agent = make_agent(GROUP_AGENT, args=(str(pids_file), *extra), kill_grace=0.5)
    wrapper = popen_wrap(agent)
    wait_until(pids_file.exists, what="the agent to record its pids")
    pids = json.loads(pids_file.read_text())
    assert _pid_alive(pids["agent"]) and _pid_alive(pids["grandchild"])
    return wrapper, agent, pids


def _cleanup(pids: dict[str, int]) -> None:
    for pid in pids.values():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_sigterm_is_forwarded_to_the_process_group(
        make_agent: Callable[..., Agent], popen_wrap: Callable[[Agent], subprocess.Popen[bytes]],
        tmp_path: Path) -> None:
    wrapper, agent, pids = _start_group_agent(make_agent, popen_wrap, tmp_path)
    try:
        # The agent leads its own process group, recorded for the supervisor.
        pgid = int((agent.agent_dir / AGENT_PGID_FILE).read_text())
        assert pgid == pids["agent"] == os.getpgid(pids["agent"]) == os.getpgid(pids["grandchild"])
        assert pgid != os.getpgid(wrapper.pid)
        wrapper.send_signal(signal.SIGTERM)
        rc = wrapper.wait(timeout=15)
        wait_until(lambda: not _pid_alive(pids["grandchild"]), what="the grandchild to end")
        assert not _pid_alive(pids["agent"])
        data = agent.exit_data
        assert data["signal"] == "SIGTERM"
        assert data["code"] is None
        assert data["how"] == "terminated"
        assert rc == 128 + signal.SIGTERM
    finally:
        _cleanup(pids)


def test_sighup_ends_the_group_as_a_hangup(
        make_agent: Callable[..., Agent], popen_wrap: Callable[[Agent], subprocess.Popen[bytes]],
        tmp_path: Path) -> None:
    """HUP (the pane or the tmux server went away) ends the agent, recorded as a hangup."""
    wrapper, agent, pids = _start_group_agent(make_agent, popen_wrap, tmp_path)
    try:
        wrapper.send_signal(signal.SIGHUP)
        wrapper.wait(timeout=15)
        wait_until(lambda: not _pid_alive(pids["grandchild"]), what="the grandchild to end")
        assert not _pid_alive(pids["agent"])
        data = agent.exit_data
        assert data["how"] == "hangup"
        assert data["signal"] == "SIGTERM" and data["code"] is None
    finally:
        _cleanup(pids)


def test_agent_ignoring_sigterm_is_killed_after_grace(
        make_agent: Callable[..., Agent], popen_wrap: Callable[[Agent], subprocess.Popen[bytes]],
        tmp_path: Path) -> None:
    wrapper, agent, pids = _start_group_agent(make_agent, popen_wrap, tmp_path, "--ignore-term")
    try:
        wrapper.send_signal(signal.SIGTERM)
        rc = wrapper.wait(timeout=15)
        wait_until(lambda: not _pid_alive(pids["grandchild"]), what="the grandchild to end")
        assert not _pid_alive(pids["agent"])
        data = agent.exit_data
        assert data["signal"] == "SIGKILL"
        assert data["how"] == "terminated"  # asked to end, though it took a KILL
        assert rc == 128 + signal.SIGKILL
    finally:
        _cleanup(pids)


def test_sigterm_kills_a_stubborn_grandchild_after_grace(
        make_agent: Callable[..., Agent], popen_wrap: Callable[[Agent], subprocess.Popen[bytes]],
        tmp_path: Path) -> None:
    wrapper, agent, pids = _start_group_agent(make_agent, popen_wrap, tmp_path,
                                              "--stubborn-grandchild")
    try:
        wrapper.send_signal(signal.SIGTERM)
        # kill_grace is 0.5 s; the deadline only bounds a hang.
        wait_until(lambda: wrapper.poll() is not None, timeout=2.5,
                       what="the wrapper to end after KILLing the group")
        assert not _pid_alive(pids["grandchild"])
        assert agent.exit_data["how"] == "terminated"
    finally:
        _cleanup(pids)


LEAVES_A_CHILD = """
import json, os, subprocess, sys
child = subprocess.Popen(["sleep", "1000"])  # inherits stdout, never waited for
with open(sys.argv[1], "w") as f:
    json.dump({"grandchild": child.pid}, f)
print("agent done", flush=True)
"""


def test_exit_recorded_when_agent_leaves_a_background_child(
        make_agent: Callable[..., Agent], popen_wrap: Callable[[Agent], subprocess.Popen[bytes]],
        tmp_path: Path) -> None:
    pids_file = tmp_path / "bg.json"
    agent = make_agent(LEAVES_A_CHILD, args=(str(pids_file),), kill_grace=0.5)
    wrapper = popen_wrap(agent)
    wait_until(pids_file.exists, what="the agent to record its child")
    pids = json.loads(pids_file.read_text())
    try:
        wait_until(lambda: (agent.agent_dir / EXIT_FILE).exists(), timeout=2.5,
                       what="exit.json after the agent exited")
        assert agent.exit_data["code"] == 0
        assert agent.exit_data["how"] == "exited"
        wait_until(lambda: wrapper.poll() is not None, timeout=2.5, what="the wrapper to end")
    finally:
        _cleanup(pids)


def _catches_sigterm(pid: int) -> bool:
    """Whether ``pid`` has installed a SIGTERM handler (SigCgt in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def test_sigterm_before_the_agent_starts_is_not_lost(
        make_agent: Callable[..., Agent], popen_wrap: Callable[[Agent], subprocess.Popen[bytes]],
        tmp_path: Path) -> None:
    agent = make_agent(SLEEPER, args=("2",), kill_grace=0.5)
    fifo = agent.agent_dir / PROMPT_FILE
    fifo.unlink()
    os.mkfifo(fifo)  # the wrapper blocks reading its prompt, with its handlers installed
    wrapper = popen_wrap(agent)
    wait_until(lambda: _catches_sigterm(wrapper.pid), what="the wrapper's SIGTERM handler")
    wrapper.send_signal(signal.SIGTERM)
    with open(fifo, "w") as f:
        f.write("the prompt\n")
    wrapper.wait(timeout=15)
    data = agent.exit_data
    assert data["how"] == "terminated"
    assert "finished" not in agent.log_text
    assert data["code"] != 0


# -- orphan self-termination ---------------------------------------------------------------------

SLEEPER = """
import sys, time
print("started", flush=True)
time.sleep(float(sys.argv[1]))
print("finished", flush=True)
"""


def test_orphan_agent_is_ended_when_heartbeat_is_silent(
        make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(SLEEPER, args=("120",), orphan_timeout=1.0, kill_grace=0.5)
    old = time.time() - 3600
    os.utime(agent.heartbeat, (old, old))
    proc = run_wrap(agent, timeout=30)
    data = agent.exit_data
    assert data["how"] == "orphaned"
    assert data["signal"] == "SIGTERM"
    assert "finished" not in agent.log_text
    assert "orphan" in proc.stdout
    assert proc.returncode != 0


def test_fresh_heartbeat_lets_the_agent_finish(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(SLEEPER, args=("2.0",), orphan_timeout=1.0, kill_grace=0.5)
    stop = threading.Event()

    def keep_fresh() -> None:
        while not stop.wait(0.1):
            os.utime(agent.heartbeat)

    toucher = threading.Thread(target=keep_fresh, daemon=True)
    toucher.start()
    try:
        proc = run_wrap(agent, timeout=30)
    finally:
        stop.set()
        toucher.join()
    assert proc.returncode == 0, proc.stdout
    data = agent.exit_data
    assert data["how"] == "exited"
    assert data["code"] == 0
    assert "finished" in agent.log_text


# -- adapters ------------------------------------------------------------------------------------

CLAUDE_STREAM = """
import json
lines = [
    {"type": "system", "subtype": "init", "session_id": "s1", "tools": []},
    {"type": "assistant", "message": {"content": [{"type": "text", "text": "the result is"}]}},
    {"type": "result", "subtype": "success", "is_error": False, "total_cost_usd": 0.0123,
     "duration_ms": 1234, "num_turns": 2, "result": "done",
     "usage": {"input_tokens": 100, "output_tokens": 50, "cache_read_input_tokens": 10,
               "cache_creation_input_tokens": 5}},
]
for obj in lines:
    print(json.dumps(obj), flush=True)
"""


def test_claude_adapter_records_cost_and_tokens(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(CLAUDE_STREAM, adapter="claude")
    proc = run_wrap(agent)
    assert proc.returncode == 0
    data = agent.exit_data
    assert data["cost_usd"] == pytest.approx(0.0123)
    assert data["tokens"] == 165
    assert "agent_error" not in data


def test_generic_adapter_records_no_usage(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(CLAUDE_STREAM, adapter="generic")
    proc = run_wrap(agent)
    assert proc.returncode == 0
    data = agent.exit_data
    assert "cost_usd" not in data
    assert "tokens" not in data
    assert '"total_cost_usd": 0.0123' in agent.log_text
