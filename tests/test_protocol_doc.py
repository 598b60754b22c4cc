"""The minimal bash agent of docs/protocol.md, run as written through a real supervisor: the
documentation's example is a working agent, not a sketch."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fleet import Fleet, fast_config, start, task

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def _bash_agent() -> str:
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1, "docs/protocol.md should hold one bash agent"
    return blocks[0]


def test_the_documented_bash_agent_passes_a_task(git_repo: Path, fleets: list[Fleet],
                                                 tmp_path: Path) -> None:
    script = tmp_path / "agent.sh"
    script.write_text(_bash_agent())
    cfg = fast_config({"bash": ["bash", str(script)]})
    f = start(fleets, git_repo, cfg, [task("hello", "bash",
                                           verify="test -f done-by-hello-*.txt")])
    assert f.wait_done()
    assert f.state_of("hello") == "passed", f.summary()
    [res] = f.of("results", "hello")
    assert res.data["status"] == "done" and res.data["outputs"] == 1
    assert res.data["files_modified"] == ["done-by-hello-1.txt"]
    lines = [e.data["status"] for e in f.of("progress", "hello")]
    assert lines[0].startswith("read the prompt (") and lines[-1] == "committed the work"


def test_the_task_file_doc_names_every_key() -> None:
    from swarmtui.tasks import FEATURE_KEYS, TOML_KEYS

    doc = (DOC.parent / "tasks.md").read_text()
    missing = [k for k in (*TOML_KEYS, *FEATURE_KEYS) if f"`{k}`" not in doc]
    assert missing == []


def test_the_protocol_doc_names_every_environment_variable() -> None:
    from swarmtui import protocol as P

    names = [v for k, v in vars(P).items() if k.startswith("ENV_") and v.startswith("SWARM_")]
    assert names and [n for n in names if f"`{n}`" not in DOC.read_text()] == []
