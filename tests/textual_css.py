"""One parse of each stylesheet per test process, not one per app.

Textual parses every widget's CSS again for each new App (its parse cache lives on the app's
stylesheet), and the TUI tests build hundreds of apps in a worker: the parsing was about 8% of
their CPU. The rules a parse returns depend only on the CSS text, where it was read from, its
scope and tie-breaker, and the theme's variables, and nothing changes them after the parse, so
one process-wide memo keyed on all of those gives each app the same rules it would have parsed.
"""

from __future__ import annotations

from typing import Any

from textual.css.stylesheet import Stylesheet

_memo: dict[tuple[Any, ...], Any] = {}


def install() -> None:
    parse_rules = Stylesheet._parse_rules
    if getattr(parse_rules, "memoised", False):
        return

    def memoised(self: Stylesheet, css: str, read_from: Any, is_default_rules: bool = False,
                 tie_breaker: int = 0, scope: str = "") -> Any:
        key = (css, read_from, is_default_rules, tie_breaker, scope,
               tuple(sorted(self._variables.items())))
        rules = _memo.get(key)
        if rules is None:
            rules = _memo[key] = parse_rules(self, css, read_from, is_default_rules,
                                             tie_breaker, scope)
        return rules

    memoised.memoised = True  # type: ignore[attr-defined]
    Stylesheet._parse_rules = memoised  # type: ignore[method-assign]
