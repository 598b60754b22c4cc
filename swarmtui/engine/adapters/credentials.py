"""Where each agent CLI reads its credential from (pure).

Claude Code: ``ANTHROPIC_API_KEY`` for a Console key, ``CLAUDE_CODE_OAUTH_TOKEN`` for a
claude.ai subscription's token (``claude setup-token``; it starts ``sk-ant-oat``), where usage
limits apply. Codex: ``CODEX_API_KEY`` (what ``codex exec`` reads) and ``OPENAI_API_KEY`` (the
default provider's ``env_key``). Gemini CLI: ``GEMINI_API_KEY``. opencode: the variable of the
provider its ``-m PROVIDER/MODEL`` names (``anthropic`` -> ``ANTHROPIC_API_KEY``, ...). Qwen
Code (its OpenAI-compatible client, with ``OPENAI_BASE_URL``): ``OPENAI_API_KEY``. Aider: the
provider's of its ``--model PROVIDER/MODEL`` as for opencode; a model named without a provider
is OpenAI's. An
account's ``variable`` overrides all of these (a provider of one's own, say).
"""

from __future__ import annotations

from collections.abc import Sequence

from swarmtui.engine.adapters.opencode_launch import model_of

_CLAUDE = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")
_CODEX = ("CODEX_API_KEY", "OPENAI_API_KEY")
_GEMINI = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
_QWEN = ("OPENAI_API_KEY",)
_OPENCODE_PROVIDERS = {
    "anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY",
    "google": "GOOGLE_GENERATIVE_AI_API_KEY", "openrouter": "OPENROUTER_API_KEY",
    "groq": "GROQ_API_KEY", "mistral": "MISTRAL_API_KEY", "xai": "XAI_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
}


def _provider_var(argv: Sequence[str]) -> str:
    provider = model_of(list(argv)).split("/", 1)[0]
    if not provider:
        return "ANTHROPIC_API_KEY"
    return _OPENCODE_PROVIDERS.get(provider, provider.upper().replace("-", "_") + "_API_KEY")


def key_variables(cli: str, argv: Sequence[str], key: str, variable: str = "") -> tuple[str, ...]:
    """The variables the CLI of ``argv`` reads ``key`` from."""
    if variable:
        return (variable,)
    if cli == "claude":
        return ("CLAUDE_CODE_OAUTH_TOKEN",) if key.startswith("sk-ant-oat") else (
            "ANTHROPIC_API_KEY",)
    if cli == "codex":
        return _CODEX
    if cli == "gemini":
        return ("GEMINI_API_KEY",)
    if cli == "opencode":
        return (_provider_var(argv),)
    if cli == "qwen":
        return _QWEN
    if cli == "aider":
        return (_provider_var(argv) if "/" in model_of(list(argv)) else "OPENAI_API_KEY",)
    return ()


def competing(cli: str, argv: Sequence[str]) -> tuple[str, ...]:
    """Variables the CLI would take a credential from instead of (or besides) the account's."""
    if cli == "claude":
        return _CLAUDE
    if cli == "codex":
        return _CODEX
    if cli == "gemini":
        return _GEMINI
    if cli == "opencode":
        return (_provider_var(argv),)
    if cli == "qwen":
        return _QWEN
    if cli == "aider":
        return (_provider_var(argv) if "/" in model_of(list(argv)) else "OPENAI_API_KEY",)
    return ()
