"""Record what the real Qwen Code prints in each scenario swarmtui must handle.

    python tests/qwen_record.py [--only NAME ...] [--list]

Each scenario runs ``qwen --output-format stream-json`` (prompt on stdin) in a fresh temporary
git repository with a fresh home folder (tests/agent_clis.py:qwen_env: its rate-limit retries
cut to two, half a second apart), against the Chat Completions API of the local stand-in
(tests/openai_stub.py) scripted for it. It saves ``tests/data/qwen/<scenario>.jsonl`` (stdout,
byte for byte) and ``<scenario>.meta.json`` (command line, exit code, stderr tail, duration, one
summary per request, tokens billed per model). Nothing there is hand-written: rerun to
regenerate.
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

from tests.agent_clis import QWEN, find_cli, qwen_env  # noqa: E402
from tests.agent_record import PROMPT, WORKER_TOKENS, _git, _summary  # noqa: E402
from tests.api_stub import Call, Fail, Reply, Request, ScriptItem, Tokens  # noqa: E402
from tests.openai_stub import OpenAIStub, tool_messages, usage_limit  # noqa: E402

DATA = ROOT / "tests" / "data" / "qwen"
MODEL = "qwen3-coder-plus"


def worker(repo: Path, tokens: Tokens = WORKER_TOKENS) -> ScriptItem:
    """A progress line (shell), hello.txt (write_file), a commit (one chained shell command),
    then text."""
    plan = [Call("run_shell_command", {"command": "echo 'started [outputs: 0]' >> "
                                                  f"{repo / '.progress.md'}"}),
            Call("write_file", {"file_path": str(repo / "hello.txt"), "content": "hello\n"}),
            Call("run_shell_command", {"command": "git add hello.txt && git commit -q -m "
                                                  "'Add hello'"})]

    def answer(req: Request) -> Reply:
        step = len(tool_messages(req))
        if step < len(plan):
            return Reply(calls=[plan[step]], tokens=tokens)
        return Reply(text="Done.", tokens=tokens)

    return answer


@dataclass
class Scenario:
    name: str
    about: str
    script: Callable[[Path], list[ScriptItem]]
    args: Sequence[str] = ()
    resume: bool = False
    settings: dict[str, Any] = field(default_factory=dict)


YOLO = ["--approval-mode", "yolo"]
# Qwen Code honours a retry-after between its own retries: one second keeps a lasting error
# to about half a minute (tests/agent_clis.py:qwen_env).
SOON = {"retry-after": "1"}
AUTO_EDIT = ["--approval-mode", "auto-edit"]


def _soon(fail: Fail) -> Fail:
    return Fail(fail.status, message=fail.message, code=fail.code, extra=fail.extra,
                headers={**fail.headers, **SOON}, repeat=True)


def _allowed(*rules: str) -> list[str]:
    return [a for r in rules for a in ("--allowed-tools", r)]


SCENARIOS: list[Scenario] = [
    Scenario("success", "a shell call, write_file, a chained git shell call, then text; yolo",
             lambda r: [worker(r)], YOLO),
    Scenario("auto_edit_git_denied", "auto-edit, --allowed-tools for echo only: the git "
             "command is refused (and listed in permission_denials)", lambda r: [worker(r)],
             [*AUTO_EDIT, *_allowed("run_shell_command(echo)")]),
    Scenario("auto_edit_allowed", "auto-edit with --allowed-tools for echo, git add and git "
             "commit (what swarmtui makes of Bash(echo:*) etc.): all runs",
             lambda r: [worker(r)], [*AUTO_EDIT, *_allowed(
                 "run_shell_command(echo)", "run_shell_command(git add)",
                 "run_shell_command(git commit)")]),
    Scenario("deny_rule", "yolo with --exclude-tools run_shell_command(git commit) (what "
             "swarmtui makes of the deny rule Bash(git commit:*)): the commit is refused",
             lambda r: [worker(r)], [*YOLO, "--exclude-tools", "run_shell_command(git commit)"]),
    Scenario("plan_mode", "--approval-mode plan: nothing is written or run",
             lambda r: [worker(r)], ["--approval-mode", "plan"]),
    Scenario("auth_401", "invalid API key: every request answered 401",
             lambda r: [Fail(401, message="Incorrect API key provided", code="invalid_api_key",
                             repeat=True)], YOLO),
    Scenario("rate_429_then_ok", "a 429 with retry-after 1, then the work",
             lambda r: [Fail(429, message="Rate limit reached for requests",
                             code="rate_limit_exceeded", headers={"retry-after": "1"}),
                        worker(r)], YOLO),
    Scenario("rate_429_forever", "429 rate limit with retry-after 1 on every request",
             lambda r: [Fail(429, message="Rate limit reached for requests",
                             code="rate_limit_exceeded", headers={"retry-after": "1"},
                             repeat=True)], YOLO),
    Scenario("quota_429", "429 insufficient_quota (an API account out of credit; no reset)",
             lambda r: [Fail(429, message="You exceeded your current quota, please check your "
                             "plan and billing details.", code="insufficient_quota",
                             headers=SOON, repeat=True)], YOLO),
    Scenario("usage_limit", "429 usage_limit_reached with resets_at in its body",
             lambda r: [_soon(usage_limit(3600))], YOLO),
    Scenario("server_500", "500 on every request",
             lambda r: [Fail(500, message="The server had an error", headers=SOON,
                             repeat=True)], YOLO),
    Scenario("overloaded_503", "503 on every request",
             lambda r: [Fail(503, message="The engine is currently overloaded",
                             headers=SOON, repeat=True)],
             YOLO),
    Scenario("context_too_long", "400 context_length_exceeded",
             lambda r: [Fail(400, message="This model's maximum context length is 128000 "
                             "tokens. However, your messages resulted in 200000 tokens.",
                             code="context_length_exceeded", headers=SOON, repeat=True)], YOLO),
    Scenario("resume", "a first run, then `--resume <session id>` with a follow-up",
             lambda r: [worker(r)], YOLO, resume=True),
]


def _session_of(stdout: str) -> str | None:
    for line in stdout.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("type") == "system" and obj.get("session_id"):
            return str(obj["session_id"])
    return None


def record(sc: Scenario, exe: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="rec-qwen-"))
    try:
        repo = tmp / "repo"
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        (repo / "README.md").write_text("# recorded\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "initial")
        stub = OpenAIStub()
        items = sc.script(repo)
        stub.add(*items[:-1])
        stub.default = items[-1]  # the last item answers every later request
        with stub:
            env = qwen_env(tmp / "home", stub.base_url, model=MODEL, settings=sc.settings)
            runs = [(sc.name, PROMPT)]
            if sc.resume:
                runs.append((f"{sc.name}.resumed", "Carry on and say done."))
            session = None
            for i, (name, prompt) in enumerate(runs):
                argv = [exe, "--output-format", "stream-json", *sc.args,
                        *(["--resume", session] if i and session else [])]
                t0 = time.monotonic()
                try:
                    done = subprocess.run(argv, cwd=repo, env=env, input=prompt,
                                          capture_output=True, text=True, timeout=240)
                    code: int | None = done.returncode
                    stdout, stderr = done.stdout, done.stderr
                except subprocess.TimeoutExpired as e:
                    code, stderr = None, "timed out"
                    stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else ""
                took = time.monotonic() - t0
                session = _session_of(stdout)
                (DATA / f"{name}.jsonl").write_text(stdout)
                meta = {"about": sc.about, "argv": ["qwen", *argv[1:]], "exit_code": code,
                        "stderr_tail": stderr[-3000:], "seconds": round(took, 2),
                        "requests": [_summary(r) for r in stub.requests],
                        "billed": {m: vars(t) for m, t in stub.billed.items()},
                        "log": subprocess.run(["git", "log", "--oneline"], cwd=repo,
                                              capture_output=True, text=True).stdout}
                (DATA / f"{name}.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
                print(f"qwen/{name}: exit {code}, {took:.1f}s, {len(stub.requests)} requests")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--only", nargs="*", default=None, help="scenario names")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.list:
        for sc in SCENARIOS:
            print(f"qwen/{sc.name}: {sc.about}")
        return 0
    found = find_cli(QWEN)
    if found.path is None:
        print(found.reason, file=sys.stderr)
        return 1
    DATA.mkdir(parents=True, exist_ok=True)
    for sc in SCENARIOS:
        if not args.only or sc.name in args.only:
            record(sc, str(found.path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
