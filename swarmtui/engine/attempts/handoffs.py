"""The handoff a new attempt of a task gets from the one before it (read in the git worker)."""

from __future__ import annotations

import logging
from pathlib import Path

from swarmtui import protocol as P
from swarmtui.agentfiles import AgentFileError, parse_results
from swarmtui.engine.attempts.carryover import Carried, carried, relaunched_in_place
from swarmtui.engine.attempts.digest import digest
from swarmtui.engine.attempts.ownfiles import tail_lines
from swarmtui.engine.attempts.prompt import Handoff
from swarmtui.engine.attempts.spawnplan import Plan
from swarmtui.engine.ports import Ports
from swarmtui.engine.runtime.files import Refused, read_small

log = logging.getLogger(__name__)

HANDOFF_PROGRESS_LINES = 10


def handoff_for(ports: Ports, plan: Plan) -> Handoff:
    """What a retry's prompt tells the agent about the attempt before it (git worker)."""
    t = plan.task
    prev = plan.prev or 0
    aid = P.agent_id(t.id, prev)
    rel = f"{P.AGENTS_DIR}/{aid}"
    progress = tail_lines(ports.swarm, f"{rel}/{P.PROGRESS_FILE}", HANDOFF_PROGRESS_LINES)
    summary = ""
    try:
        chunk = read_small(ports.swarm, f"{rel}/{P.RESULTS_FILE}", cap=1024 * 1024)
        if chunk is not None:
            summary = parse_results(chunk.data.decode("utf-8", "replace")).summary
    except (AgentFileError, Refused, OSError) as e:
        log.info("handoff for %s: the last attempt's summary is unreadable (%s)", t.id, e)
    diff = ""
    in_place = (relaunched_in_place(t) or bool(plan.crossed)) and (
        plan.job.reuse_worktree is not None)
    wt = Path(plan.worktree) if in_place else ports.runner.worktree(t.id, prev)
    if wt.is_dir() and not wt.is_symlink():
        diff = ports.git.diff_stat_text(wt, plan.prev_start_commit or plan.base)
    kept = carried(ports.swarm, aid, ports.git, wt, plan.prev_start_commit or plan.base) if (
        in_place) else Carried()
    resolve = t.resolve or {}
    return Handoff(previous_attempt=prev, reason=t.reason,
                   previous_branch=P.branch_name(t.id, prev), progress_tail=progress,
                   summary=summary, diff_stat=diff, verify_tail=t.verify_tail,
                   note=t.retry_note, target=plan.target,
                   conflicts=list(resolve.get("conflicts") or []),
                   their_intent=list(resolve.get("theirs") or []),
                   merge_refused=t.merge_note, merge_conflicts=list(t.conflicts),
                   in_place=in_place, files_touched=kept.files,
                   last_words="" if plan.crossed else kept.last_words,
                   crossed_from=plan.crossed if in_place else "",
                   digest=digest(ports.swarm, aid) if plan.crossed and in_place else [])
