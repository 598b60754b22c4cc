"""Which hosts an agent in a ``network = "api"`` box may reach (pure): its CLI's API, where the
agent's own environment points it (or the CLI's default), and what the config lists.

Only the API: Claude Code's other traffic (feature flags and telemetry, sent to
``api.anthropic.com`` when the base URL points elsewhere) is refused and recorded unless
listed, as is anything a tool in the box tries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from swarmtui.netaddr import HostPort, host_port, url_host_port

# adapter: ((variable that moves its API, the URL it uses without it), ...)
API_URLS: dict[str, tuple[tuple[str, str], ...]] = {
    "claude": (("ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
               ("ANTHROPIC_BEDROCK_BASE_URL", ""), ("ANTHROPIC_VERTEX_BASE_URL", "")),
    "codex": (("OPENAI_BASE_URL", "https://api.openai.com/v1"),),
    "qwen": (("OPENAI_BASE_URL", "https://api.openai.com/v1"),),
    "gemini": (("GOOGLE_GEMINI_BASE_URL", "https://generativelanguage.googleapis.com"),),
}
# Any other adapter (opencode, aider, a generic agent) reaches what these name, when set.
ANY_URLS = (("ANTHROPIC_BASE_URL", ""), ("OPENAI_BASE_URL", ""), ("OPENAI_API_BASE", ""),
            ("GOOGLE_GEMINI_BASE_URL", ""))


def api_hosts(adapter: str, env: Mapping[str, str], listed: Iterable[str]) -> list[HostPort]:
    """The allowed hosts, in order, each once. A base URL that is not an http(s) URL allows
    nothing (the CLI could not use it either); a listed entry was checked with the config."""
    out: list[HostPort] = []
    for var, default in API_URLS.get(adapter, ANY_URLS):
        url = env.get(var, "") or default
        if not url:
            continue
        try:
            out.append(url_host_port(url))
        except ValueError:
            continue
    for entry in listed:
        try:
            out.append(host_port(entry))
        except ValueError:
            continue
    return list(dict.fromkeys(out))
