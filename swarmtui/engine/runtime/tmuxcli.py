"""How swarmtui runs a tmux client whose output it reads: here and on every host alike.

tmux decides per client whether to print UTF-8: with ``-u``, or when the first of ``LC_ALL``,
``LC_CTYPE`` and ``LANG`` that is set names UTF-8. Any other client (the C locale: what sshd
gives a session without PAM or ``AcceptEnv``, cron, ``env -i``) gets every tab and every
non-ASCII byte of a formatted list as ``_``, so ``-F "#{a}\t#{b}"`` no longer splits and a
session named ``swarm-dépôt-…`` is not found by its own name. Every tmux call swarmtui makes
passes ``-u``, so what it reads is the same bytes whatever the caller's locale. The tmux
binary itself always runs in a UTF-8 locale (it picks en_US.UTF-8 or C.UTF-8 by itself and
refuses to start when neither exists and the environment names none): ``round_trip`` finds
such a machine, and any other reason a formatted list would not read back.

Only the standard library: the host side (``runners/sshremote.py``) imports this.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence

FLAGS = ("-u",)  # UTF-8 output for this client, whatever its locale
SEP = "\t"  # tmux escapes a tab in a window or session name (\t), so a raw one only separates
CALL_TIMEOUT = 30.0
# The round trip: a window name with spaces and non-ASCII letters, read back in a tab-separated
# list whose free-text field comes last.
PROBE_WINDOW = "swarmtui probe é ✓"
PROBE_FORMAT = SEP.join(("#{window_index}", "#{pane_pid}", "#{window_name}"))


class FormatError(ValueError):
    """A line of tmux output that does not have the fields its format asked for."""


def client_argv(socket: Sequence[str], conf: str) -> list[str]:
    """``tmux`` with swarmtui's flags, ``socket`` (``-L name`` or ``-S path``) and config."""
    return ["tmux", *FLAGS, *socket, "-f", conf]


def split_fields(line: str, count: int, fmt: str, command: str) -> list[str]:
    """The ``count`` fields of one line printed for ``fmt``; the last one keeps any tab.

    Raises FormatError naming the command, the line and the format."""
    parts = line.split(SEP, count - 1)
    if len(parts) != count:
        raise FormatError(f"tmux {command} printed {line[:200]!r} for the format {fmt!r}: "
                          f"expected {count} tab-separated fields")
    return parts


def utf8_locale(environ: Mapping[str, str]) -> bool:
    """Whether tmux would take a client with this environment for a UTF-8 terminal (its own
    rule: the first of LC_ALL, LC_CTYPE, LANG that is set)."""
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = environ.get(name)
        if value:
            up = value.upper()
            return "UTF-8" in up or "UTF8" in up
    return False


def round_trip(conf: str, env: Mapping[str, str]) -> str | None:
    """Run tmux as swarmtui runs it (same flags, config and environment) on a server of its
    own, and read a formatted window list back. None when it came back intact, else what
    went wrong (blocks; a fraction of a second)."""
    folder = tempfile.mkdtemp(prefix="swt-probe-")
    tmux = client_argv(["-S", os.path.join(folder, "s")], conf)

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*tmux, *args], capture_output=True, text=True,
                              encoding="utf-8", errors="replace", env=dict(env),
                              timeout=CALL_TIMEOUT, check=False)

    try:
        made = call("new-session", "-d", "-s", "probe", "-n", PROBE_WINDOW, "-x", "80", "-y",
                    "10", "sleep", "60")
        if made.returncode != 0:
            return f"tmux new-session failed: {made.stderr.strip()[-300:] or made.returncode}"
        listed = call("list-windows", "-t", "=probe", "-F", PROBE_FORMAT)
        if listed.returncode != 0:
            return f"tmux list-windows failed: {listed.stderr.strip()[-300:]}"
        lines = listed.stdout.splitlines()
        try:
            if len(lines) != 1:
                raise FormatError(f"tmux list-windows printed {len(lines)} lines for one "
                                  "window")
            index, pid, name = split_fields(lines[0], 3, PROBE_FORMAT, "list-windows")
        except FormatError as e:
            return str(e)
        if index != "0" or not pid.isdigit() or name != PROBE_WINDOW:
            return (f"tmux list-windows printed {lines[0]!r} for the format {PROBE_FORMAT!r}; "
                    f"expected '0\\t<pid>\\t{PROBE_WINDOW}'")
        return None
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"tmux could not be run: {e}"
    finally:
        try:
            call("kill-server")
        except (OSError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(folder, ignore_errors=True)
