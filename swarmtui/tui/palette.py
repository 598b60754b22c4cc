"""Command palette (ctrl+p): jump to any agent by id or title, run any action, switch theme."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from swarmtui.model.labels import STATE_LABEL
from swarmtui.tui.bindings import FLEET_KEYS, key_of
from swarmtui.tui.view import COLUMNS

if TYPE_CHECKING:
    from swarmtui.tui.app import SwarmApp


class SwarmCommands(Provider):
    def _entries(self) -> list[tuple[str, str, object]]:
        """(text to match, help, callback) for everything the palette offers."""
        app = cast("SwarmApp", self.app)
        fleet = app.fleet
        out: list[tuple[str, str, object]] = []
        for t in fleet.tasks.values():
            out.append((f"Go to {t.id} · {t.spec.title}",
                        f"{STATE_LABEL[t.state]} · {t.spec.role}",
                        partial(fleet.goto_task, t.id)))
        for k in FLEET_KEYS:
            if (k.acts and app.read_only) or not k.in_palette:
                continue
            key = app.get_key_display_text(key_of(app.keymap, k.id))
            out.append((k.description.split(" (")[0], f"key {key} · id {k.id}",
                        partial(fleet.palette_action, k.action)))
        out.append(("Screenshot: save the screen as SVG", "into .swarm/screenshots",
                     app.action_save_svg))
        off = fleet.table.off if fleet.is_mounted else set()
        for i, col in enumerate(COLUMNS):
            if col.key == "id":
                continue
            verb = "show" if i in off else "hide"
            out.append((f"Column {col.label}: {verb}", f"{col.meaning} ([ui] columns sets "
                        "the start)", partial(fleet.toggle_column, i)))
        for name in app.theme_names:
            out.append((f"Theme: {name}", "switch the colour theme",
                        partial(setattr, app, "theme", name)))
        return out

    async def discover(self) -> Hits:
        for text, help_, cb in self._entries():
            yield DiscoveryHit(text, cb, help=help_)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_, cb in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), cb, help=help_)  # type: ignore[arg-type]
