"""Record what the real Aider prints in each scenario swarmtui must handle.

    python tests/aider_record.py [--only NAME ...] [--list]

Each scenario runs Aider the way swarmtui launches it (``aider --model openai/MODEL`` plus what
``swarmtui/engine/adapters/aider_launch.py`` adds: ``--yes-always``, ``--no-stream``, the
prompt from a file, its analytics log and histories in an attempt folder) in a fresh temporary
git repository with a fresh home folder, against the Chat Completions API of the local stand-in
(tests/openai_stub.py). It saves ``tests/data/aider/<scenario>.txt`` (stdout, byte for byte),
``<scenario>.analytics.jsonl`` (the analytics log it wrote) and ``<scenario>.meta.json``
(command line, exit code, stderr tail, duration, one summary per request, tokens billed per
model, the repository's log). Nothing there is hand-written: rerun to regenerate.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from swarmtui.engine.adapters import aider_launch  # noqa: E402
from tests.agent_record import _git, _summary  # noqa: E402
from tests.aider_cli import aider_env, find_aider  # noqa: E402
from tests.api_stub import Fail, Reply, Request, ScriptItem, Tokens  # noqa: E402
from tests.openai_stub import OpenAIStub  # noqa: E402

DATA = ROOT / "tests" / "data" / "aider"
MODEL = "gpt-5.5"
PRICES = {"input": 1.25, "output": 10.0}  # per million tokens, in its model metadata file
PROMPT = "Add hello.txt containing the line hello."
EDIT_TOKENS = Tokens(1400, 60, 0, 0)
COMMIT_TOKENS = Tokens(300, 12, 0, 0)


def worker(_: Path) -> ScriptItem:
    """Answers an edit request with a whole-file edit of hello.txt, and Aider's commit-message
    request (to its weak model: the same one here) with a message."""

    def answer(req: Request) -> Reply:
        if "commit message" in req.text.lower():
            return Reply(text="Add hello.txt", tokens=COMMIT_TOKENS)
        return Reply(text="hello.txt\n```\nhello\n```\n", tokens=EDIT_TOKENS)

    return answer


@dataclass
class Scenario:
    name: str
    about: str
    script: Callable[[Path], list[ScriptItem]]
    prices: bool = True
    mode: str = "acceptEdits"


SOON = {"retry-after": "1"}
SCENARIOS: list[Scenario] = [
    Scenario("success", "one whole-file edit, committed with a message from the model; its "
             "prices in a model metadata file", lambda r: [worker(r)]),
    Scenario("success_unpriced", "the same, the model's prices unknown to Aider",
             lambda r: [worker(r)], prices=False),
    Scenario("plan_ask", "plan: --chat-mode ask (no edits)", lambda r: [worker(r)],
             mode="plan"),
    Scenario("auth_401", "invalid API key: every request answered 401",
             lambda r: [Fail(401, message="Incorrect API key provided", code="invalid_api_key",
                             repeat=True)]),
    Scenario("rate_429_forever", "429 rate limit with retry-after 1 on every request",
             lambda r: [Fail(429, message="Rate limit reached for requests",
                             code="rate_limit_exceeded", headers=SOON, repeat=True)]),
    Scenario("quota_429", "429 insufficient_quota (an API account out of credit)",
             lambda r: [Fail(429, message="You exceeded your current quota, please check your "
                             "plan and billing details.", code="insufficient_quota",
                             headers=SOON, repeat=True)]),
    Scenario("server_500", "500 on every request",
             lambda r: [Fail(500, message="The server had an error", headers=SOON,
                             repeat=True)]),
    Scenario("context_too_long", "400 context_length_exceeded",
             lambda r: [Fail(400, message="This model's maximum context length is 128000 "
                             "tokens. However, your messages resulted in 200000 tokens.",
                             code="context_length_exceeded", repeat=True)]),
]


def record(sc: Scenario, exe: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="rec-aider-"))
    try:
        repo, adir = tmp / "repo", tmp / "attempt"
        repo.mkdir()
        adir.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        (repo / "README.md").write_text("# recorded\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "initial")
        (adir / "prompt.md").write_text(PROMPT + "\n")
        stub = OpenAIStub()
        items = sc.script(repo)
        stub.add(*items[:-1])
        stub.default = items[-1]
        with stub:
            env = aider_env(tmp / "home", stub.base_url, model=MODEL,
                            prices=PRICES if sc.prices else None)
            argv = aider_launch.argv_for([exe, "--model", f"openai/{MODEL}"], mode=sc.mode,
                                         agent_dir=str(adir), prompt_file=str(adir /
                                                                              "prompt.md"))
            t0 = time.monotonic()
            try:
                done = subprocess.run(argv, cwd=repo, env=env, stdin=subprocess.DEVNULL,
                                      capture_output=True, text=True, timeout=300)
                code: int | None = done.returncode
                stdout, stderr = done.stdout, done.stderr
            except subprocess.TimeoutExpired as e:
                code, stderr = None, "timed out"
                stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else ""
            took = time.monotonic() - t0
            (DATA / f"{sc.name}.txt").write_text(stdout)
            log = adir / aider_launch.ANALYTICS_LOG
            (DATA / f"{sc.name}.analytics.jsonl").write_text(
                log.read_text() if log.exists() else "")
            shown = ["aider", *(a.replace(str(tmp), "TMP") for a in argv[1:])]
            meta = {"about": sc.about, "argv": shown, "exit_code": code,
                    "stderr_tail": stderr[-3000:], "seconds": round(took, 2),
                    "requests": [_summary(r) for r in stub.requests],
                    "billed": {m: vars(t) for m, t in stub.billed.items()},
                    "log": subprocess.run(["git", "log", "--oneline"], cwd=repo,
                                          capture_output=True, text=True).stdout,
                    "status": subprocess.run(["git", "status", "--short"], cwd=repo,
                                             capture_output=True, text=True).stdout}
            (DATA / f"{sc.name}.meta.json").write_text(json.dumps(meta, indent=2) + "\n")
            print(f"aider/{sc.name}: exit {code}, {took:.1f}s, {len(stub.requests)} requests")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--only", nargs="*", default=None, help="scenario names")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.list:
        for sc in SCENARIOS:
            print(f"aider/{sc.name}: {sc.about}")
        return 0
    found = find_aider()
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
