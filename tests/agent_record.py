"""Record what the real Codex CLI, Gemini CLI and opencode print in each scenario swarmtui must
handle.

    python tests/agent_record.py [--only NAME ...] [--list]

Each scenario runs the CLI headless (``codex exec --json``, ``gemini --output-format
stream-json``, ``opencode run --format json``; prompt on stdin) in a fresh temporary git repository
with a fresh home folder, against the local API stand-in scripted for it (tests/openai_stub.py:
Responses for Codex, Chat Completions for opencode; tests/gemini_stub.py). It saves
``tests/data/<cli>/<scenario>.jsonl`` (stdout, byte for byte) and ``<scenario>.meta.json``
(command line, exit code, stderr tail, duration, one summary per request, tokens billed per
model). Nothing there is hand-written: rerun to regenerate.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.agent_clis import (  # noqa: E402 - the repository root is on sys.path first
    CODEX,
    GEMINI,
    OPENCODE,
    STUB_PROVIDER,
    codex_args,
    codex_env,
    find_cli,
    gemini_env,
    opencode_env,
)
from tests.api_stub import Call, Fail, Hang, Reply, Request, ScriptItem, StubServer, Tokens  # noqa: E402
from tests.gemini_stub import GeminiStub, daily_quota, function_responses  # noqa: E402
from tests.openai_stub import (  # noqa: E402
    OpenAIStub,
    function_outputs,
    tool_messages,
    usage_limit,
)

DATA = ROOT / "tests" / "data"
CODEX_MODEL = "gpt-5.5"
GEMINI_MODEL = "gemini-2.5-pro"
OPENCODE_MODEL = "gpt-5.5"
# US dollars per million tokens, in opencode's config: it says each step's cost from them.
OPENCODE_PRICES = {"input": 1.25, "output": 10.0, "cache_read": 0.125}
PROMPT = "Write a progress line, add hello.txt, commit it, and say done."


@dataclass
class Scenario:
    cli: str  # codex | gemini | opencode
    name: str
    about: str
    script: Callable[[Path], list[ScriptItem]]  # given the repository
    args: Sequence[str] = ()
    env: dict[str, str] = field(default_factory=dict)
    resume: bool = False  # run twice: the second run resumes the first one's session
    no_key: bool = False
    settings: dict[str, Any] = field(default_factory=dict)  # Gemini CLI settings.json


def _steps(req: Request, cli: str) -> int:
    body = req.body if isinstance(req.body, dict) else {}
    if cli == "opencode":
        return len(tool_messages(req))
    if cli == "codex":
        items = body.get("input") or []
        return sum(1 for i in items if isinstance(i, dict)
                   and i.get("type") == "function_call_output")
    return sum(1 for c in body.get("contents") or [] if isinstance(c, dict)
               for p in c.get("parts") or [] if isinstance(p, dict) and "functionResponse" in p)


WORKER_TOKENS = Tokens(400, 30, 100, 5)


def worker(cli: str, repo: Path, tokens: Tokens = WORKER_TOKENS) -> ScriptItem:
    """Three tool calls (a progress line, a file and a commit in one shell command), then text."""
    progress = repo / ".progress.md"
    if cli == "codex":
        plan = [Call("exec_command", {"cmd": f"echo 'started [outputs: 0]' >> {progress}"}),
                Call("exec_command", {"cmd": "printf 'hello\\n' > hello.txt && git add "
                                             "hello.txt && git commit -q -m 'Add hello'"})]
    elif cli == "opencode":  # its GPT models get apply_patch, not write: the shell does it all
        plan = [Call("bash", {"command": f"echo 'started [outputs: 0]' >> {progress}",
                              "description": "Report progress"}),
                Call("bash", {"command": "printf 'hello\\n' > hello.txt && git add hello.txt "
                                         "&& git commit -q -m 'Add hello'",
                              "description": "Add and commit hello.txt"})]
    else:
        plan = [Call("run_shell_command", {"command": f"echo 'started [outputs: 0]' >> "
                                                      f"{progress}"}),
                Call("write_file", {"file_path": str(repo / "hello.txt"), "content": "hello\n"}),
                Call("run_shell_command", {"command": "git add hello.txt && git commit -q -m "
                                                      "'Add hello'"})]

    def answer(req: Request) -> Reply:
        step = _steps(req, cli)
        if step < len(plan):
            return Reply(calls=[plan[step]], tokens=tokens)
        return Reply(text="Done.", tokens=tokens)

    return answer


def _codex(name: str, about: str, script: Callable[[Path], list[ScriptItem]],
           **kw: Any) -> Scenario:
    return Scenario("codex", name, about, script, **kw)


def _opencode(name: str, about: str, script: Callable[[Path], list[ScriptItem]],
              **kw: Any) -> Scenario:
    return Scenario("opencode", name, about, script, **kw)


def _gemini(name: str, about: str, script: Callable[[Path], list[ScriptItem]],
            **kw: Any) -> Scenario:
    return Scenario("gemini", name, about, script, **kw)


BYPASS = ["--dangerously-bypass-approvals-and-sandbox"]
# Gemini CLI retries a failing call 10 times with backoff (minutes for a lasting 5xx);
# general.maxAttempts bounds that.
FEW_ATTEMPTS: dict[str, Any] = {"general": {"maxAttempts": 2}}
YOLO = ["--approval-mode", "yolo"]
AUTO = ["--auto"]
# What the launcher sets for the default policy with the allow list Bash(echo:*) only.
ECHO_ONLY = {"OPENCODE_PERMISSION": json.dumps({"edit": "allow", "bash": {
    "*": "ask", "echo *": "allow"}})}

SCENARIOS: list[Scenario] = [
    _codex("success", "three tool calls and a final message; sandbox bypassed; exit 0",
           lambda r: [worker("codex", r)], args=BYPASS),
    _codex("sandboxed_commit", "workspace-write sandbox: the commit is refused by the sandbox",
           lambda r: [worker("codex", r)], args=["--sandbox", "workspace-write"]),
    _codex("auth_401", "invalid API key: every request answered 401",
           lambda r: [Fail(401, message="Incorrect API key provided", code="invalid_api_key",
                           repeat=True)], args=BYPASS),
    _codex("rate_429_then_ok", "a 429 with retry-after 1, then the work",
           lambda r: [Fail(429, message="Rate limit reached for requests",
                           code="rate_limit_exceeded", headers={"retry-after": "1"}),
                      worker("codex", r)], args=BYPASS),
    _codex("rate_429_forever", "429 rate limit on every request",
           lambda r: [Fail(429, message="Rate limit reached for requests",
                           code="rate_limit_exceeded", headers={"retry-after": "1"},
                           repeat=True)], args=BYPASS),
    _codex("quota_429", "429 insufficient_quota (an API account out of credit)",
           lambda r: [Fail(429, message="You exceeded your current quota",
                           code="insufficient_quota", repeat=True)], args=BYPASS),
    _codex("usage_limit", "429 usage_limit_reached (a ChatGPT plan's limit, with its reset)",
           lambda r: [usage_limit(3600)], args=BYPASS),
    _codex("server_500", "500 on every request",
           lambda r: [Fail(500, message="The server had an error", repeat=True)], args=BYPASS),
    _codex("overloaded_503", "503 on every request",
           lambda r: [Fail(503, message="The engine is currently overloaded", repeat=True)],
           args=BYPASS),
    _codex("context_too_long", "response.failed with context_length_exceeded",
           lambda r: [Fail(200, message="Your input exceeds the context window of this model.",
                           code="context_length_exceeded", repeat=True)], args=BYPASS),
    _codex("resume", "a first run, then `codex exec resume <thread id>` with a follow-up",
           lambda r: [worker("codex", r)], args=BYPASS, resume=True),
    _gemini("success", "write_file and two shell calls, then text; --approval-mode yolo",
            lambda r: [worker("gemini", r)], args=YOLO),
    _gemini("auto_edit", "--approval-mode auto_edit: shell calls are not offered or refused",
            lambda r: [worker("gemini", r)], args=["--approval-mode", "auto_edit"]),
    _gemini("auto_edit_allowed_shell", "--approval-mode auto_edit with --allowed-tools "
            "run_shell_command: the shell is offered and runs",
            lambda r: [worker("gemini", r)], args=["--approval-mode", "auto_edit",
                                                   "--allowed-tools", "run_shell_command"]),
    _gemini("auto_edit_allowed_git", "auto_edit, --allowed-tools for echo, git add and git "
            "commit only (the rules swarmtui makes from Bash(echo:*) etc.)",
            lambda r: [worker("gemini", r)], args=[
                "--approval-mode", "auto_edit", "--allowed-tools", "run_shell_command(echo)",
                "--allowed-tools", "run_shell_command(git add)",
                "--allowed-tools", "run_shell_command(git commit)"]),
    _gemini("auto_edit_git_denied", "auto_edit, --allowed-tools for echo only: the git "
            "command is refused",
            lambda r: [worker("gemini", r)], args=[
                "--approval-mode", "auto_edit", "--allowed-tools", "run_shell_command(echo)"]),
    _gemini("yolo_allowed_git", "--approval-mode yolo with --allowed-tools for git add only: "
            "every other shell command is refused by policy (yolo or not)",
            lambda r: [worker("gemini", r)], args=[
                "--approval-mode", "yolo", "--allowed-tools", "run_shell_command(git add)"]),
    _gemini("auth_400_bad_key", "the API's answer to an invalid key: 400 API_KEY_INVALID",
            lambda r: [Fail(400, message="API key not valid. Please pass a valid API key.",
                            code="INVALID_ARGUMENT", repeat=True, extra={"details": [{
                                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                "reason": "API_KEY_INVALID",
                                "domain": "googleapis.com"}]})], args=YOLO),
    _gemini("auth_401", "401 UNAUTHENTICATED on every request",
            lambda r: [Fail(401, message="Request had invalid authentication credentials.",
                            repeat=True)], args=YOLO),
    _gemini("quota_daily", "429 with a per-day QuotaFailure (no reset time)",
            lambda r: [daily_quota()], args=YOLO),
    _gemini("rate_429_forever", "429 RESOURCE_EXHAUSTED without details on every request",
            lambda r: [Fail(429, message="Resource has been exhausted (e.g. check quota).",
                            repeat=True)], args=YOLO),
    _gemini("server_500", "500 INTERNAL on every request",
            lambda r: [Fail(500, message="An internal error has occurred.", repeat=True)],
            args=YOLO, settings=FEW_ATTEMPTS),
    _gemini("overloaded_503", "503 UNAVAILABLE on every request",
            lambda r: [Fail(503, message="The model is overloaded. Please try again later.",
                            repeat=True)], args=YOLO, settings=FEW_ATTEMPTS),
    _gemini("context_too_long", "400: the input token count exceeds the maximum",
            lambda r: [Fail(400, message="The input token count (1200000) exceeds the maximum "
                            "number of tokens allowed (1048576).", repeat=True)], args=YOLO),
    _gemini("resume", "a first run, then `--resume <session id>` with a follow-up",
            lambda r: [worker("gemini", r)], args=YOLO, resume=True),
    _opencode("success", "two shell calls, then text; --auto", lambda r: [worker("opencode", r)],
              args=AUTO),
    _opencode("permission_refused", "bash asks except `echo *` (OPENCODE_PERMISSION): the git "
              "command is refused and the run stops", lambda r: [worker("opencode", r)],
              env=ECHO_ONLY),
    _opencode("auth_401", "invalid API key: every request answered 401",
              lambda r: [Fail(401, message="Incorrect API key provided", code="invalid_api_key",
                              repeat=True)], args=AUTO),
    _opencode("rate_429_forever", "429 rate limit with retry-after 1 on every request",
              lambda r: [Fail(429, message="Rate limit reached for requests",
                              code="rate_limit_exceeded", headers={"retry-after": "1"},
                              repeat=True)], args=AUTO),
    _opencode("quota_429", "429 insufficient_quota (an API account out of credit; no reset)",
              lambda r: [Fail(429, message="You exceeded your current quota, please check your "
                              "plan and billing details.", code="insufficient_quota",
                              repeat=True)], args=AUTO),
    _opencode("usage_limit", "429 usage_limit_reached with resets_at in its body",
              lambda r: [usage_limit(3600)], args=AUTO),
    _opencode("server_500", "500 on every request",
              lambda r: [Fail(500, message="The server had an error", repeat=True)], args=AUTO),
    _opencode("context_too_long", "400 context_length_exceeded",
              lambda r: [Fail(400, message="This model's maximum context length is 128000 "
                              "tokens. However, your messages resulted in 200000 tokens.",
                              code="context_length_exceeded", repeat=True)], args=AUTO),
    _opencode("resume", "a first run, then `--session <id>` with a follow-up",
              lambda r: [worker("opencode", r)], args=AUTO, resume=True),
]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=recorder", "-c", "user.email=rec@stub.invalid",
                    *args], cwd=repo, check=True, capture_output=True)


def _summary(req: Request) -> dict[str, Any]:
    out: dict[str, Any] = {"method": req.method, "path": req.path, "status": req.status,
                           "route": req.route}
    body = req.body if isinstance(req.body, dict) else None
    if body is not None:
        out["model"] = body.get("model", "")
        fo = function_outputs(req) or function_responses(req) or tool_messages(req)
        if fo:
            out["tool_results"] = [json.dumps(x)[:300] for x in fo]
    return out


def _argv(sc: Scenario, exe: str, base_url: str, session: str | None) -> list[str]:
    if sc.cli == "codex":
        head = [exe, "exec"]
        if session:
            head += ["resume", session]
        return [*head, "--json", "--skip-git-repo-check", *codex_args(base_url), "-m",
                CODEX_MODEL, *sc.args, "-"]
    if sc.cli == "opencode":
        return [exe, "run", "--format", "json", "-m", f"{STUB_PROVIDER}/{OPENCODE_MODEL}",
                "--title", sc.name, *(["--session", session] if session else []), *sc.args]
    resume = ["--resume", session] if session else []
    return [exe, "--output-format", "stream-json", "-m", GEMINI_MODEL, "--skip-trust",
            *resume, *sc.args]


def _session_of(cli: str, stdout: str) -> str | None:
    for line in stdout.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if cli == "codex" and obj.get("type") == "thread.started":
            return str(obj.get("thread_id"))
        if cli == "gemini" and obj.get("type") == "init":
            return str(obj.get("session_id"))
        if cli == "opencode" and obj.get("sessionID"):
            return str(obj["sessionID"])
    return None


def record(sc: Scenario, exe: str, out: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"rec-{sc.cli}-"))
    try:
        repo = tmp / "repo"
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        (repo / "README.md").write_text("# recorded\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "initial")
        stub: StubServer = GeminiStub() if sc.cli == "gemini" else OpenAIStub()
        items = sc.script(repo)
        stub.add(*items[:-1])
        stub.default = items[-1]  # the last item answers every later request
        with stub:
            env = (codex_env(tmp / "home", api_key=None if sc.no_key else
                             "sk-proj-stub-openai-key") if sc.cli == "codex" else
                   opencode_env(tmp / "home", stub.base_url, model=OPENCODE_MODEL,
                                prices=OPENCODE_PRICES) if sc.cli == "opencode" else
                   gemini_env(tmp / "home", stub.base_url, settings=sc.settings))
            env.update(sc.env)
            runs = [(sc.name, None, PROMPT)]
            session = None
            for i, (name, _, prompt) in enumerate(runs + ([(f"{sc.name}.resumed", None,
                                                            "Carry on and say done.")]
                                                          if sc.resume else [])):
                argv = _argv(sc, exe, stub.base_url, session if i else None)
                t0 = time.monotonic()
                try:
                    done = subprocess.run(argv, cwd=repo, env=env, input=prompt,
                                          capture_output=True, text=True, timeout=240)
                    code: int | None = done.returncode
                    stdout, stderr = done.stdout, done.stderr
                except subprocess.TimeoutExpired as e:
                    code = None
                    stdout = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (
                        e.stdout or "")
                    stderr = "timed out"
                took = time.monotonic() - t0
                session = _session_of(sc.cli, stdout)
                (out / f"{name}.jsonl").write_text(stdout)
                shown = [a.replace(stub.base_url, "http://127.0.0.1:PORT") for a in argv]
                meta = {"about": sc.about, "argv": shown, "exit_code": code,
                        "stderr_tail": stderr[-3000:], "seconds": round(took, 2),
                        "requests": [_summary(r) for r in stub.requests],
                        "billed": {m: vars(t) for m, t in stub.billed.items()},
                        "log": subprocess.run(["git", "log", "--oneline"], cwd=repo,
                                              capture_output=True, text=True).stdout}
                (out / f"{name}.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
                if sc.cli == "codex":  # its own session file: what exec --json leaves out
                    files = sorted((tmp / "home" / ".codex" / "sessions").rglob("rollout-*"))
                    if files:
                        shutil.copyfile(files[-1], out / f"{name}.rollout.jsonl")
                print(f"{sc.cli}/{name}: exit {code}, {took:.1f}s, "
                      f"{len(stub.requests)} requests")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", default=None, help="cli/name or name")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.list:
        for sc in SCENARIOS:
            print(f"{sc.cli}/{sc.name}: {sc.about}")
        return 0
    exes: dict[str, str] = {}
    wanted = {sc.cli for sc in SCENARIOS if not args.only or f"{sc.cli}/{sc.name}" in args.only
              or sc.name in args.only}
    for spec in (CODEX, GEMINI, OPENCODE):
        if spec.name not in wanted:
            continue
        found = find_cli(spec)
        if found.path is None:
            print(found.reason, file=sys.stderr)
            return 1
        exes[spec.name] = str(found.path)
    for sc in SCENARIOS:
        if args.only and f"{sc.cli}/{sc.name}" not in args.only and sc.name not in args.only:
            continue
        out = DATA / sc.cli
        out.mkdir(parents=True, exist_ok=True)
        record(sc, exes[sc.cli], out)
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Hang"]
