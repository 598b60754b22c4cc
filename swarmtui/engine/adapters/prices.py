"""What a model's tokens cost, for turns and attempts whose agent CLI did not say (pure).

Claude Code reports the cost of a run only on its ``result`` line (``total_cost_usd``,
``modelUsage[*].costUSD``). An attempt ended before that line (killed, stuck, relaunched at its
context threshold, its wrapper lost) has only the tokens of the turns it printed, and those are
priced here. Reported figures always win: nothing here replaces a cost the CLI gave.

The table is dated and sourced. ``[prices."<model>"]`` in the config overrides or adds a model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from swarmtui.config import ModelPrice
from swarmtui.model import payloads as p

PRICES_AS_OF = "2026-12-07"
PRICES_SOURCE = (
    "the model catalog inside Claude Code 2.1.332 (@anthropic-ai/claude-code, its 'pricing' "
    "tiers: input, output, cache_write_5m, cache_read per MTok), which reproduces the CLI's own "
    "costUSD in tests/data/claude (tests/test_prices.py); the 3.x and 4.x rows equal Anthropic's "
    "published list prices (https://www.anthropic.com/pricing)")


def _row(inp: float, out: float, write: float, read: float) -> ModelPrice:
    return ModelPrice(input=inp, output=out, cache_write=write, cache_read=read)


_OPUS_4 = _row(15.0, 75.0, 18.75, 1.5)
_OPUS_45 = _row(5.0, 25.0, 6.25, 0.5)
_SONNET_4 = _row(3.0, 15.0, 3.75, 0.3)
_TIER_10_50 = _row(10.0, 50.0, 12.5, 1.0)
_TIER_10_50_R25 = _row(10.0, 50.0, 12.5, 0.25)
_TIER_8_40 = _row(8.0, 40.0, 10.0, 0.2)

# US dollars per million tokens. Cache writes at the 5-minute rate (what Claude Code's own
# costUSD uses for its prompt caching). Not modelled: Haiku 5.5's dearer rate above 100k prompt
# tokens, the "fast" mode rates, web search requests.
BUILTIN: dict[str, ModelPrice] = {
    "claude-opus-4": _OPUS_4, "claude-opus-4-0": _OPUS_4, "claude-opus-4-1": _OPUS_4,
    "claude-opus-4-5": _OPUS_45, "claude-opus-4-6": _OPUS_45, "claude-opus-4-7": _OPUS_45,
    "claude-opus-4-8": _OPUS_45, "claude-opus-5": _OPUS_45,
    "claude-opus-5-5": _row(4.0, 20.0, 5.0, 0.2),
    "claude-3-5-sonnet": _SONNET_4, "claude-3-7-sonnet": _SONNET_4,
    "claude-sonnet-4": _SONNET_4, "claude-sonnet-4-0": _SONNET_4,
    "claude-sonnet-4-5": _SONNET_4, "claude-sonnet-4-6": _SONNET_4,
    "claude-sonnet-5": _row(2.0, 10.0, 2.5, 0.2),
    "claude-sonnet-5-5": _row(2.0, 10.0, 2.5, 0.1),
    "claude-3-5-haiku": _row(0.8, 4.0, 1.0, 0.08),
    "claude-haiku-4-5": _row(1.0, 5.0, 1.25, 0.1),
    "claude-haiku-5-5": _row(0.1, 0.5, 0.125, 0.01),
    "claude-fable-5": _TIER_10_50, "claude-mythos-5": _TIER_10_50,
    "claude-fable-5-1": _TIER_10_50_R25, "claude-mythos-5-1": _TIER_10_50_R25,
    "claude-fable-5-2": _TIER_8_40, "claude-mythos-5-2": _TIER_8_40,
}

# A dated snapshot id ("claude-sonnet-4-5-20250929") or a context variant ("...[1m]") is
# priced as its model; anything else must be named exactly (a new model is not guessed).
_SUFFIX = re.compile(r"(\[[^\]]{1,20}\])$|(-\d{8})$")


def base_name(model: str) -> str:
    name = model.strip().lower()
    while (m := _SUFFIX.search(name)) is not None:
        name = name[:m.start()]
    return name


def price_for(model: str, overrides: Mapping[str, ModelPrice]) -> ModelPrice | None:
    """The config's price for ``model`` if it names one, else the table's, else None."""
    if model in overrides:
        return overrides[model]
    base = base_name(model)
    for name, price in overrides.items():
        if base_name(name) == base:
            return price
    return BUILTIN.get(base)


def finite(v: float | None) -> float | None:
    """A cost the agent CLI reported, or None when it is not a number (``NaN``, infinite,
    negative): such a figure is treated as not said, and priced instead."""
    return v if v is not None and math.isfinite(v) and v >= 0 else None


def cost_of(u: p.ModelUsage, price: ModelPrice) -> float:
    return (u.input * price.input + u.output * price.output + u.cache_read * price.cache_read
            + u.cache_write * price.cache_write) / 1e6


def priced_exit(pl: p.AgentExited, overrides: Mapping[str, ModelPrice]) -> p.AgentExited:
    """The exit record with a cost for every model whose tokens came without one. A cost the
    agent CLI reported is kept; one that is not a number is dropped and priced."""
    models: dict[str, p.ModelUsage] = {}
    total = 0.0
    estimated = costed = False
    for name, u in pl.models.items():
        cost = finite(u.cost_usd) or 0.0
        if not cost and (price := price_for(name, overrides)) is not None:
            cost = cost_of(u, price)
            estimated = estimated or cost > 0
        costed = costed or cost > 0
        models[name] = u.model_copy(update={"cost_usd": cost})
        total += cost
    said = finite(pl.cost_usd)
    cost_usd = (round(total, 6) if estimated or (said is None and costed) else said)
    return pl.model_copy(update={"models": models, "cost_usd": cost_usd,
                                 "cost_estimated": pl.cost_estimated or estimated})


def priced_turn(pl: p.TurnUsage, overrides: Mapping[str, ModelPrice]) -> p.TurnUsage:
    """One turn's tokens with their cost from the table (zero for a model it does not know)."""
    price = price_for(pl.model, overrides)
    if price is None:  # whatever the line claimed, a turn's cost is the table's or nothing
        return pl.model_copy(update={"cost_usd": 0.0})
    u = p.ModelUsage(input=pl.input, output=pl.output, cache_read=pl.cache_read,
                     cache_write=pl.cache_write)
    return pl.model_copy(update={"cost_usd": round(cost_of(u, price), 9)})
