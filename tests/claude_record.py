"""Record what the real Claude Code CLI prints in each scenario swarmtui must handle.

    python tests/claude_record.py [--out DIR] [--only NAME ...] [--list]

Each scenario runs ``claude -p --output-format stream-json --verbose`` (prompt on stdin) in a
fresh temporary git repository, with a private HOME and config directory, against the local API
stub (tests/anthropic_stub.py) scripted for that scenario. It saves:

* ``DIR/<scenario>.jsonl``: the CLI's stdout, byte for byte;
* ``DIR/<scenario>.meta.json``: the command line, the environment variables set for the run,
  the exit code, stderr, the duration, what the stub received (one summary per request) and
  billed, and notes;
* ``DIR/hooks/<scenario>.<Hook>.json``: for the scenarios run with hooks, a JSON array of the
  payloads each hook command got on stdin (one element per firing).

DIR defaults to tests/data/claude. Nothing here is hand-written output: rerun to regenerate.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.anthropic_stub import (  # noqa: E402 - the repository root is on sys.path first
    ErrorTurn,
    Hang,
    Request,
    Route,
    ScriptItem,
    StubServer,
    ToolUse,
    Turn,
    Usage,
    first_user_text_contains,
    unified_headers,
    usage_limit_error,
)
from tests.claude_cli import (  # noqa: E402
    CLAUDE_CODE_VERSION,
    find_claude,
    hook_settings,
    isolated_env,
    write_settings,
)

DEFAULT_OUT = ROOT / "tests" / "data" / "claude"
HOOK_EVENTS = ["Notification", "Stop", "StopFailure", "SessionStart", "SessionEnd",
               "PermissionRequest", "PermissionDenied", "SubagentStart", "SubagentStop"]
OAUTH_TOKEN = "sk-ant-oat01-stub-subscriber-token"
GIT_ID = ["-c", "user.name=recorder", "-c", "user.email=recorder@stub.invalid"]


@dataclass
class Recording:
    """Where a scenario runs: the repository, the progress file, the hook output folder."""

    work: Path
    home: Path
    progress: Path
    hooks_dir: Path


@dataclass
class Scenario:
    name: str
    description: str
    script: Callable[[Recording], list[ScriptItem]]
    args: Sequence[str] = ()
    prompt: str = "Do the task: record progress, write hello.txt, commit, write results.json."
    oauth: bool = False  # a claude.ai subscriber (CLAUDE_CODE_OAUTH_TOKEN) instead of an API key
    api_key: str = "sk-ant-api03-stub-key"
    max_retries: int | None = 2
    sandbox: bool = True  # IS_SANDBOX=1
    hooks: bool = False
    env: dict[str, str] = field(default_factory=dict)
    kill_after: float | None = None  # send SIGTERM after this many seconds (hang scenarios)
    timeout: float = 120.0
    settings: Callable[[Recording], dict[str, Any]] | None = None
    routes: Callable[[Recording], list[Route]] | None = None
    # settings written to CLAUDE_CONFIG_DIR/settings.json (the user settings) instead of --settings
    config_settings: Callable[[Recording], dict[str, Any]] | None = None


# -- the agent's tool calls ---------------------------------------------------------------------

def task_turns(ctx: Recording, *, end: bool = True) -> list[ScriptItem]:
    """The scripted agent: heartbeat, a file, a commit, results.json, a final text."""
    turns: list[ScriptItem] = [
        Turn(text="Starting: recording progress.", tool_uses=[ToolUse("Bash", {
            "command": 'echo "- step 1: started" >> "$SWARM_PROGRESS_FILE"',
            "description": "Append a progress line"})],
            usage=Usage(input_tokens=1200, output_tokens=40, cache_creation_input_tokens=3000)),
        Turn(tool_uses=[ToolUse("Write", {"file_path": str(ctx.work / "hello.txt"),
                                          "content": "hello from the scripted agent\n"})],
             usage=Usage(input_tokens=300, output_tokens=60, cache_read_input_tokens=3000)),
        Turn(tool_uses=[ToolUse("Bash", {"command": "git add -A && git commit -q -m "
                                                    "'Add hello.txt'",
                                         "description": "Commit the new file"})],
             usage=Usage(input_tokens=250, output_tokens=45, cache_read_input_tokens=3300)),
        Turn(tool_uses=[ToolUse("Write", {"file_path": str(ctx.work / "results.json"),
                                          "content": json.dumps({"status": "done",
                                                                 "summary": "added hello.txt"})
                                          + "\n"})],
             usage=Usage(input_tokens=200, output_tokens=70, cache_read_input_tokens=3600)),
    ]
    if end:
        turns.append(Turn(text="Done: hello.txt committed, results.json written.",
                          usage=Usage(input_tokens=150, output_tokens=25,
                                      cache_read_input_tokens=3900)))
    return turns


def text_turn(text: str = "All done.", **kw: Any) -> Turn:
    return Turn(text=text, usage=Usage(input_tokens=500, output_tokens=12), **kw)


def accept_edits_turns(ctx: Recording) -> list[ScriptItem]:
    return [
        Turn(tool_uses=[ToolUse("Write", {"file_path": str(ctx.work / "hello.txt"),
                                          "content": "written under acceptEdits\n"})]),
        Turn(tool_uses=[ToolUse("Bash", {"command": "git add -A && git commit -q -m edits",
                                         "description": "Commit the edit"})]),
        text_turn("The commit was refused; stopping."),
    ]


SUB_PROMPT = "Run `ls | wc -l` in the repository and report the number."


def subagent_main(background: bool, model: str | None) -> Callable[[Recording], list[ScriptItem]]:
    """The main loop's script: start a subagent, then report what came back."""
    def final(req: Request) -> Turn:
        seen = " ".join(json.dumps(r.get("content"))[:160] for r in req.tool_results())
        what = seen or req.last_user_text()[:160]
        return Turn(text=f"Subagent finished; what reached me: {what}",
                    usage=Usage(input_tokens=900, output_tokens=30))

    def script(ctx: Recording) -> list[ScriptItem]:
        call: dict[str, Any] = {"description": "Count files", "prompt": SUB_PROMPT,
                                "subagent_type": "general-purpose"}
        if not background:
            call["run_in_background"] = False
        if model is not None:
            call["model"] = model
        items: list[ScriptItem] = [
            Turn(text="Delegating to a subagent.", tool_uses=[ToolUse("Agent", call)],
                 usage=Usage(input_tokens=2000, output_tokens=80))]
        if background:
            # the launch returns at once; the main loop ends its turn and is woken by the
            # task notification
            items.append(Turn(text="Waiting for the subagent's report.",
                              usage=Usage(input_tokens=1000, output_tokens=10)))
        items.append(final)
        return items
    return script


def subagent_routes(ctx: Recording) -> list[Route]:
    """The subagent's own requests (its first user message is SUB_PROMPT)."""
    return [Route("subagent", first_user_text_contains(SUB_PROMPT), [
        Turn(text="Counting.", tool_uses=[ToolUse("Bash", {"command": "ls | wc -l",
                                                           "description": "Count files"})],
             usage=Usage(input_tokens=1500, output_tokens=30, cache_creation_input_tokens=500)),
        Turn(text="There are 2 files.", usage=Usage(input_tokens=1600, output_tokens=10)),
    ])]


def context_growth_turns(ctx: Recording) -> list[ScriptItem]:
    """A conversation whose context grows turn by turn (usage as a long session reports it),
    with one answer that calls two tools at once, and a subagent-free end."""
    def bash(command: str, what: str) -> ToolUse:
        return ToolUse("Bash", {"command": command, "description": what})

    return [
        Turn(text="Reading the code.", tool_uses=[bash("ls", "List files")],
             usage=Usage(input_tokens=2000, output_tokens=50,
                         cache_creation_input_tokens=100_000)),
        Turn(tool_uses=[bash("git log --oneline | head -3", "History"),
                        bash('echo "- step 2" >> "$SWARM_PROGRESS_FILE"', "Progress")],
             usage=Usage(input_tokens=3000, output_tokens=80, cache_read_input_tokens=300_000,
                         cache_creation_input_tokens=50_000)),
        Turn(tool_uses=[ToolUse("Write", {"file_path": str(ctx.work / "notes.txt"),
                                          "content": "notes\n"})],
             usage=Usage(input_tokens=1000, output_tokens=60, cache_read_input_tokens=600_000,
                         cache_creation_input_tokens=20_000)),
        Turn(tool_uses=[bash("true", "Nothing")],
             usage=Usage(input_tokens=500, output_tokens=40, cache_read_input_tokens=830_000,
                         cache_creation_input_tokens=10_000)),
        Turn(text="Stopping here: notes.txt written.",
             usage=Usage(input_tokens=400, output_tokens=20, cache_read_input_tokens=840_000)),
    ]


def resume_turns(ctx: Recording) -> list[ScriptItem]:
    return [text_turn("First run: noted the plan."),
            text_turn("Second run: I remember the plan.")]


SCENARIOS: list[Scenario] = [
    Scenario("success", "bypassPermissions with IS_SANDBOX=1 as root: every tool call runs",
             task_turns, args=["--permission-mode", "bypassPermissions"], hooks=True),
    Scenario("success_allowed_tools", "default mode with --allowedTools \"Bash Write\"",
             task_turns, args=["--allowedTools", "Bash Write"], sandbox=False),
    Scenario("success_settings_allow", "default mode with permissions.allow in a --settings file",
             task_turns, sandbox=False,
             settings=lambda ctx: {"permissions": {"allow": ["Bash", "Write"],
                                                   "defaultMode": "default"}}),
    Scenario("success_dangerously_skip", "--dangerously-skip-permissions with IS_SANDBOX=1",
             task_turns, args=["--dangerously-skip-permissions"]),
    Scenario("bypass_root_no_sandbox", "bypassPermissions as root without IS_SANDBOX: refused",
             task_turns, args=["--permission-mode", "bypassPermissions"], sandbox=False),
    Scenario("permission_denied", "default mode, no allowances: tool calls are denied",
             lambda ctx: [*task_turns(ctx, end=False), text_turn("I could not run the tools.")],
             sandbox=False, hooks=True),
    Scenario("permission_denied_dont_ask", "dontAsk mode, no allowances",
             lambda ctx: [*task_turns(ctx, end=False), text_turn("I could not run the tools.")],
             args=["--permission-mode", "dontAsk"], sandbox=False),
    Scenario("accept_edits", "acceptEdits: Write in the repo is allowed, Bash is refused",
             accept_edits_turns, args=["--permission-mode", "acceptEdits"], sandbox=False),
    Scenario("usage_limit", "subscriber, 429 with unified status rejected (5-hour window)",
             lambda ctx: [usage_limit_error(reset=time.time() + 3 * 3600)], oauth=True,
             hooks=True),
    Scenario("usage_limit_weekly", "subscriber, 429 with unified status rejected (7-day window)",
             lambda ctx: [usage_limit_error(reset=time.time() + 4 * 86400, claim="seven_day")],
             oauth=True),
    Scenario("usage_limit_warning", "subscriber, 200 with unified status allowed_warning",
             lambda ctx: [text_turn(headers=unified_headers("allowed_warning"))], oauth=True,
             hooks=True),
    Scenario("usage_limit_allowed", "subscriber, 200 with unified status allowed (the usual case)",
             lambda ctx: [text_turn(headers=unified_headers("allowed"))], oauth=True),
    Scenario("usage_limit_warning_api_key",
             "API-key user, 200 with unified allowed_warning headers",
             lambda ctx: [text_turn(headers=unified_headers("allowed_warning"))]),
    Scenario("usage_limit_api_key", "API-key user gets a 429 carrying unified rejected headers",
             lambda ctx: [replace(usage_limit_error(reset=time.time() + 3 * 3600), repeat=True)]),
    Scenario("auth_401", "invalid API key (a 401 without x-should-retry)",
             lambda ctx: [ErrorTurn(401, repeat=True)], api_key="sk-ant-api03-invalid"),
    Scenario("auth_401_no_retry", "invalid API key, the 401 carrying x-should-retry: false",
             lambda ctx: [ErrorTurn(401, should_retry=False, repeat=True)],
             api_key="sk-ant-api03-invalid"),
    Scenario("overloaded_529", "529 three times, then an answer (CLAUDE_CODE_MAX_RETRIES=5)",
             lambda ctx: [ErrorTurn(529), ErrorTurn(529), ErrorTurn(529), text_turn()],
             max_retries=5, hooks=True),
    Scenario("overloaded_529_forever", "529 on every request (CLAUDE_CODE_MAX_RETRIES=2)",
             lambda ctx: [ErrorTurn(529, repeat=True)], max_retries=2, hooks=True),
    Scenario("overloaded_529_no_sandbox", "529 forever, default retries, IS_SANDBOX unset",
             lambda ctx: [ErrorTurn(529, repeat=True)], max_retries=None, sandbox=False,
             timeout=90),
    Scenario("server_500", "500 on every request (CLAUDE_CODE_MAX_RETRIES=2)",
             lambda ctx: [ErrorTurn(500, repeat=True)], max_retries=2),
    Scenario("server_500_then_ok", "500 once, then an answer",
             lambda ctx: [ErrorTurn(500), text_turn()], max_retries=2),
    Scenario("plain_429", "API-key user: 429 with retry-after: 1 twice, then an answer",
             lambda ctx: [ErrorTurn(429, retry_after=1), ErrorTurn(429, retry_after=1),
                          text_turn()], max_retries=3),
    Scenario("plain_429_forever", "API-key user: 429 with retry-after: 1 on every request",
             lambda ctx: [ErrorTurn(429, retry_after=1, repeat=True)], max_retries=2),
    Scenario("overloaded_mid_stream", "a stream that starts and then sends an overloaded error",
             lambda ctx: [ErrorTurn(529, stream_after_text="Partial answer", repeat=True)],
             max_retries=1),
    Scenario("subagent", "the Agent tool runs a foreground haiku subagent that runs Bash",
             subagent_main(background=False, model="haiku"), routes=subagent_routes,
             args=["--permission-mode", "bypassPermissions"], hooks=True),
    Scenario("subagent_background", "the Agent tool's default: a background subagent",
             subagent_main(background=True, model=None), routes=subagent_routes,
             args=["--permission-mode", "bypassPermissions"]),
    Scenario("subagent_forward_text", "as subagent, with --forward-subagent-text",
             subagent_main(background=False, model="haiku"), routes=subagent_routes,
             args=["--permission-mode", "bypassPermissions", "--forward-subagent-text"]),
    Scenario("max_turns", "--max-turns 1 and a tool call",
             lambda ctx: task_turns(ctx), args=["--max-turns", "1", "--permission-mode",
                                                "bypassPermissions"]),
    Scenario("max_budget", "--max-budget-usd 0.01 and a first answer that costs more",
             lambda ctx: [Turn(text="Spending.",
                               tool_uses=[ToolUse("Bash", {"command": "true",
                                                           "description": "Do nothing"})],
                               usage=Usage(input_tokens=200000, output_tokens=5000)),
                          *task_turns(ctx)],
             args=["--max-budget-usd", "0.01", "--permission-mode", "bypassPermissions"]),
    Scenario("hooks_in_config_dir", "hooks and permissions.defaultMode from "
             "CLAUDE_CONFIG_DIR/settings.json instead of --settings",
             lambda ctx: task_turns(ctx), sandbox=True,
             config_settings=lambda ctx: {
                 **hook_settings(["Stop", "SessionStart", "SessionEnd"], ctx.hooks_dir),
                 "permissions": {"defaultMode": "bypassPermissions"}}),
    Scenario("partial_messages", "--include-partial-messages: stream_event lines while streaming",
             lambda ctx: [Turn(text="A streamed answer in several chunks. " * 3,
                               chunk_delay=0.05, usage=Usage(input_tokens=300,
                                                             output_tokens=30))],
             args=["--include-partial-messages"]),
    Scenario("context_growth", "a long session: the context grows to 85% of the window, one "
             "answer calls two tools at once",
             context_growth_turns, args=["--permission-mode", "bypassPermissions"]),
    Scenario("permission_denied_allow_list", "default mode with an allow list of Bash(echo:*) and "
             "Write: a git command outside it is denied",
             lambda ctx: [Turn(tool_uses=[ToolUse("Bash", {
                 "command": "git tag v1.0", "description": "Tag the release"})],
                 usage=Usage(input_tokens=800, output_tokens=35)),
                 text_turn("I was not allowed to tag; stopping.")],
             sandbox=False,
             settings=lambda ctx: {"permissions": {"allow": ["Bash(echo:*)", "Write"],
                                                   "defaultMode": "default"}}),
    Scenario("killed_mid_turn", "--include-partial-messages, two answers, the third request "
             "never answered; killed after 8 s (no result line)",
             lambda ctx: [*task_turns(ctx, end=False)[:2], Hang(repeat=True)],
             args=["--permission-mode", "bypassPermissions", "--include-partial-messages"],
             kill_after=8.0),
    Scenario("hang", "the API accepts the request and never answers; killed after 6 s",
             lambda ctx: [Hang(repeat=True)], kill_after=6.0),
    Scenario("hang_api_timeout", "never answers, API_TIMEOUT_MS=2000, CLAUDE_CODE_MAX_RETRIES=1",
             lambda ctx: [Hang(repeat=True)], env={"API_TIMEOUT_MS": "2000"}, max_retries=1,
             kill_after=40.0),
]


# -- running --------------------------------------------------------------------------------------

def make_repo(parent: Path) -> Path:
    work = parent / "repo"
    work.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=work, check=True)
    (work / "README.md").write_text("# recorded scenario\n")
    (work / ".git" / "info" / "exclude").write_text(".swarm/\n")
    subprocess.run(["git", *GIT_ID, "add", "-A"], cwd=work, check=True)
    subprocess.run(["git", *GIT_ID, "commit", "-q", "-m", "initial"], cwd=work, check=True)
    return work


def summarize(req: Request) -> dict[str, Any]:
    body = req.body if isinstance(req.body, dict) else {}
    auth = "x-api-key" if "x-api-key" in req.headers else (
        "bearer" if req.headers.get("authorization", "").startswith("Bearer ") else "none")
    return {
        "path": req.path, "status": req.status, "route": req.route, "model": body.get("model"),
        "stream": body.get("stream"), "max_tokens": body.get("max_tokens"),
        "n_tools": len(req.tool_names), "n_messages": len(req.messages),
        "roles": [m.get("role") for m in req.messages], "auth": auth,
        "retry_count": req.headers.get("x-stainless-retry-count"),
        "session_header": req.headers.get("x-claude-code-session-id"),
        "user_agent": req.headers.get("user-agent"),
        "system_starts": req.system_text()[:120],
        "last_user_text": req.last_user_text()[-200:],
        "tool_results": [json.dumps(r)[:300] for r in req.tool_results()],
        "answer": type(req.answer).__name__ if req.answer is not None else None,
    }


def shown_env(env: dict[str, str]) -> dict[str, str]:
    keep = ("ANTHROPIC_", "CLAUDE_", "DISABLE_", "IS_SANDBOX", "API_TIMEOUT_MS", "SWARM_")
    out = {k: v for k, v in sorted(env.items()) if k.startswith(keep)}
    for k in ("ANTHROPIC_BASE_URL", "CLAUDE_CONFIG_DIR"):
        if k in out:
            out[k] = "<" + k.lower() + ">"
    return out


def run_cli(claude: Path, sc: Scenario, ctx: Recording, stub: StubServer, args: Sequence[str],
            prompt: str) -> dict[str, Any]:
    env = isolated_env(stub.base_url, ctx.home, api_key=None if sc.oauth else sc.api_key,
                       oauth_token=OAUTH_TOKEN if sc.oauth else None,
                       max_retries=sc.max_retries, sandbox=sc.sandbox,
                       extra={"SWARM_PROGRESS_FILE": str(ctx.progress), **sc.env})
    argv = [str(claude), "-p", "--output-format", "stream-json", "--verbose", *args]
    settings: dict[str, Any] = {}
    if sc.settings is not None:
        settings.update(sc.settings(ctx))
    if sc.hooks:
        settings.update(hook_settings(HOOK_EVENTS, ctx.hooks_dir))
    if settings:
        path = write_settings(ctx.home / "run-settings.json", settings)
        argv += ["--settings", str(path)]
    user_settings = sc.config_settings(ctx) if sc.config_settings is not None else None
    if user_settings is not None:
        write_settings(ctx.home / ".claude" / "settings.json", user_settings)
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=ctx.work, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    killed = None
    try:
        out, err = proc.communicate(prompt.encode(), timeout=sc.kill_after or sc.timeout)
    except subprocess.TimeoutExpired:
        killed = "SIGTERM after %.0fs" % (sc.kill_after or sc.timeout)
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            killed += ", then SIGKILL"
            proc.kill()
            out, err = proc.communicate()
    duration = time.monotonic() - started
    shown_argv = ["claude", *argv[1:]]
    if settings:
        shown_argv[-1] = "<settings.json>"
    return {"argv": shown_argv, "settings": settings or None,
            "config_dir_settings_json": user_settings, "env": shown_env(env),
            "prompt": prompt, "exit_code": proc.returncode, "killed": killed,
            "duration_s": round(duration, 2), "stdout": out, "stderr": err.decode(errors="replace")}


def collect_hooks(ctx: Recording) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for path in sorted(ctx.hooks_dir.glob("*.jsonl")):
        payloads: list[Any] = []
        for line in path.read_text().splitlines():
            if line.strip():
                try:
                    payloads.append(json.loads(line))
                except ValueError:
                    payloads.append({"unparsed": line})
        found[path.stem] = payloads
    return found


def git_state(work: Path) -> dict[str, Any]:
    log = subprocess.run(["git", "log", "--format=%s"], cwd=work, capture_output=True,
                         text=True, check=False).stdout.split("\n")
    status = subprocess.run(["git", "status", "--porcelain"], cwd=work, capture_output=True,
                            text=True, check=False).stdout
    return {"commits": [x for x in log if x], "status": status.splitlines(),
            "files": sorted(p.name for p in work.iterdir() if p.name != ".git")}


def record(claude: Path, sc: Scenario, out_dir: Path) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"claude-rec-{sc.name}-"))
    try:
        ctx = Recording(work=make_repo(tmp), home=tmp / "home", progress=tmp / "repo" / ".swarm"
                  / "progress.md", hooks_dir=tmp / "hooks")
        ctx.progress.parent.mkdir(parents=True)
        runs: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = []
        routes = sc.routes(ctx) if sc.routes is not None else []
        with StubServer(sc.script(ctx), routes=routes, side_answers=True) as stub:
            first = run_cli(claude, sc, ctx, stub, sc.args, sc.prompt)
            runs.append((sc.name, first, [summarize(r) for r in stub.requests]))
            if sc.name == "resume":
                session = session_id(first["stdout"])
                seen = len(stub.requests)
                second = run_cli(claude, sc, ctx, stub, [*sc.args, "--resume", session],
                                 "Follow-up: what was the plan?")
                runs.append((sc.name + ".resumed", second,
                             [summarize(r) for r in stub.requests[seen:]]))
            billed = {m: u.as_json() for m, u in stub.billed.items()}
        hooks = collect_hooks(ctx)
        progress = ctx.progress.read_text() if ctx.progress.exists() else None
        state = git_state(ctx.work)
        for name, res, reqs in runs:
            (out_dir / f"{name}.jsonl").write_bytes(res.pop("stdout"))
            meta = {"scenario": name, "description": sc.description, **res,
                    "oauth_subscriber": sc.oauth, "stub_requests": reqs, "stub_billed": billed,
                    "repo_after": state, "progress_file_after": progress,
                    "hooks_fired": sorted(hooks)}
            (out_dir / f"{name}.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        if sc.hooks or sc.config_settings is not None:
            (out_dir / "hooks").mkdir(exist_ok=True)
            for event, payloads in hooks.items():
                (out_dir / "hooks" / f"{sc.name}.{event}.json").write_text(
                    json.dumps(payloads, indent=2) + "\n")
        return {"scenario": sc.name, "exit_code": runs[-1][1]["exit_code"],
                "hooks": sorted(hooks)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def session_id(stdout: bytes) -> str:
    for line in stdout.decode(errors="replace").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("type") == "system" and obj.get("subtype") == "init":
            return str(obj["session_id"])
    raise RuntimeError("no init line with a session_id")


SCENARIOS.append(Scenario("resume", "a run, then --resume <session_id> with a follow-up",
                          resume_turns, prompt="Remember the plan: add hello.txt."))


README_HEAD = """# Claude Code transcripts

Recorded from the real Claude Code CLI **{version}** on {date} (UTC) by
`tests/claude_record.py`, running `claude -p --output-format stream-json --verbose` (prompt on
stdin) in a fresh git repository against the local API stub `tests/anthropic_stub.py`, as root,
with a private HOME and `CLAUDE_CONFIG_DIR`. Nothing here is hand-written; this file is generated
too. Regenerate everything with

    .venv/bin/python tests/claude_record.py

or one scenario with `--only NAME` (`--list` lists them). The CLI comes from
`tests/claude_cli.py` (npm package `@anthropic-ai/claude-code@{pinned}`, cached in
`.ci/cache/claude` or `$SWARMTUI_CLAUDE_DIR`).

Per scenario: `<scenario>.jsonl` is the CLI's stdout byte for byte; `<scenario>.meta.json` holds
the command line, the environment variables set, the exit code, stderr, the duration, one
summary per request the stub received, the usage the stub billed per model, and the repository
state afterwards; `hooks/<scenario>.<Event>.json` is a JSON array of the payloads the hook
command for that event received on stdin (one element per firing). Paths in the transcripts are
the temporary directories of the recording run.

| file | what |
|---|---|
"""


def write_readme(out_dir: Path, version: str, date: str) -> None:
    rows: list[str] = []
    by_name = {sc.name: sc for sc in SCENARIOS}
    for path in sorted(out_dir.glob("*.jsonl")):
        name = path.name[:-len(".jsonl")]
        meta_path = out_dir / f"{name}.meta.json"
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            meta = {}
        base = by_name.get(name.split(".")[0])
        what = base.description if base is not None else "(scenario no longer in the script)"
        if name.endswith(".resumed"):
            what = "the second run of resume: `--resume <session_id>` with a follow-up prompt"
        rows.append(f"| `{path.name}` | {what}; exit {meta.get('exit_code')} |")
        rows.append(f"| `{meta_path.name}` | run details of `{path.name}` |")
    for path in sorted((out_dir / "hooks").glob("*.json")):
        scenario, event = path.name[:-len(".json")].rsplit(".", 1)
        rows.append(f"| `hooks/{path.name}` | what the {event} hook received in {scenario} |")
    rows.append("| `recorded.json` | version, date and exit code of every scenario |")
    text = README_HEAD.format(version=version, date=date, pinned=CLAUDE_CODE_VERSION)
    (out_dir / "README.md").write_text(text + "\n".join(rows) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", nargs="*", default=None, help="scenario names")
    parser.add_argument("--list", action="store_true")
    opts = parser.parse_args(argv)
    if opts.list:
        for sc in SCENARIOS:
            print(f"{sc.name:28} {sc.description}")
        return 0
    unknown = set(opts.only or []) - {sc.name for sc in SCENARIOS}
    if unknown:
        print(f"unknown scenarios: {sorted(unknown)}", file=sys.stderr)
        return 2
    found = find_claude()
    if found.path is None:
        print(f"cannot record: {found.reason}", file=sys.stderr)
        return 2
    out_dir: Path = opts.out
    out_dir.mkdir(parents=True, exist_ok=True)
    chosen = [sc for sc in SCENARIOS if opts.only is None or sc.name in opts.only]
    index_path = out_dir / "recorded.json"
    try:
        index: dict[str, Any] = json.loads(index_path.read_text()) if opts.only else {}
    except (OSError, ValueError):
        index = {}
    scenarios: dict[str, Any] = dict(index.get("scenarios") or {})
    if opts.only is None:
        shutil.rmtree(out_dir / "hooks", ignore_errors=True)
        for old in [*out_dir.glob("*.jsonl"), *out_dir.glob("*.meta.json")]:
            old.unlink()
    now = datetime.now(UTC)
    for sc in chosen:
        print(f"recording {sc.name} ...", flush=True)
        res = record(found.path, sc, out_dir)
        print(f"  exit {res['exit_code']}, hooks {res['hooks']}", flush=True)
        scenarios[sc.name] = {"exit_code": res["exit_code"], "hooks": res["hooks"],
                              "recorded_at": now.isoformat(timespec="seconds")}
    index = {"claude_code_version": found.version, "pinned": CLAUDE_CODE_VERSION,
             "recorded_at": now.isoformat(timespec="seconds"),
             "command": "python tests/claude_record.py", "uid": os.getuid(),
             "scenarios": scenarios}
    index_path.write_text(json.dumps(index, indent=2) + "\n")
    write_readme(out_dir, found.version, now.strftime("%Y-%m-%d"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
