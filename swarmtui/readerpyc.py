"""Bytecode for the modules `status` answers from the status file with, written by the
supervisor that keeps the file, when Python was told not to write bytecode.

With ``PYTHONDONTWRITEBYTECODE`` set (this project's box sets it) and an editable or copied
install, nothing ever caches swarmtui's bytecode, so every `status` compiles its reader again:
about 14 ms of CPU of the 55 that an answer from the file costs. A wheel install compiles at
install time and `.ci/run` runs compileall; this covers the rest for these few modules only, as
the setting's ``sys.dont_write_bytecode`` would have Python itself do without it. A file is
written only where its bytecode is missing or stale (the header Python checks: magic, source
time and size), atomically (``py_compile``), and a folder that cannot be written is left alone.
"""

from __future__ import annotations

import os
import sys

# The quick path of `status` (``cli/quick.py``) and what it imports, the text table included.
READER = ("__init__.py", "__main__.py", "cli/__init__.py", "cli/quick.py", "protocol.py",
          "configpath.py", "errors.py", "gitquick.py", "statusfile.py", "runlock.py",
          "nudge.py", "statustext.py", "textsafe.py")


def _fresh(src: str, cached: str, magic: bytes) -> bool:
    """Whether ``cached`` is the timestamp bytecode Python would accept for ``src`` now."""
    try:
        st = os.stat(src)
        with open(cached, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    mtime, size = int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF
    return head == magic + bytes(4) + mtime.to_bytes(4, "little") + size.to_bytes(4, "little")


def compile_reader(root: str | None = None) -> int:
    """Compile the ``READER`` modules under ``root`` (the package) whose bytecode is missing or
    stale, when ``sys.dont_write_bytecode`` is set; how many were written. Never raises for a
    folder that cannot be written or a module that does not compile."""
    if not sys.dont_write_bytecode:
        return 0  # Python caches them itself on first import
    import importlib.util
    import py_compile

    root = root or os.path.dirname(os.path.realpath(__file__))
    written = 0
    for rel in READER:
        src = os.path.join(root, rel)
        try:
            cached = importlib.util.cache_from_source(src)
            if _fresh(src, cached, importlib.util.MAGIC_NUMBER):
                continue
            py_compile.compile(src, cfile=cached, doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
        except (OSError, py_compile.PyCompileError, ValueError):
            continue
        written += 1
    return written
