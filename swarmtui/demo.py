"""``swarmtui demo``: a throwaway repository whose tasks exercise every simulated-agent scenario.

Intervals are in seconds so the whole run (stalls detected and killed, crashes retried with a
handoff, a failed verification fixed, scope locks, dependencies, sub-agents and a refused
spawn) takes about two minutes. A mixed fleet: besides plain simulated agents, some speak
Claude Code's, Codex's and Gemini CLI's own output (``fake_speech.py``), read by those adapters;
one task runs on a Claude account that hits its usage limit and carries on, at once, on a Codex
account (demo keys in files of the demo folder: nothing real is used or sent anywhere).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from swarmtui.fake_agent import CONFLICT_FILE, verify_command_for

# (task id, scenario, title, extra task keys)
DEMO_TASKS: list[tuple[str, str, str, dict[str, object]]] = [
    ("parser", "success", "Write the config parser", {"files": ["fake/parser.txt"]}),
    ("docs", "slow", "Document the public API", {"files": ["fake/docs*"]}),
    ("publish", "ask", "Publish the docs preview (asks you first: press g)",
     {"files": ["fake/publish*", "fake/published.txt"], "verify": None}),
    ("port", "codex-style", "Port the CLI flags (a Codex-style agent)", {}),
    ("changelog", "gemini-style", "Write the changelog (a Gemini-style agent)", {}),
    ("migrate", "claude-style", "Migrate the settings (its Claude account hits a usage limit; "
     "a Codex account carries on)", {"accounts": ["claude-team", "codex-spare"]}),
    ("flaky", "fail-verify-once", "Fix the off-by-one (first try leaves a bug)", {}),
    ("stall", "stall", "Refactor storage (the first attempt stalls)", {}),
    ("crash", "crash", "Add the cache (the first attempt crashes)", {}),
    ("loop", "loop", "Tune the scheduler (the first attempt loops)", {}),
    ("edit-a", "conflict", "Reword the shared header (A)",
     {"files": [CONFLICT_FILE, "fake/edit-a.txt"]}),
    ("edit-b", "conflict", "Reword the shared header (B)",
     {"files": [CONFLICT_FILE, "fake/edit-b.txt"]}),
    ("inject", "inject", "Summarise the logs (summary carries an injection)", {}),
    ("planner", "spawner", "Split the API work into sub-agents",
     {"role": "orchestrator", "verify": None}),
    ("release", "success", "Write the release notes", {"depends_on": ["parser", "docs"]}),
]
# The demo's accounts: keys are made-up words in files; the Claude one says "limited", which the
# simulated Claude-style agent answers with its usage limit.
DEMO_KEYS = {"claude-team": "sk-ant-oat01-demo-limited-not-a-real-key",
             "codex-spare": "sk-demo-codex-not-a-real-key"}


def _toml_value(v: object) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def ask_agent(py: str, pace: float) -> str:
    argv = [py, "-P", "-m", "swarmtui.fake_live", "--pace", str(pace)]
    return (f"[agents.ask]\ncommand = {_toml_value(argv)}\nprompt_via = \"stdin\"\n"
            "adapter = \"claude\"\n[agents.ask.permissions]\nask_timeout = \"1m\"\n")


def styled_agents(py: str, pace: float) -> str:
    """Simulated agents that speak Claude Code's, Codex's and Gemini CLI's output, and the
    accounts the failover task runs on."""
    def agent(style: str, adapter: str, extra: list[str], cli: list[str], more: str = "") -> str:
        argv = [py, "-P", "-m", "swarmtui.fake_speech", "--speaks", adapter, "--scenario",
                "success", "--pace", str(pace), "--seed", "7", *extra, "--", *cli]
        return (f"[agents.{style}]\ncommand = {_toml_value(argv)}\nprompt_via = \"stdin\"\n"
                f"adapter = \"{adapter}\"\n{more}")

    return "\n".join([
        agent("claude-style", "claude", ["--limited-key", "limited"], ["-p"],
              "[agents.claude-style.permissions]\nask = false\n"),
        agent("codex-style", "codex", [], ["exec", "--json", "-m", "gpt-5.5", "-"]),
        agent("gemini-style", "gemini", [], ["--output-format", "stream-json"]),
    ])


def accounts_config(keys: Path) -> str:
    clis = {"claude-team": ("claude", ""), "codex-spare": ("codex", "codex-style")}
    out = []
    for name, (cli, agent) in clis.items():
        out += ["[[accounts]]", f"name = {_toml_value(name)}", f"cli = {_toml_value(cli)}",
                f"file = {_toml_value(str(keys / f'{name}.key'))}"]
        out += [f"agent = {_toml_value(agent)}"] if agent else []
        out.append("")
    return "\n".join(out)


def demo_config(pace: float, keys: Path | None = None) -> str:
    py = sys.executable

    def agent(scenario: str, *extra: str) -> str:
        argv = [py, "-P", "-m", "swarmtui", "fake-agent", "--scenario", scenario, "--pace",
                str(pace), "--seed", "7", *extra]
        return (f"[agents.{scenario}]\ncommand = {_toml_value(argv)}\nprompt_via = \"stdin\"\n"
                "adapter = \"generic\"\n")

    # Agents write a progress line every ``pace`` seconds: the interval that counts as silence
    # follows, so a healthy agent at a slow pace is not called quiet between two lines.
    interval = f"{max(2.0, 1.5 * pace):g}s"
    agents = "\n".join([
        agent("success"), agent("slow"), agent("fail-verify-once"),
        agent("stall", "--until-attempt", "1"), agent("crash", "--until-attempt", "1"),
        agent("loop", "--until-attempt", "1", "--max-loops", "40"),
        agent("conflict"), agent("inject"), agent("spawner", "--child-agent", "success"),
        # A simulated Claude Code session that asks before it publishes (swarmtui/fake_live.py):
        # answer it with g; unanswered, it is denied after a minute and carries on without.
        ask_agent(py, pace),
        styled_agents(py, pace),
    ])
    accounts = accounts_config(keys) if keys is not None else ""
    return f"""# swarmtui demo configuration: intervals in seconds so everything happens quickly.
[slots]
max_agents = 4
reserve = 1
max_depth = 1
subtree_budget = 2
min_free_memory = "0"

[slots.pools]
worker = 4
orchestrator = 1

[heartbeat]
tick = "500ms"
progress_interval = "{interval}"
quiet_after = 2
stuck_after = 3
unproductive_after = 4
orphan_timeout = "1m"
stale_result_after = 30

[retry]
max_attempts = 3
backoff = "1s"
backoff_max = "4s"

[breaker]
max_failures = 20
period = "1m"

[merge]
# Verified work merges itself into main, one task at a time, each merge checked first.
auto = true
verify = "! grep -rqF 'FAKE-BUG' fake/"

[run]
default_agent = "success"
default_role = "worker"
kill_grace = "2s"

# US dollars per million tokens, for the Codex-style and Gemini-style agents (made-up figures).
[prices."gpt-5.5"]
input = 1.25
output = 10.0

[prices."gemini-2.5-pro"]
input = 1.25
output = 10.0

{accounts}
{agents}"""


def build_demo(base: Path | None = None, *, pace: float = 0.5) -> tuple[Path, Path, Path]:
    """Create the demo repository; returns (repo, tasks file, config file)."""
    root = Path(tempfile.mkdtemp(prefix="swarmtui-demo-")) if base is None else Path(base)
    repo = root / "repo"
    if repo.exists():
        raise FileExistsError(f"{repo} exists; pass another --dir")
    repo.mkdir(parents=True)
    (repo / "README.md").write_text("# demo project\n\nA throwaway repository for swarmtui.\n")
    (repo / CONFLICT_FILE).write_text("line 1: the shared header\nline 2\nline 3\n")
    (repo / "fake").mkdir()
    (repo / "fake" / ".keep").write_text("")

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=swarmtui-demo", "-c",
                        "user.email=demo@swarmtui.invalid", *args], cwd=repo, check=True,
                       capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "demo: initial commit")
    keys = root / "keys"
    keys.mkdir(mode=0o700)
    for name, key in DEMO_KEYS.items():
        (keys / f"{name}.key").write_text(key + "\n")
        (keys / f"{name}.key").chmod(0o600)
    config = root / "config.toml"
    config.write_text(demo_config(pace, keys))
    lines = ["# swarmtui demo tasks: one per simulated-agent scenario.", ""]
    for tid, scenario, title, extra in DEMO_TASKS:
        kind = "success" if scenario.endswith("-style") else scenario
        verify = extra["verify"] if "verify" in extra else verify_command_for(kind, tid)
        lines += ["[[task]]", f"id = {_toml_value(tid)}", f"title = {_toml_value(title)}",
                  f"prompt = {_toml_value(title + '. (Simulated: scenario ' + scenario + '.)')}",
                  f"agent = {_toml_value(scenario)}"]
        for k, v in extra.items():
            if k != "verify" and v is not None:
                lines.append(f"{k} = {_toml_value(v)}")
        if verify:
            lines.append(f"verify = {_toml_value(verify)}")
        lines.append("")
    tasks = root / "tasks.toml"
    tasks.write_text("\n".join(lines))
    return repo, tasks, config


def describe(repo: Path, tasks: Path, config: Path) -> str:
    return (f"repo {repo}\ntasks {tasks}\nconfig {config}\n"
            f"re-run: swarmtui up {shlex.quote(str(tasks))} --repo {shlex.quote(str(repo))} "
            f"--config {shlex.quote(str(config))}")
