"""The first program in a box with ``network = "api"``: it opens the box's one way out and then
becomes the agent.

The box has a network of its own with nothing but a loopback. This opens a listening socket
there (127.0.0.1, a port the kernel picks), hands it to the wrapper outside over the Unix socket
only this box has (``SCM_RIGHTS``), sets the proxy variables to it and execs the agent. The
wrapper accepts the agent's connections on that socket from outside and is the proxy
(``egress.py``): no forwarder process stays in the box, and no tool beyond Python is needed.

Run as ``python -I -S netport.py HANDOFF -- ARGV...``: no ``site``, nothing from the worktree,
and ``_socket`` rather than ``socket`` (whose ``enum`` import alone took 60 ms on a busy
machine), so the agent starts a few milliseconds later than it would without it.
"""

from __future__ import annotations

import _socket
import array
import os
import sys

# What HTTP clients read their proxy from (curl, Node and Bun, Python's urllib and requests,
# git, Go, Rust's reqwest); Claude Code's own names as well.
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
              "all_proxy", "CLAUDE_CODE_HTTPS_PROXY", "CLAUDE_CODE_HTTP_PROXY")
# Removed: nothing bypasses the proxy (there is nowhere else to go in the box anyway).
CLEARED = ("NO_PROXY", "no_proxy", "GLOBAL_AGENT_NO_PROXY")
# Set: the agent CLI leaves DNS to the proxy (the box has no resolver that answers).
RESOLVED_BY_PROXY = {"CLAUDE_CODE_PROXY_RESOLVES_HOSTS": "1"}
HANDOFF_TIMEOUT = 20.0
OK = b"ok\n"


def hand_over(path: str) -> int:
    """Open the port, give it to the wrapper, return its number once the wrapper has it."""
    listener = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    c = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        port = int(listener.getsockname()[1])
        c.settimeout(HANDOFF_TIMEOUT)
        c.connect(path)
        fds = array.array("i", [listener.fileno()])
        c.sendmsg([b"port\n"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds.tobytes())])
        answer = c.recv(256)
    finally:
        c.close()
        listener.close()  # the wrapper holds its own copy: the port stays open
    if answer != OK:
        raise OSError(f"the wrapper did not take the proxy's port: {answer[:200]!r}")
    return port


def proxy_env(env: dict[str, str], port: int) -> dict[str, str]:
    out = {k: v for k, v in env.items() if k not in CLEARED}
    url = f"http://127.0.0.1:{port}"
    return {**out, **dict.fromkeys(PROXY_VARS, url), **RESOLVED_BY_PROXY}


def main(args: list[str]) -> int:
    if len(args) < 3 or args[1] != "--":
        sys.stderr.write("usage: netport.py HANDOFF_SOCKET -- ARGV...\n")
        return 2
    try:
        port = hand_over(args[0])
    except OSError as e:
        sys.stderr.write(f"[swarmtui sandbox] no way to the API (network = \"api\"): {e}\n")
        return 126
    argv = args[2:]
    try:
        os.execvpe(argv[0], argv, proxy_env(dict(os.environ), port))
    except OSError as e:
        sys.stderr.write(f"[swarmtui sandbox] cannot start {argv[0]!r}: {e}\n")
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
