"""Whether the supervisor still stands on its run: the repository and the store it opened.

A supervisor whose repository was deleted (or whose ``state.db`` was removed or replaced under
it) must stop rather than run on: its appends would go to an unlinked file nobody can read, and
its heartbeat would re-create a ``.swarm/`` with nothing behind it. The check is two ``lstat``
calls, cheap enough for every tick, and it runs first so no part acts on a run that is gone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Lost(StrEnum):
    REPOSITORY_GONE = "repository_gone"  # the repository's .git is no longer there
    STORE_GONE = "store_gone"  # .swarm/state.db was deleted
    STORE_REPLACED = "store_replaced"  # another file now sits at .swarm/state.db


@dataclass(frozen=True)
class LostFooting:
    cause: Lost
    detail: str  # a sentence for people, naming the path


@dataclass(frozen=True)
class Footing:
    repo: Path
    store_path: Path
    store_id: tuple[int, int]  # (st_dev, st_ino) of the store when the supervisor opened it

    @classmethod
    def take(cls, repo: Path, store_path: Path) -> Footing:
        st = os.stat(store_path)
        return cls(Path(repo), Path(store_path), (st.st_dev, st.st_ino))

    def check(self) -> LostFooting | None:
        git = self.repo / ".git"
        if not os.path.lexists(git):
            return LostFooting(Lost.REPOSITORY_GONE,
                               f"{git} is gone: the repository was deleted or moved")
        try:
            st = os.lstat(self.store_path)
        except FileNotFoundError:
            return LostFooting(Lost.STORE_GONE, f"{self.store_path} was deleted")
        except OSError as e:
            return LostFooting(Lost.STORE_GONE, f"{self.store_path} cannot be read: {e}")
        if (st.st_dev, st.st_ino) != self.store_id:
            return LostFooting(Lost.STORE_REPLACED,
                               f"{self.store_path} was replaced by another file")
        return None
