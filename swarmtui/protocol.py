"""The agent file protocol: names shared by the supervisor, the wrapper and agents.

Everything an agent needs to know reaches it through these environment variables and files;
nothing is learnt by reading its pane.
"""

from __future__ import annotations

TYPE_CHECKING = False  # `status` reads these names before anything imports pathlib
if TYPE_CHECKING:
    from pathlib import Path

# Directory layout under the repository root.
SWARM_DIR = ".swarm"
STATE_DB = "state.db"
AGENTS_DIR = "agents"
WORKTREES_DIR = "worktrees"
HEARTBEAT_FILE = "heartbeat"  # mtime touched by the supervisor every tick
SUPERVISOR_LOCK = "supervisor.lock"  # flock held by the live supervisor
SUPERVISOR_LOG = "supervisor.log"  # the supervisor's own trace (bounded, rotated)

# Per-attempt files under .swarm/agents/<task>-<attempt>/
PROMPT_FILE = "prompt.md"
PROGRESS_FILE = "progress.md"
RESULTS_FILE = "results.json"
OUTPUT_LOG = "output.log"
EXIT_FILE = "exit.json"
VERIFY_LOG = "verify.log"
WRAP_PID_FILE = "wrap.pid"  # the wrapper's pid; the agent runs in its own process group
# The attempt's steering token (engine/wrapper/steerpipe.py): in env.json only, for the
# wrapper, which takes it out before the agent starts.
STEER_TOKEN_ENV = "SWARMTUI_STEER_TOKEN"
AGENT_PGID_FILE = "agent.pgid"  # the agent's process group, written by the wrapper at start
ENV_FILE = "env.json"  # the agent's environment (0600); the wrapper deletes it once read
SIGNALS_FILE = "signals.jsonl"  # what the agent CLI said about itself (adapter, hooks)
SIGNALS_MAX_BYTES = 4 * 1024 * 1024
LAUNCH_FILE = "launch.json"

# Environment variables set for every agent by ``swarmtui wrap``.
ENV_AGENT_ID = "SWARM_AGENT_ID"  # "<task>-<attempt>"
ENV_TASK_ID = "SWARM_TASK_ID"
ENV_ATTEMPT = "SWARM_ATTEMPT"
ENV_ROLE = "SWARM_ROLE"
ENV_DEPTH = "SWARM_DEPTH"  # 0 for top-level tasks, parent's depth + 1 for sub-agents
ENV_REPO = "SWARM_REPO"  # the main repository root (not the worktree)
ENV_WORKTREE = "SWARM_WORKTREE"
ENV_AGENT_DIR = "SWARM_AGENT_DIR"
ENV_PROMPT_FILE = "SWARM_PROMPT_FILE"
ENV_PROGRESS_FILE = "SWARM_PROGRESS_FILE"
ENV_RESULTS_FILE = "SWARM_RESULTS_FILE"
ENV_OUTPUT_LOG = "SWARM_OUTPUT_LOG"
ENV_STATE_DB = "SWARM_STATE_DB"

# The heading under which a retry's prompt carries the previous attempt's handoff.
HANDOFF_HEADING = "## Handoff from the previous attempt"

RESULT_STATUSES = ("done", "failed", "blocked")


def agent_id(task: str, attempt: int) -> str:
    return f"{task}-{attempt}"


def branch_name(task: str, attempt: int) -> str:
    return f"swarm/{agent_id(task, attempt)}"


def swarm_dir(repo: Path) -> Path:
    return repo / SWARM_DIR


def agent_dir(repo: Path, task: str, attempt: int) -> Path:
    return repo / SWARM_DIR / AGENTS_DIR / agent_id(task, attempt)


def worktree_dir(repo: Path, task: str, attempt: int) -> Path:
    return repo / SWARM_DIR / WORKTREES_DIR / agent_id(task, attempt)
