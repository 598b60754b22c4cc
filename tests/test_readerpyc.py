"""The supervisor compiles `status`'s reader modules once when Python was told not to write
bytecode (``swarmtui/readerpyc.py``): the bytecode it writes is what Python itself accepts."""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import sys
from pathlib import Path

import pytest

import swarmtui
from swarmtui import readerpyc


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of the reader's modules, as an install would hold them."""
    src = Path(swarmtui.__file__).parent
    dst = tmp_path / "swarmtui"
    for rel in readerpyc.READER:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dst / rel)
    return dst


def test_missing_or_stale_bytecode_is_written_once(package: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert readerpyc.compile_reader(str(package)) == len(readerpyc.READER)
    for rel in readerpyc.READER:
        loader = importlib.machinery.SourceFileLoader("m", str(package / rel))

        def no_compiling(*args: object, rel: str = rel) -> None:
            raise AssertionError(f"{rel}: Python compiled it instead of using the bytecode")

        loader.source_to_code = no_compiling  # type: ignore[method-assign,assignment]
        assert loader.get_code("m") is not None  # the cached bytecode, accepted as it is
    assert readerpyc.compile_reader(str(package)) == 0  # nothing to do the second time
    quick = package / "cli" / "quick.py"
    quick.write_text(quick.read_text() + "\n# edited\n")
    os.utime(quick, (1, 1))
    assert readerpyc.compile_reader(str(package)) == 1  # only the edited module again


def test_nothing_is_written_when_python_may_cache_bytecode_itself(
        package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert readerpyc.compile_reader(str(package)) == 0
    assert not list(package.rglob("*.pyc"))


def test_a_folder_that_cannot_be_written_is_left_alone(package: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no __pycache__ folder can be made (a file holds its name), nothing is written and
    nothing is raised."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    for d in (package, package / "cli"):
        (d / "__pycache__").write_text("not a folder")
    assert readerpyc.compile_reader(str(package)) == 0
