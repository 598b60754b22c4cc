"""Context fit before a spawn: the token estimate, the API count (against the local stub) and
its fallbacks, the levels, and the declared-file picker on a real git repository."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

from swarmtui.engine.review.fit import (
    Fit,
    count_tokens,
    estimate_tokens,
    fit,
    pick_files,
    render,
)
from tests.anthropic_stub import StubServer
from tests.anthropic_stub import estimate_tokens as stub_count
from tests.conftest import git

MODEL = "claude-sonnet-4-5"
PROMPT = "Add a hello() function to greet.py and a test for it. " * 8
FILES = [("greet.py", "def greet(name):\n    return 'hi ' + name\n" * 20),
         ("tests/test_greet.py", "from greet import greet\n\n\ndef test():\n    assert greet\n"),
         ("README.md", "# greet\n\nA tiny example.\n")]


def client(stub: StubServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=stub.base_url, max_retries=0)


# -- estimating and counting -------------------------------------------------------------------

def test_estimate_is_about_four_characters_per_token_for_latin_text() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a") == 1
    assert estimate_tokens("abcd" * 100) == 100
    assert estimate_tokens("café " * 40) == 50


def test_estimate_has_a_floor_for_cjk_and_other_scripts() -> None:
    assert estimate_tokens("漢字かな한글" * 10) == 60  # one token per character at least
    assert estimate_tokens("привет" * 10) == 30  # Cyrillic: two characters a token
    assert estimate_tokens("привет мир") == 5  # 9 letters at a half, a space at a quarter
    assert estimate_tokens("🙂" * 7) == 7


def test_count_tokens_through_the_api(anthropic_stub: StubServer) -> None:
    n = count_tokens(client(anthropic_stub), MODEL, "You are terse.", "count me", timeout=5)
    (req,) = anthropic_stub.requests
    assert req.path == "/v1/messages/count_tokens"
    assert req.body["system"] == "You are terse." and req.body["model"] == MODEL
    assert n == stub_count(req.body)


def test_fit_counted_by_the_api_versus_the_estimate(anthropic_stub: StubServer) -> None:
    counted = fit(PROMPT, FILES, window=200_000, client=client(anthropic_stub))
    (req,) = anthropic_stub.requests
    assert counted.counted and counted.reason == ""
    assert counted.tokens == stub_count(req.body)
    assert req.body["messages"][0]["content"] == render(PROMPT, FILES)
    assert "counted by the API" in counted.sentence
    estimated = fit(PROMPT, FILES, window=200_000)
    assert not estimated.counted and estimated.reason == "no API key configured"
    assert estimated.tokens == estimate_tokens(render(PROMPT, FILES))
    assert estimated.sentence.startswith(
        f"the prompt and 3 declared files take about {estimated.tokens:,} tokens "
        "(estimate; no API key configured), <1% of the 200,000-token window")
    # the stub counts the JSON of the request (its quoting and framing), a little above ours
    assert estimated.tokens <= counted.tokens <= estimated.tokens * 1.3


def test_fit_builds_its_own_client_from_a_key_and_base_url(anthropic_stub: StubServer) -> None:
    f = fit(PROMPT, [], window=1000, api_key="sk-ant-test", base_url=anthropic_stub.base_url)
    assert f.counted and f.files == 0 and f.sentence.startswith("the prompt takes ")
    assert len(anthropic_stub.requests) == 1


def test_an_api_error_falls_back_to_the_estimate(anthropic_stub: StubServer) -> None:
    c = anthropic.Anthropic(api_key="sk-ant-test", base_url=anthropic_stub.base_url + "/nowhere",
                            max_retries=0)
    f = fit(PROMPT, FILES, window=200_000, client=c)
    assert not f.counted and f.tokens == estimate_tokens(render(PROMPT, FILES))
    assert f.reason.startswith("token count failed: API error 404")
    assert anthropic_stub.requests[0].status == 404


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def test_a_slow_count_falls_back_to_the_estimate(silent_server: str) -> None:
    started = time.monotonic()
    f = fit(PROMPT, FILES, window=200_000, api_key="sk-ant-test", base_url=silent_server,
            timeout=0.3)
    assert time.monotonic() - started < 3
    assert not f.counted and f.reason == "token count timed out after 0.3 s"
    assert "(estimate; token count timed out after 0.3 s)" in f.sentence


def test_no_key_and_no_base_url_never_reaches_the_network(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_client(*a: object, **kw: object) -> None:
        raise AssertionError("no client may be built without a key")

    monkeypatch.setattr(anthropic, "Anthropic", no_client)
    f = fit(PROMPT, FILES, window=200_000)
    assert not f.counted and f.reason == "no API key configured"


# -- levels ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("window", "level"), [(1000, "ok"), (150, "warn"), (100, "over"),
                                               (90, "over")])
def test_levels(window: int, level: str) -> None:
    f = fit("x" * 400, [], window=window)  # 100 tokens by the estimate
    assert (f.tokens, f.level) == (100, level)
    assert f.fraction == pytest.approx(100 / window)
    if level == "over":
        assert f.sentence.endswith(": more than the window holds")
    elif level == "warn":
        assert f.sentence.endswith(": above the 60% warning mark")
    else:
        assert "10% of the 1,000-token window" in f.sentence


def test_warn_at_and_overhead() -> None:
    f = fit("x" * 400, [], window=1000, warn_at=0.05)
    assert f.level == "warn"
    g = fit("x" * 400, [("a.py", "y" * 40)], window=1000, overhead=700)
    assert isinstance(g, Fit) and g.overhead == 700 and g.level == "warn"
    assert g.tokens == 700 + estimate_tokens(render("x" * 400, [("a.py", "y" * 40)]))
    assert "including 700 for the agent's own instructions" in g.sentence
    assert "the prompt and 1 declared file take" in g.sentence


def test_large_estimates_are_rounded_in_the_sentence() -> None:
    f = fit("word " * 33_000, [], window=200_000)
    assert f.tokens == 41_250
    assert "about 41,200 tokens" in f.sentence and "21% of the 200,000-token window" in f.sentence


# -- picking the declared files ----------------------------------------------------------------

@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    (r / "src" / "deep").mkdir(parents=True)
    git(r, "init", "-q", "-b", "main")
    (r / "README.md").write_text("# repo\n")
    (r / "src" / "a.py").write_text("a = 1\n")
    (r / "src" / "deep" / "b.py").write_text("b = 2\n" * 10)
    (r / "src" / "big.py").write_text("x" * 299 + "\n")
    (r / "src" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(64))
    (r / "src" / "with space é.py").write_text("s = 'ü'\n")
    (r / "src" / "gone.py").write_text("gone\n")
    os.symlink("/etc/passwd", r / "src" / "link.py")
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "initial")
    (r / "src" / "gone.py").unlink()  # tracked, missing from the work tree
    (r / "src" / "untracked.py").write_text("not in git\n")
    return r


def test_pick_files_reads_tracked_text_files_only(repo: Path) -> None:
    p = pick_files(repo, ["src/**"], max_file_bytes=100, max_total_bytes=10_000)
    assert p.error == ""
    read = dict(p.files)
    assert sorted(read) == ["src/a.py", "src/big.py", "src/deep/b.py", "src/with space é.py"]
    assert read["src/with space é.py"] == "s = 'ü'\n"
    assert read["src/big.py"] == "x" * 100 and p.truncated == ("src/big.py",)
    reasons = {s.path: s.reason for s in p.skipped}
    assert reasons == {"src/gone.py": "missing from the work tree", "src/link.py": "symlink",
                       "src/logo.png": "binary"}
    assert p.bytes_read == sum(len(c.encode()) for c in read.values())
    assert p.unread_bytes == 200  # the rest of big.py


def test_pick_files_globs_read_like_the_scope_lock(repo: Path) -> None:
    # fnmatch's * crosses "/", as in swarmtui.engine.scope; a trailing slash means the folder
    assert [f for f, _ in pick_files(repo, ["*.md"]).files] == ["README.md"]
    assert {f for f, _ in pick_files(repo, ["src/*.py"]).files} >= {"src/a.py", "src/deep/b.py"}
    assert [f for f, _ in pick_files(repo, ["src/deep/"]).files] == ["src/deep/b.py"]
    assert pick_files(repo, []).files == ()


def test_pick_files_stops_at_the_total_budget(repo: Path) -> None:
    p = pick_files(repo, ["src/a.py", "src/deep/b.py", "README.md"], max_total_bytes=70)
    assert [f for f, _ in p.files] == ["README.md", "src/a.py", "src/deep/b.py"]
    assert p.bytes_read == 70 and p.truncated == ("src/deep/b.py",)
    q = pick_files(repo, ["README.md", "src/**"], max_total_bytes=7)
    assert [f for f, _ in q.files] == ["README.md"]
    spent = [s for s in q.skipped if s.reason == "budget spent"]
    assert {s.path for s in spent} >= {"src/a.py", "src/deep/b.py"}
    assert q.unread_bytes == sum(s.size for s in spent)


def test_pick_files_outside_a_repository_reports_the_error(tmp_path: Path) -> None:
    p = pick_files(tmp_path, ["**"])
    assert p.files == () and "git ls-files failed" in p.error
