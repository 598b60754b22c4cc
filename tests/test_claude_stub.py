"""The local Anthropic API stub, checked with the real ``anthropic`` client, and the real Claude
Code CLI run end to end against it."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from tests.anthropic_stub import (
    ErrorTurn,
    Hang,
    Request,
    Route,
    StubServer,
    ToolUse,
    Turn,
    Usage,
    estimate_tokens,
    model_contains,
    unified_headers,
    usage_limit_error,
)
from tests.claude_cli import CLAUDE_CODE_VERSION, find_claude, isolated_env


@pytest.fixture(name="anthropic_stub")
def _anthropic_stub() -> Iterator[StubServer]:
    """The same as tests.anthropic_stub's fixture (which conftest.py may also register)."""
    with StubServer() as stub:
        yield stub


MODEL = "claude-sonnet-4-5"
WEATHER_TOOL: Any = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                     "required": ["city"]},
}


def client(stub: StubServer, **kw: Any) -> anthropic.Anthropic:
    kw.setdefault("max_retries", 0)
    return anthropic.Anthropic(base_url=stub.base_url, api_key="sk-ant-test", **kw)


def text(msg: Any, index: int = 0) -> str:
    block = msg.content[index]
    assert block.type == "text", block
    return str(block.text)


def ask(c: anthropic.Anthropic, text: str = "hi", **kw: Any) -> Any:
    return c.messages.create(model=kw.pop("model", MODEL), max_tokens=256,
                             messages=[{"role": "user", "content": text}], **kw)


def test_forced_tool_choice_returns_a_tool_use_block(anthropic_stub: StubServer) -> None:
    anthropic_stub.add(Turn(tool_uses=[ToolUse("get_weather", {"city": "Paris"})],
                            usage=Usage(input_tokens=50, output_tokens=7)))
    msg = ask(client(anthropic_stub), "Weather in Paris?", tools=[WEATHER_TOOL],
              tool_choice={"type": "tool", "name": "get_weather"})
    assert msg.stop_reason == "tool_use"
    assert [b.type for b in msg.content] == ["tool_use"]
    assert msg.content[0].name == "get_weather"
    assert msg.content[0].input == {"city": "Paris"}
    assert msg.content[0].id.startswith("toolu_")
    assert (msg.usage.input_tokens, msg.usage.output_tokens) == (50, 7)
    (req,) = anthropic_stub.messages_requests()
    assert req.body["tool_choice"] == {"type": "tool", "name": "get_weather"}
    assert req.tool_names == ["get_weather"]
    # this client version sends the key as a bearer token; Claude Code sends x-api-key
    assert "sk-ant-test" in (req.headers.get("x-api-key") or req.headers["authorization"])
    assert req.status == 200


def test_streaming_text_is_server_sent_events(anthropic_stub: StubServer) -> None:
    answer = "A streamed answer that is long enough to arrive in several deltas."
    anthropic_stub.add(Turn(text=answer, usage=Usage(input_tokens=12, output_tokens=30,
                                                   cache_read_input_tokens=5)))
    c = client(anthropic_stub)
    with c.messages.stream(model=MODEL, max_tokens=256,
                           messages=[{"role": "user", "content": "go"}]) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) > 1
    assert "".join(pieces) == answer
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 30
    assert final.usage.cache_read_input_tokens == 5
    assert anthropic_stub.messages_requests()[0].stream


def test_streamed_event_sequence_and_tool_input_json(anthropic_stub: StubServer) -> None:
    anthropic_stub.add(Turn(text="Calling.", tool_uses=[
        ToolUse("get_weather", {"city": "Reykjavík", "days": [1, 2, 3]}, id="toolu_fixed")]))
    events = list(ask(client(anthropic_stub), tools=[WEATHER_TOOL], stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 2
    deltas = [e.delta for e in events if e.type == "content_block_delta"]
    partial = "".join(d.partial_json for d in deltas if d.type == "input_json_delta")
    assert json.loads(partial) == {"city": "Reykjavík", "days": [1, 2, 3]}
    assert events[-2].delta.stop_reason == "tool_use"
    with client(anthropic_stub).messages.stream(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "again"}]) as s:
        assert text(s.get_final_message()) == "(stub: script exhausted)"


def test_429_with_retry_after_is_retried_by_the_client(anthropic_stub: StubServer) -> None:
    anthropic_stub.add(ErrorTurn(429, retry_after=0.1), ErrorTurn(429, retry_after=0.1),
                       Turn(text="finally"))
    msg = ask(client(anthropic_stub, max_retries=3))
    assert text(msg) == "finally"
    reqs = anthropic_stub.messages_requests()
    assert [r.status for r in reqs] == [429, 429, 200]
    assert [r.headers.get("x-stainless-retry-count") for r in reqs] == ["0", "1", "2"]
    assert anthropic_stub.total_billed().output_tokens == Usage().output_tokens


def test_429_error_body_and_unified_headers(anthropic_stub: StubServer) -> None:
    reset = int(time.time()) + 3600
    anthropic_stub.add(usage_limit_error(reset=reset))
    with pytest.raises(anthropic.RateLimitError) as err:
        ask(client(anthropic_stub))
    assert err.value.status_code == 429
    body: Any = err.value.body
    assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
    headers = err.value.response.headers
    assert headers["anthropic-ratelimit-unified-status"] == "rejected"
    assert headers["anthropic-ratelimit-unified-reset"] == str(reset)
    assert headers["anthropic-ratelimit-unified-representative-claim"] == "five_hour"
    assert headers["request-id"].startswith("req_")


def test_allowed_warning_headers_ride_on_a_success(anthropic_stub: StubServer) -> None:
    anthropic_stub.add(Turn(text="ok", headers=unified_headers("allowed_warning")))
    raw = client(anthropic_stub).messages.with_raw_response.create(
        model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "x"}])
    assert raw.headers["anthropic-ratelimit-unified-status"] == "allowed_warning"
    assert text(raw.parse()) == "ok"


def test_500_and_529_raise_with_the_api_error_shape(anthropic_stub: StubServer) -> None:
    anthropic_stub.add(ErrorTurn(500), ErrorTurn(529))
    c = client(anthropic_stub)
    with pytest.raises(anthropic.InternalServerError) as err500:
        ask(c)
    assert err500.value.status_code == 500
    assert err500.value.body == {"type": "error", "error": {
        "type": "api_error", "message": "Internal server error"},
        "request_id": err500.value.body["request_id"]}  # type: ignore[index]
    with pytest.raises(anthropic.APIStatusError) as err529:
        ask(c)
    assert err529.value.status_code == 529
    assert err529.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    assert anthropic_stub.billed == {}


def test_repeating_error_turn_is_not_consumed(anthropic_stub: StubServer) -> None:
    anthropic_stub.add(ErrorTurn(500, repeat=True), Turn(text="never reached"))
    with pytest.raises(anthropic.InternalServerError):
        ask(client(anthropic_stub, max_retries=2))
    assert [r.status for r in anthropic_stub.messages_requests()] == [500, 500, 500]
    assert anthropic_stub.remaining == 2


def test_slow_answer_arrives_after_its_delay(anthropic_stub: StubServer) -> None:
    anthropic_stub.add(Turn(text="slow", delay=0.4))
    started = time.monotonic()
    msg = ask(client(anthropic_stub))
    assert time.monotonic() - started >= 0.4
    assert text(msg) == "slow"


def test_client_timeout_on_a_hang(anthropic_stub: StubServer) -> None:
    anthropic_stub.add(Hang())
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        ask(client(anthropic_stub, timeout=0.5))
    assert time.monotonic() - started < 5
    (req,) = anthropic_stub.messages_requests()
    assert req.status is None and isinstance(req.answer, Hang)


def test_stop_ends_a_hanging_request_promptly() -> None:
    stub = StubServer([Hang(repeat=True)]).start()
    c = client(stub, timeout=30)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            ask(c)
        except anthropic.APIError as exc:
            errors.append(exc)

    t = threading.Thread(target=call)
    t.start()
    assert stub.wait_requests(1, timeout=10)
    started = time.monotonic()
    stub.stop()
    t.join(timeout=10)
    assert not t.is_alive() and errors
    assert time.monotonic() - started < 5


def test_count_tokens_is_deterministic(anthropic_stub: StubServer) -> None:
    c = client(anthropic_stub)
    msgs: Any = [{"role": "user", "content": "count these tokens please"}]
    first = c.messages.count_tokens(model=MODEL, messages=msgs)
    second = c.messages.count_tokens(model=MODEL, messages=msgs)
    assert first.input_tokens == second.input_tokens == estimate_tokens({"messages": msgs})
    assert anthropic_stub.messages_requests() == []  # count_tokens is not a messages call


def test_billing_per_model_and_routes(anthropic_stub: StubServer) -> None:
    anthropic_stub.add(Turn(text="main 1", usage=Usage(100, 10, 1000, 2000)),
                       Turn(text="main 2", usage=Usage(200, 20)))
    anthropic_stub.add_route(Route("small", model_contains("haiku"), [
        Turn(text="side", usage=Usage(5, 1))]))
    c = client(anthropic_stub)
    assert text(ask(c)) == "main 1"
    assert text(ask(c, model="claude-haiku-4-5")) == "side"
    assert text(ask(c, model="claude-haiku-4-5")) == "side"  # a route's last repeats
    assert text(ask(c)) == "main 2"
    assert anthropic_stub.billed == {MODEL: Usage(300, 30, 1000, 2000),
                                     "claude-haiku-4-5": Usage(10, 2)}
    assert [r.route for r in anthropic_stub.messages_requests(route=None)] == [
        "main", "small", "small", "main"]


def test_callable_turn_reacts_to_the_tool_result(anthropic_stub: StubServer) -> None:
    def answer(req: Request) -> Turn:
        (result,) = req.tool_results()
        return Turn(text=f"the tool said {result['content']}")

    anthropic_stub.add(Turn(tool_uses=[ToolUse("get_weather", {"city": "Oslo"}, id="toolu_1")]),
                       answer)
    c = client(anthropic_stub)
    first = ask(c, tools=[WEATHER_TOOL])
    second = c.messages.create(model=MODEL, max_tokens=64, tools=[WEATHER_TOOL], messages=[
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                      "content": "-3C"}]}])
    assert text(second) == "the tool said -3C"


def test_unknown_path_is_a_recorded_404(anthropic_stub: StubServer) -> None:
    with pytest.raises(anthropic.NotFoundError):
        client(anthropic_stub).models.list()
    assert anthropic_stub.requests[0].path.startswith("/v1/models")
    assert anthropic_stub.requests[0].status == 404


# -- the real CLI ------------------------------------------------------------------------------

def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
                          cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.mark.e2e
def test_real_claude_cli_success_against_the_stub(anthropic_stub: StubServer,
                                                  tmp_path: Path) -> None:
    found = find_claude()
    if found.path is None:
        pytest.skip(found.reason)
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# e2e\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "initial")
    progress = tmp_path / "agent" / "progress.md"
    progress.parent.mkdir()
    anthropic_stub.add(
        Turn(tool_uses=[ToolUse("Bash", {"command": 'echo "- started" >> "$SWARM_PROGRESS_FILE"',
                                         "description": "Append progress"})],
             usage=Usage(1000, 40, 2000, 0)),
        Turn(tool_uses=[ToolUse("Write", {"file_path": str(repo / "hello.txt"),
                                          "content": "hello\n"})],
             usage=Usage(300, 50, 0, 2000)),
        Turn(tool_uses=[ToolUse("Bash", {"command": "git add -A && git commit -q -m hello",
                                         "description": "Commit"})],
             usage=Usage(200, 30, 0, 2300)),
        Turn(tool_uses=[ToolUse("Write", {"file_path": str(repo / "results.json"),
                                          "content": '{"status": "done"}\n'})],
             usage=Usage(100, 60, 0, 2500)),
        Turn(text="Done.", usage=Usage(50, 5, 0, 2600)))
    env = isolated_env(anthropic_stub.base_url, tmp_path / "home",
                       extra={"SWARM_PROGRESS_FILE": str(progress)})
    proc = subprocess.run([str(found.path), "-p", "--output-format", "stream-json", "--verbose",
                           "--permission-mode", "bypassPermissions"],
                          input="Do the task.", cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    init = lines[0]
    assert (init["type"], init["subtype"]) == ("system", "init")
    assert init["permissionMode"] == "bypassPermissions"
    result = lines[-1]
    assert result["type"] == "result" and result["subtype"] == "success"
    assert result["is_error"] is False and result["session_id"] == init["session_id"]
    assert result["num_turns"] == 5 and result["result"] == "Done."
    assert result["permission_denials"] == []
    # the CLI's accounting matches what the stub billed
    billed = anthropic_stub.total_billed()
    usage = result["usage"]
    assert (usage["input_tokens"], usage["output_tokens"], usage["cache_creation_input_tokens"],
            usage["cache_read_input_tokens"]) == (billed.input_tokens, billed.output_tokens,
                                                  billed.cache_creation_input_tokens,
                                                  billed.cache_read_input_tokens)
    ((model, per_model),) = result["modelUsage"].items()
    assert anthropic_stub.billed == {model: billed}
    assert per_model["inputTokens"] == billed.input_tokens
    assert result["total_cost_usd"] == pytest.approx(per_model["costUSD"]) and \
        result["total_cost_usd"] > 0
    # the tools really ran
    assert progress.read_text() == "- started\n"
    assert (repo / "hello.txt").read_text() == "hello\n"
    assert _git(repo, "log", "--format=%s").split() == ["hello", "initial"]
    assert json.loads((repo / "results.json").read_text()) == {"status": "done"}
    # the stub saw an isolated CLI: API key auth, nothing but /v1/messages
    assert {r.path.split("?")[0] for r in anthropic_stub.requests} == {"/v1/messages"}
    assert all(r.headers.get("x-api-key") == env["ANTHROPIC_API_KEY"]
               for r in anthropic_stub.requests)
    # and kept its session in the private config dir
    sessions = list((tmp_path / "home" / ".claude" / "projects").glob("*/*.jsonl"))
    assert [p.stem for p in sessions] == [init["session_id"]]


# -- the recorded transcripts ------------------------------------------------------------------

DATA = Path(__file__).parent / "data" / "claude"


def test_recorded_transcripts_are_complete_stream_json() -> None:
    index = json.loads((DATA / "recorded.json").read_text())
    assert index["pinned"] == CLAUDE_CODE_VERSION
    readme = (DATA / "README.md").read_text()
    transcripts = sorted(DATA.glob("*.jsonl"))
    assert len(transcripts) >= 12
    for path in transcripts:
        meta = json.loads((DATA / (path.name[:-len(".jsonl")] + ".meta.json")).read_text())
        assert f"`{path.name}`" in readme
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        if not lines:  # refused before it started (bypassPermissions as root without IS_SANDBOX)
            assert meta["exit_code"] != 0 and meta["stderr"]
            continue
        # SessionStart hook_started/hook_response lines may come before the init line
        inits = [x for x in lines if (x["type"], x.get("subtype")) == ("system", "init")]
        assert inits and inits[0]["claude_code_version"] == CLAUDE_CODE_VERSION, path.name
        if meta["killed"] is None:
            assert lines[-1]["type"] == "result", path.name
            assert (meta["exit_code"] == 0) == (lines[-1]["is_error"] is False), path.name
    for path in sorted((DATA / "hooks").glob("*.json")):
        event = path.name[:-len(".json")].rsplit(".", 1)[1]
        payloads = json.loads(path.read_text())
        assert payloads and all(p["hook_event_name"] == event for p in payloads), path.name
