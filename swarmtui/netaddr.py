"""Host and port as the sandbox's API proxy compares them (pure, no third-party import: the
config checks ``api_hosts`` with it and the wrapper, which loads no pydantic, matches with it).

A host is compared by its lower-case name without a trailing dot, an IPv6 address without its
brackets; no wildcard and no resolving, so what is allowed is exactly what is written."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

HostPort = tuple[str, int]
_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
                   r"(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$")
DEFAULT_PORTS = {"https": 443, "http": 80}


def host(text: str) -> str:
    """The host in the form compared; ValueError when it is not a name or an IP address."""
    h = text.strip().lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    h = h.removesuffix(".")
    try:
        return str(ipaddress.ip_address(h))
    except ValueError:
        pass
    if not _NAME.match(h):
        raise ValueError(f"{text!r} is not a host name or an IP address")
    return h


def host_port(text: str, default_port: int | None = 443) -> HostPort:
    """``host``, ``host:port``, ``[v6]:port`` (``default_port`` when none is written; None
    makes the port required)."""
    t = text.strip()
    port_text = ""
    if t.startswith("["):
        end = t.find("]")
        if end < 0:
            raise ValueError(f"{text!r} opens [ without closing it")
        name, rest = t[1:end], t[end + 1:]
        if rest and not rest.startswith(":"):
            raise ValueError(f"{text!r}: after ] only :port may follow")
        port_text = rest[1:]
    elif t.count(":") == 1:
        name, port_text = t.split(":")
    else:
        name = t  # a bare name, or an IPv6 address without a port
    if not port_text:
        if default_port is None or (t.count(":") == 1 and not t.startswith("[")):
            raise ValueError(f"{text!r} names no port")
        return host(name), default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    return host(name), int(port_text)


def url_host_port(url: str) -> HostPort:
    """Where an http(s) base URL connects; ValueError for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise ValueError(f"{url!r} is not a URL: {e}") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    return host(parts.hostname), port or DEFAULT_PORTS[parts.scheme]


def show(hp: HostPort) -> str:
    h, p = hp
    return f"[{h}]:{p}" if ":" in h else f"{h}:{p}"
