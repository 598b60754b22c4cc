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
# Any other adapter (opencode, a generic agent) reaches what these name, when set.
ANY_URLS = (("ANTHROPIC_BASE_URL", ""), ("OPENAI_BASE_URL", ""), ("OPENAI_API_BASE", ""),
            ("GOOGLE_GEMINI_BASE_URL", ""))
# Aider (through litellm) picks its provider by the model and finds it by the key that is set:
# (key, the variables litellm reads that provider's base URL from, its URL without them).
AIDER_PROVIDERS = (
    ("OPENAI_API_KEY", ("OPENAI_API_BASE", "OPENAI_BASE_URL"), "https://api.openai.com/v1"),
    ("ANTHROPIC_API_KEY", ("ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"),
     "https://api.anthropic.com"),
    ("GEMINI_API_KEY", ("GEMINI_API_BASE",), "https://generativelanguage.googleapis.com"),
    ("DEEPSEEK_API_KEY", ("DEEPSEEK_API_BASE",), "https://api.deepseek.com"),
    ("OPENROUTER_API_KEY", ("OPENROUTER_API_BASE",), "https://openrouter.ai/api/v1"),
)


def _aider_urls(env: Mapping[str, str]) -> list[str]:
    """Each base URL that is set, and the default of each provider whose key alone is."""
    out: list[str] = []
    for key, bases, default in AIDER_PROVIDERS:
        set_ = [env[b] for b in bases if env.get(b)]
        out += set_ or ([default] if env.get(key) else [])
    return out


def api_hosts(adapter: str, env: Mapping[str, str], listed: Iterable[str]) -> list[HostPort]:
    """The allowed hosts, in order, each once. A base URL that is not an http(s) URL allows
    nothing (the CLI could not use it either); a listed entry was checked with the config."""
    out: list[HostPort] = []
    urls = _aider_urls(env) if adapter == "aider" else [
        env.get(var, "") or default for var, default in API_URLS.get(adapter, ANY_URLS)]
    for url in urls:
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
