"""Why ssh could not reach a host, typed: one ``SshError`` subclass per cause, each with a
sentence that names the host and the cause, read from ssh's own messages."""

from __future__ import annotations

import re


class SshError(Exception):
    """The host could not be reached or the connection failed; ``detail`` is ssh's stderr."""

    def __init__(self, host: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.host = host
        self.detail = detail


class SshConnectionRefused(SshError):
    """Nothing accepts connections on the host's ssh port (sshd stopped, host refusing)."""


class SshUnknownHost(SshError):
    """The host name does not resolve."""


class SshAuthFailed(SshError):
    """The server refused every key (wrong user, key not authorized)."""


class SshHostKeyError(SshError):
    """The host key is unknown or does not match known_hosts."""


class SshTimeout(SshError):
    """The host did not answer in time (connect, banner, keepalive) or a command overran."""


class SshUnreachable(SshError):
    """No route to the host or its network."""


class SshConnectionLost(SshError):
    """An established connection broke; a command under way may or may not have run."""


def last_line(text: str, *needles: str) -> str:
    for line in reversed(text.splitlines()):
        if any(n in line for n in needles):
            return line.strip()
    return ""


def classify(host: str, stderr: str) -> SshError | None:
    """The typed error that ssh's stderr describes, or None when it shows no ssh failure."""
    text = stderr.strip()
    if not text:
        return None

    def said(*needles: str) -> str:
        return last_line(text, *needles)

    if line := said("Host key verification failed", "REMOTE HOST IDENTIFICATION HAS CHANGED",
                    "host key is known for", "Host key for"):
        known = said("host key is known for", "has changed")
        cause = known or line
        return SshHostKeyError(
            host, f"ssh to {host} failed: its host key is not the one known_hosts expects "
                  f"({cause})", text)
    if line := said("Permission denied", "Too many authentication failures",
                    "Authentication failed", "no mutual signature"):
        return SshAuthFailed(
            host, f"ssh to {host} failed: the server refused authentication ({line}); check "
                  f"the user and that the key is authorized there", text)
    if line := said("Could not resolve hostname", "Name or service not known",
                    "nodename nor servname", "Temporary failure in name resolution"):
        return SshUnknownHost(
            host, f"ssh to {host} failed: its host name does not resolve ({line})", text)
    if line := said("Connection refused"):
        where = re.search(r"connect to host (\S+) port (\S+):", line)
        at = f" on {where.group(1)} port {where.group(2)}" if where else ""
        return SshConnectionRefused(
            host, f"ssh to {host} failed: the connection was refused (nothing accepts ssh "
                  f"connections{at}; is sshd running?)", text)
    if line := said("timed out", "Timeout, server", "Operation timed out"):
        return SshTimeout(host, f"ssh to {host} failed: the host did not answer in time ({line})",
                          text)
    if line := said("No route to host", "Network is unreachable", "Host is down",
                    "Host is unreachable"):
        return SshUnreachable(host, f"ssh to {host} failed: the host is unreachable ({line})",
                              text)
    if line := said("Session open refused", "administratively prohibited"):
        return SshError(
            host, f"ssh to {host}: the server refused to open another session ({line}); too "
                  f"many at once for its MaxSessions?", text)
    if line := said("Connection closed by", "Connection reset", "closed by remote host",
                    "Broken pipe", "mux_client_", "read from master failed",
                    "kex_exchange_identification", "Connection to "):
        return SshConnectionLost(
            host, f"ssh to {host}: the connection was lost ({line})", text)
    if line := said("ssh:", "Bad configuration option", "Can't open user config file",
                    "command-line line", "Control socket"):
        return SshError(host, f"ssh to {host} failed: {line}", text)
    return None
