"""What an attempt's box holds: the mounts, found from its launch spec and the disk.

Writable: the worktree, the attempt's own folder, a private /tmp and home, the agent CLI's own
state folder, the repository's object store and the worktree's git admin folder, and a
per-attempt folder standing in for its branch's ref directory (``refsync.py``). Read-only: the
system, the Python running swarmtui, the agent's executable (with a Python program's virtual
environment), and the rest of the repository's ``.git`` (refs of every other branch, its config
and hooks); on an SSH host the same, with the host's paths and its bare clone for ``.git``.
Nothing else is there: not the main work tree, not ``.swarm`` (the store, the inbox, other
agents' folders), not ``~/.ssh``.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from swarmtui.engine.sandbox.bwrap import Mount

SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
          "/run/systemd/resolve")
# Each agent CLI's own state (sessions, credentials, settings), as its environment names it:
# the variable's value (with the sub-folder after it), else the default. Bound whole; the rest
# of the private home stays writable around them (an XDG CLI makes ~/.local/state, ~/.cache).
STATE_DIRS: dict[str, tuple[tuple[str, str, str], ...]] = {  # adapter: ((var, sub, default),)
    "claude": (("CLAUDE_CONFIG_DIR", "", "~/.claude"),),
    "codex": (("CODEX_HOME", "", "~/.codex"),),
    "gemini": (("", "", "~/.gemini"),),
    "qwen": (("", "", "~/.qwen"),),
    "opencode": (("XDG_CONFIG_HOME", "/opencode", "~/.config/opencode"),
                 ("XDG_DATA_HOME", "/opencode", "~/.local/share/opencode")),
}
# Copied into the private home (a file renamed over, git's identity for the agent's commits,
# or a CLI's state that each attempt gets a copy of: what it writes there goes nowhere).
HOME_FILES = {
    "claude": (".claude.json",),
    # Aider's settings beside the home, and from ~/.aider only what it reads: its OAuth keys,
    # its install and analytics ids and its caches of price lists (without them it fetches
    # them), never the whole folder (a help index there runs to hundreds of MB).
    "aider": (".aider.conf.yml", ".aider.model.settings.yml", ".aider.model.metadata.json",
              ".aider/oauth-keys.env", ".aider/installs.json", ".aider/analytics.json",
              ".aider/caches/model_prices_and_context_window.json",
              ".aider/caches/openrouter_models.json", ".aider/caches/versioncheck"),
}
EVERY_HOME = (".gitconfig",)
HOME_FILE_MAX = 16 * 1024 * 1024  # a larger one is not copied (the CLI makes do without it)
# Files a CLI reads that its environment names (mounted read-only where they are).
ENV_FILES = {"aider": ("AIDER_MODEL_METADATA_FILE", "AIDER_MODEL_SETTINGS_FILE", "AIDER_CONFIG",
                       "AIDER_ENV_FILE")}


class SandboxError(OSError):
    """The box cannot be made as asked: the attempt does not start (its cause says why)."""


@dataclass(frozen=True)
class GitView:
    common: Path  # <repo>/.git
    admin: Path  # <repo>/.git/worktrees/<name>
    dotgit: Path  # <worktree>/.git, the file pointing at admin
    branch: str  # swarm/<task>-<n>


# Where a repository's git folder is under the folder the supervisor runs in: ``.git`` here,
# and on an SSH host the bare clone the runner keeps beside ``.swarm`` (sshremote.CLONE).
GIT_DIRS = (".git", "clone.git")


def git_view(worktree: Path, repo: Path, branch: str) -> GitView:
    """The worktree's git folders, checked to be this repository's (a worktree an earlier
    attempt used could have had its ``.git`` file pointed elsewhere)."""
    dotgit = worktree / ".git"
    try:
        text = dotgit.read_text()[:4096] if dotgit.is_file() and not dotgit.is_symlink() else ""
    except OSError:
        text = ""
    if not text.startswith("gitdir:"):
        raise SandboxError(f"{dotgit} is not a git worktree's .git file")
    admin = (worktree / text.split(":", 1)[1].strip()).resolve()
    commons = [(repo / d).resolve() for d in GIT_DIRS if (repo / d).is_dir()]
    common = next((c for c in commons if admin.parent == c / "worktrees"), None)
    if common is None or not (admin / "HEAD").is_file():
        raise SandboxError(f"{dotgit} points to {admin}, not into "
                           f"{(commons or [repo / '.git'])[0]}/worktrees")
    if "/" not in branch or branch.startswith("/") or ".." in branch.split("/"):
        raise SandboxError(f"branch {branch!r} cannot have a ref folder of its own")
    return GitView(common, admin, dotgit, branch)


def expand(path: str, home: str) -> str:
    return home + path[1:] if path.startswith("~/") else path


def executables(argv0: str, path_env: str) -> list[tuple[str, str]]:
    """Folders (where in the box, where on the host) that hold the agent's executable: where
    its name is found and where it really is. For an npm package, the ``node_modules`` that
    holds it (a CLI's native binary is a sibling package: ``@openai/codex-linux-x64``), also
    where the shim's link points when a folder on the way is a symbolic link."""
    found = argv0 if "/" in argv0 else shutil.which(argv0, path=path_env)
    if not found:
        return []
    here = str(Path(found).absolute().parent)
    out = [(here, here)]
    real = Path(found).resolve()
    root = real.parent
    for up in (real.parent, real.parent.parent):
        if (up / "package.json").is_file():
            root = next((p for p in up.parents if p.name == "node_modules"), up)
            break
    out.append((str(root), str(root)))
    if os.path.islink(found):  # a relative link is followed from where it is named
        seen = os.path.normpath(os.path.join(here, os.readlink(found)))
        tail = os.path.relpath(real, root)
        if seen != str(real) and seen.endswith("/" + tail):
            out.append((seen[:-len(tail) - 1], str(root)))
    return out


def venv_dirs(exe: str) -> list[str]:
    """A Python program's virtual environment (and the Python it was made from, as its
    ``pyvenv.cfg`` names it): where the interpreter on its ``#!`` line lives (Aider,
    installed by pip or pipx). Read-only in the box: the agent runs it, never changes it."""
    try:
        with open(exe, "rb") as f:
            first = f.read(512).split(b"\n", 1)[0]
    except OSError:
        return []
    if not first.startswith(b"#!"):
        return []
    words = first[2:].decode("utf-8", "replace").split()
    if not words or not words[0].startswith("/"):
        return []
    venv = Path(words[0]).parent.parent
    try:
        cfg = (venv / "pyvenv.cfg").read_text()[:4096] if (venv / "pyvenv.cfg").is_file() else ""
    except OSError:
        cfg = ""
    if not cfg:
        return []
    out = [str(venv), str(venv.resolve())]
    for line in cfg.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip().startswith("/"):
            out.append(str(Path(value.strip()).resolve().parent))
    return list(dict.fromkeys(out))


def copy_home_files(names: tuple[str, ...], home: str, into: Path) -> None:
    """The CLI's files from ``home`` into the private home: regular files only (a link is not
    followed), each up to HOME_FILE_MAX."""
    for name in names:
        src = os.path.join(home, name)
        try:
            st = os.lstat(src)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_size > HOME_FILE_MAX:
            continue
        dst = into / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)


def python_dirs() -> list[str]:
    """The interpreter and swarmtui itself: hooks and ``swarmtui spawn`` run inside the box."""
    import swarmtui

    return sorted({sys.prefix, sys.base_prefix, str(Path(swarmtui.__file__).parent)})


def mounts(*, worktree: Path, agent_dir: Path, view: GitView, private: Path, adapter: str,
           env: dict[str, str], argv: list[str], read: list[str], write: list[str],
           socket_dir: Path | None, refs: list[Mount]) -> list[Mount]:
    real_home = os.path.expanduser("~")
    home = env.get("HOME", "")
    out: list[Mount] = []
    for d in SYSTEM:
        if os.path.islink(d):
            out.append(Mount("symlink", d, os.readlink(d)))
        elif os.path.isdir(d):
            out.append(Mount("ro", d, d))
    exes = executables(argv[0], env.get("PATH", os.defpath))
    dirs = [(d, d) for d in python_dirs()] + exes
    if exes:  # a script's interpreter: where it is named and where it really is
        exe = os.path.join(exes[0][0], os.path.basename(argv[0]))
        dirs += [(d, d) for d in venv_dirs(exe) + venv_dirs(os.path.realpath(exe))]
    for d, src in dirs:
        if os.path.isdir(src) and not any(d == s or d.startswith(s + "/") for s in SYSTEM):
            out.append(Mount("ro", d, src))
    # A script named on the command line (``bash /path/to/agent.sh``) is read in the box.
    out += [Mount("ro", a, a) for a in argv[1:] if a.startswith("/") and os.path.isfile(a)]
    (private / "tmp").mkdir(parents=True, exist_ok=True)
    out.append(Mount("rw", "/tmp", str(private / "tmp")))
    if home.startswith("/") and home != "/":
        (private / "home").mkdir(exist_ok=True)
        out.append(Mount("rw", home, str(private / "home")))
        copy_home_files((*HOME_FILES.get(adapter, ()), *EVERY_HOME), home, private / "home")
    named = (env.get(v, "") for v in ENV_FILES.get(adapter, ()))
    out += [Mount("ro", f, f) for f in named if f.startswith("/") and os.path.isfile(f)]
    state: list[str] = []
    for var, sub, default in STATE_DIRS.get(adapter, ()):
        d = env.get(var, "") if var else ""
        d = d + sub if d.startswith("/") else expand(default, home or real_home)
        if d.startswith("/"):
            os.makedirs(d, mode=0o700, exist_ok=True)
            out.append(Mount("rw", d, d))
            state.append(d)
    c, a = str(view.common), str(view.admin)
    out += [Mount("ro", c, c), Mount("rw", f"{c}/objects", f"{c}/objects"), Mount("rw", a, a),
            *refs, Mount("rw", str(worktree), str(worktree)),
            Mount("rw", str(agent_dir), str(agent_dir))]
    # Where git finds its repository stays as the supervisor made it.
    out += [Mount("ro", str(view.dotgit), str(view.dotgit))]
    out += [Mount("ro", f"{a}/{n}", f"{a}/{n}") for n in ("commondir", "gitdir")
            if (view.admin / n).is_file()]
    for extra, kind in ((read, "ro"), (write, "rw")):
        for p in extra:
            p = expand(p, real_home)
            if os.path.exists(p):
                out.append(Mount("ro" if kind == "ro" else "rw", p, p))
    if socket_dir is not None:
        from swarmtui.engine.sandbox.bwrap import SOCKET_DIR

        out.append(Mount("rw", SOCKET_DIR, str(socket_dir)))
    return shielded(out, ["/tmp", home], private / "skel", own=state)


def shielded(ms: list[Mount], writable: list[str], skel: Path,
             own: list[str] | None = None) -> list[Mount]:
    """A repository under the private /tmp or home (a test's, say) would have its mount points
    made as folders there, and the agent could write beside them (a ``.swarm/state.db`` of its
    own that nobody reads): the path down to them is a read-only skeleton of folders instead.
    Not so for ``own`` (the CLI's state folders) in the private home: beside them is its own."""
    dests = {m.dest for m in ms}
    out = list(ms)
    for top in (w for w in writable if w.startswith("/") and w != "/"):
        for m in ms:
            if not m.dest.startswith(top + "/") or (m.dest in (own or ()) and top != "/tmp"):
                continue
            first = f"{top}/{m.dest[len(top) + 1:].split('/')[0]}"
            if first in dests and not any(x.dest == first and x.src.startswith(str(skel))
                                          for x in out):
                continue
            where = skel / m.dest.lstrip("/")
            if m.kind in ("ro", "rw") and os.path.isfile(m.src):
                where.parent.mkdir(parents=True, exist_ok=True)
                where.touch()
            else:
                where.mkdir(parents=True, exist_ok=True)
            if first not in dests:
                dests.add(first)
                out.append(Mount("ro", first, str(skel / first.lstrip("/"))))
    return out
