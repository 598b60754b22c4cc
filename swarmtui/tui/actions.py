"""The acting half of the fleet screen: one method per key, each one command through the
inbox with the CLI's kind and arguments.

Every action on a task names the attempt the operator saw (``{"task", "attempt"}``), so one
that reaches the supervisor after it moved on to another attempt is refused with the reason
instead of landing on the newer one. Destructive actions confirm first; the merge confirmation
shows the forecast and asks twice when it is not clean.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual.screen import Screen

from swarmtui.config.hosts import LOCAL_HOST
from swarmtui.model import ACTIVE, AttemptRec, TaskState, TaskView
from swarmtui.textsafe import term_safe
from swarmtui.tui.askdialog import AskScreen, Decision
from swarmtui.tui.bindings import ACTING_ACTIONS, key_of
from swarmtui.tui.describe import agent, cancel_lines, grant_lines, merge_forecast
from swarmtui.tui.dialogs import ConfirmScreen, NoteScreen, TextScreen
from swarmtui.tui.forms import NewTaskScreen
from swarmtui.tui.remote import shell_argv, ssh_attach_argv, window_name
from swarmtui.tui.runview import AlertItem, Header
from swarmtui.tui.table import AgentsTable
from swarmtui.windows import session_name

if TYPE_CHECKING:
    from swarmtui.tui.app import SwarmApp

LONG_ANSWER = 900.0  # merges and reviews are answered when they are done


def ref(t: TaskView) -> dict[str, Any]:
    """The task and the attempt the operator sees now."""
    return {"task": t.id, "attempt": t.attempt}


class ActionScreen(Screen[None]):
    tasks: dict[str, TaskView]
    attempts: dict[str, AttemptRec | None]
    alerts: tuple[AlertItem, ...]
    header: Header

    @property
    def swarm(self) -> SwarmApp:
        return cast("SwarmApp", self.app)

    @property
    def table(self) -> AgentsTable:
        return self.query_one(AgentsTable)

    def shown_key(self, kid: str) -> str:
        app = self.swarm
        return app.get_key_display_text(key_of(app.keymap, kid))

    def send(self, kind: str, args: dict[str, Any], label: str, *,
             timeout: float | None = None) -> None:
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------------

    def allowed(self, action: str) -> bool:
        """Acting keys are hidden from the key bar and help, and refused, in `watch`."""
        return not (self.swarm.read_only and action in ACTING_ACTIONS)

    def _refuse_read_only(self) -> bool:
        if self.swarm.read_only:
            self.app.notify("read-only view (swarmtui watch): actions are not available",
                            severity="warning", timeout=3)
            return True
        return False

    def _marked_or_refuse(self) -> list[TaskView] | None:
        """The marked tasks (more than one) for an acting key; None in ``watch``."""
        if self.swarm.read_only:
            return None
        return self._marked()

    def _selected(self, *, acting: bool = True) -> TaskView | None:
        if acting and self._refuse_read_only():
            return None
        t = self.tasks.get(self.table.selected_task or "")
        if t is None:
            self.app.notify("no task selected", severity="warning", timeout=3)
        return t

    def _confirm(self, screen: ConfirmScreen, kind: str, args: dict[str, Any], label: str,
                 timeout: float | None = None) -> None:
        def done(yes: bool | None) -> None:
            if yes:
                self.send(kind, args, label, timeout=timeout)

        self.app.push_screen(screen, done)

    # -- marked rows -----------------------------------------------------------------------------

    def _marked(self) -> list[TaskView] | None:
        """The marked tasks when more than one row is marked (None: act on the selected one;
        one marked row is that row). Marks of tasks gone from the run are dropped."""
        marked = [self.tasks[m] for m in self.table.marked if m in self.tasks]
        if len(marked) == 1:
            self.table.select_task(marked[0].id)
        return marked if len(marked) > 1 else None

    def _confirm_each(self, screen: ConfirmScreen, kind: str, todo: list[tuple[TaskView,
                      dict[str, Any]]], label: str, timeout: float | None = None) -> None:
        """One confirmation naming every marked task; ``y`` sends one command per task."""
        def done(yes: bool | None) -> None:
            if yes:
                self.table.clear_marks()
                for t, args in todo:
                    self.send(kind, args, f"{label} {agent(t)}", timeout=timeout)

        self.app.push_screen(screen, done)

    def action_mark(self) -> None:
        t = self._selected()
        if t is None:
            return
        self.table.toggle_mark(t.id)
        self.table.action_cursor(1)  # like a file manager: mark, and on to the next row
        self.marks_changed()

    def marks_changed(self) -> None:
        """The fleet screen shows how many rows are marked in the table's title."""

    # -- one task --------------------------------------------------------------------------------

    def action_jump(self) -> None:
        t = self._selected()
        if t is None:
            return
        if t.state not in ACTIVE or not t.window:
            self.app.notify(f"{t.id} has no live agent window ({t.state})", severity="warning",
                            timeout=3)
            return
        rec = self.attempts.get(t.id)
        if rec is not None and rec.runner != LOCAL_HOST:
            host = next((h for h in self.swarm.config.hosts if h.name == rec.runner), None)
            if host is None:
                self.app.notify(f"{t.window} runs on {rec.runner}, which the config no longer "
                                "lists ([[hosts]])", severity="error", timeout=6)
                return
            session = session_name(self.swarm.repo)
            self.swarm.open_window(window_name("ssh", t.window),
                                   ssh_attach_argv(host, session, t.window), self.swarm.repo)
            return
        self.swarm.jump(t.window)

    def action_shell(self) -> None:
        """A shell in the attempt's worktree, in a new window of this session."""
        t = self._selected()
        if t is None:
            return
        rec = self.attempts.get(t.id)
        if rec is None or not rec.worktree:
            self.app.notify(f"{t.id} has no attempt yet: no worktree", severity="warning",
                            timeout=3)
            return
        if rec.runner != LOCAL_HOST:
            self.app.notify(f"{agent(t)} runs on {rec.runner}: its worktree is there "
                            f"({self.shown_key('jump')} attaches to its window)",
                            severity="warning", timeout=5)
            return
        self.swarm.open_window(window_name("sh", rec.window or agent(t)), shell_argv(),
                               Path(rec.worktree))

    def action_kill(self) -> None:
        if (many := self._marked_or_refuse()) is not None:
            names = ", ".join(agent(t) for t in many)
            self._confirm_each(ConfirmScreen(
                f"Kill {len(many)} agents: {names}?",
                "Each process group gets TERM, then KILL; the worktrees are kept.",
                verb="kill them"), "kill", [(t, ref(t)) for t in many], "kill")
            return
        t = self._selected()
        if t is not None:
            self._confirm(ConfirmScreen(
                f"Kill {t.id} (attempt {t.attempt - t.attempt_base})?",
                "Its process group gets TERM, then KILL; the worktree is kept.", verb="kill"),
                "kill", ref(t), f"kill {agent(t)}")

    def _retry(self, t: TaskView, note: str, *, resume: bool = False,
               allow: list[str] | None = None) -> None:
        what = "grant" if allow else "resume" if resume else "retry"
        self.send("retry", {**ref(t), "note": note.strip(), "resume": resume,
                            "allow": list(allow or []), "force": False}, f"{what} {t.id}")

    def _merge_trouble(self, t: TaskView) -> str:
        """Why ``t``'s work cannot land as it is (a refused merge or a forecast conflict)."""
        if t.merge_note:
            return term_safe(t.merge_note)
        fc = t.forecast or {}
        if t.state == TaskState.PASSED and fc.get("target") == "conflict":
            return "its forecast conflicts with " + (", ".join(fc.get("files") or [])
                                                       or "the target")
        return ""

    def action_retry(self) -> None:
        if (many := self._marked_or_refuse()) is not None:
            names = ", ".join(t.id for t in many)
            lines = [f"{t.id}: its merge was refused or would conflict ({trouble})"
                     for t in many if (trouble := self._merge_trouble(t))]

            def retry_all(note: str | None) -> None:
                if note is not None:
                    self.table.clear_marks()
                    for t in many:
                        self._retry(t, note)

            self.app.push_screen(NoteScreen(f"{len(many)} tasks: {names}", lines=lines),
                                 retry_all)
            return
        t = self._selected()
        if t is None:
            return
        lines = []
        if trouble := self._merge_trouble(t):
            lines = [f"Its merge was refused or would conflict ({trouble}): the next attempt "
                     "is told so in its handoff.",
                     f"{self.shown_key('resolve')} instead keeps this work and starts a "
                     "resolver on it."]
        self.app.push_screen(NoteScreen(t.id, lines=lines), lambda note: None if note is None
                             else self._retry(t, note))

    def action_retry_resume(self) -> None:
        t = self._selected()
        if t is not None:
            self.app.push_screen(NoteScreen(t.id, resume=True), lambda note: None
                                 if note is None else self._retry(t, note, resume=True))

    def action_grant(self) -> None:
        t = self._selected()
        if t is None:
            return
        if t.asks:
            self._answer_live(t)
            return
        if not t.denied:
            self.app.notify(f"{agent(t)} was denied no permission", severity="warning",
                            timeout=4)
            return
        rules = list(t.denied)

        def done(yes: bool | None) -> None:
            if yes:
                self._retry(t, "", allow=rules)

        self.app.push_screen(ConfirmScreen(f"Grant {agent(t)} what it was denied, and retry?",
                                           lines=grant_lines(t), verb="grant"), done)

    def _answer_live(self, t: TaskView) -> None:
        """Its live session waits on a request: answer the oldest, in place."""
        asked = t.asks[0]

        def done(d: Decision | None) -> None:
            if d is None:
                return
            self.send("answer", {**ref(t), "request": asked.n, "allow": d.allow,
                                 "scope": d.scope, "why": d.why},
                      f"{'allow' if d.allow else 'deny'} {t.id}#{asked.n}")

        self.app.push_screen(AskScreen(agent(t), t.spec.role, asked, len(t.asks) - 1), done)

    def action_send_follow_up(self) -> None:
        t = self._selected()
        if t is None:
            return

        def done(text: str | None) -> None:
            if text is not None:
                self.send("send", {**ref(t), "text": text.strip()}, f"send {t.id}")

        live = str(t.state) == "running"
        self.app.push_screen(TextScreen(
            f"Send {agent(t)} a {'message' if live else 'follow-up instruction'}",
            "what the agent should do next",
            lines=["It goes into its running session (it reads it at its next step)." if live
                   else "Its agent session resumes in its worktree, as a new attempt, with "
                   "this."], required=True, dialog_id="send"), done)

    def action_interrupt(self) -> None:
        t = self._selected()
        if t is None:
            return
        self.send("interrupt", ref(t), f"interrupt {t.id}")

    def action_review(self) -> None:
        t = self._selected()
        if t is not None:
            self.send("review", ref(t), f"review {agent(t)}", timeout=LONG_ANSWER)

    def action_verify(self) -> None:
        t = self._selected()
        if t is not None:
            self.send("verify", ref(t), f"verify {t.id}")

    def action_merge(self) -> None:
        if (many := self._marked_or_refuse()) is not None:
            into = self.header.target
            said: list[str] = []
            wrong: list[str] = []
            for m in many:
                ls, ps = merge_forecast(m, into)
                said += [f"{m.id}: {line}" for line in ls]
                wrong += [f"{m.id}: {p}" for p in ps]
            self._confirm_each(ConfirmScreen(
                f"Merge {len(many)} tasks into {into}: {', '.join(m.id for m in many)}?",
                lines=said, problems=wrong, verb="merge them"),
                "merge", [(m, ref(m)) for m in many], "merge", LONG_ANSWER)
            return
        t = self._selected()
        if t is None:
            return
        target = self.header.target
        fc = t.forecast or {}
        if t.state == TaskState.PASSED and fc.get("target") == "conflict":
            # The merge refuses a conflict with the target whatever the operator says, so no
            # "merge anyway" is offered: the way on is a resolver.
            files = ", ".join(term_safe(str(f)) for f in fc.get("files") or []) or "files"
            self._confirm(ConfirmScreen(
                f"{agent(t)} conflicts with {target} in {files}: it cannot merge as it is. "
                "Start a resolver instead?",
                lines=[f"a resolver attempt merges {target} into its branch, resolves the "
                       "conflict and commits; the task merges once that passes"],
                verb="resolve"), "resolve", ref(t), f"resolve {t.id}", LONG_ANSWER)
            return
        lines, problems = merge_forecast(t, target)
        after = [f"{self.shown_key('resolve')} (instead): a resolver attempt merges {target} "
                 "into its branch and resolves the conflict"] if self._merge_trouble(t) else []
        self._confirm(ConfirmScreen(f"Merge {agent(t)} into {target}?", lines=lines,
                                    problems=problems, after=after, verb="merge"),
                      "merge", ref(t), f"merge {t.id}", LONG_ANSWER)

    def action_resolve(self) -> None:
        t = self._selected()
        if t is not None:
            self.send("resolve", ref(t), f"resolve {t.id}", timeout=LONG_ANSWER)

    def action_cancel(self) -> None:
        if (many := self._marked_or_refuse()) is not None:
            lines = [f"{t.id}: {line}" for t in many for line in cancel_lines(t, self.tasks)]
            self._confirm_each(ConfirmScreen(
                f"Cancel {len(many)} tasks: {', '.join(t.id for t in many)}?", lines=lines,
                verb="cancel them"), "cancel", [(t, ref(t)) for t in many], "cancel")
            return
        t = self._selected()
        if t is not None:
            self._confirm(ConfirmScreen(f"Cancel {t.id}?", lines=cancel_lines(t, self.tasks),
                                        verb="cancel"), "cancel", ref(t), f"cancel {t.id}")

    # -- alerts and held texts -------------------------------------------------------------------

    def action_ack(self) -> None:
        t = self._selected()
        if t is None:
            return
        if not any(a.task == t.id and not a.acked for a in self.alerts):
            self.app.notify(f"{t.id} has no alert to acknowledge", timeout=3)
            return
        self.send("ack", {"task": t.id}, f"ack {t.id}")

    def ack_alert(self, a: AlertItem) -> None:
        if a.acked:
            self.app.notify("already acknowledged", timeout=2)
            return
        self.send("ack", {"alert": a.id}, f"ack alert {a.id}")

    def decide_alert(self, a: AlertItem, approve: bool) -> None:
        """Approve or reject a held text: the whole text is read (off the event loop) and
        shown, scrollable, before the operator releases it as written."""
        self.swarm.read_held(a.ref, lambda text: self._decide_shown(a, approve, text))

    def _decide_shown(self, a: AlertItem, approve: bool, text: str | None) -> None:
        verb = "approve" if approve else "reject"
        effect = ("it enters other agents' prompts as written" if approve else
                  "it is kept out of every prompt for good")
        whole = (["the held text, whole (arrows and page keys scroll):", text]
                 if text is not None else
                 [f"the held text itself cannot be read (.swarm/quarantine/{a.ref}.txt)"])
        question = (f"Release the held text {a.ref} as written?" if approve else
                    f"Reject the held text {a.ref}?")
        t = self.tasks.get(a.task or "")
        if t is not None and t.diff:  # a held summary holds the merge: what would merge
            n = t.diff.get("files", 0)
            whole.insert(0, f"{t.id}'s change beside it: +{t.diff.get('insertions', 0)} "
                         f"-{t.diff.get('deletions', 0)} in {n} file{'s' if n != 1 else ''} "
                         "(the diff tab shows it)")
        self._confirm(ConfirmScreen(question, lines=[a.text, *whole], after=[f"{verb}: {effect}"],
                                    verb="release it as written" if approve else verb),
                      verb, {"quarantine": a.ref}, f"{verb} {a.ref}")

    def _held_of(self, t: TaskView) -> AlertItem | None:
        for a in self.alerts:
            if a.held_text and (a.task == t.id or (t.held and a.ref == t.held)):
                return a
        if t.held:
            return AlertItem(id=0, time=0.0, kind="text_quarantined", task=t.id, attempt=None,
                             text=term_safe(f"{t.id}: its prompt is held for review"),
                             level="error", count=1, acked=False, bell=False, ref=t.held)
        return None

    def _decide_marked(self, many: list[TaskView], approve: bool) -> None:
        verb = "approve" if approve else "reject"
        held = [(t, h) for t in many if (h := self._held_of(t)) is not None]
        if not held:
            self.app.notify("none of the marked tasks has a held text", severity="warning",
                            timeout=4)
            return
        lines = [f"{h.ref} ({t.id}): {h.text}" for t, h in held]
        without = [t.id for t in many if all(t is not x for x, _ in held)]
        if without:
            lines.append(f"no held text (left alone): {', '.join(without)}")
        effect = ("they enter other agents' prompts as written" if approve else
                  "they are kept out of every prompt for good")
        self._confirm_each(ConfirmScreen(
            f"{verb.capitalize()} {len(held)} held texts: "
            f"{', '.join(h.ref for _, h in held)}?", lines=[*lines, f"{verb}: {effect}"],
            verb=f"{verb} them"), verb, [(t, {"quarantine": h.ref}) for t, h in held], verb)

    def _decide_selected(self, approve: bool) -> None:
        if (many := self._marked_or_refuse()) is not None:
            self._decide_marked(many, approve)
            return
        t = self._selected()
        if t is None:
            return
        held = self._held_of(t)
        if held is None:
            self.app.notify(f"{t.id} has no held text (the alerts list shows every one)",
                            severity="warning", timeout=4)
            return
        self.decide_alert(held, approve)

    def action_approve(self) -> None:
        self._decide_selected(True)

    def action_reject(self) -> None:
        self._decide_selected(False)

    # -- the run ---------------------------------------------------------------------------------

    def action_new_task(self) -> None:
        if self._refuse_read_only():
            return
        cfg = self.swarm.config

        def done(args: dict[str, Any] | None) -> None:
            if args is not None:
                self.send("add", args, "add " + (args.get("id") or "task"))

        self.app.push_screen(NewTaskScreen(list(cfg.slots.pools), list(cfg.agents),
                                           cfg.run.default_role, cfg.run.default_agent), done)

    def action_pause(self) -> None:
        if self.header.paused:
            self.send("resume", {}, "resume")
        else:
            self.send("pause", {}, "pause")

    def action_stop(self) -> None:
        if self._refuse_read_only():
            return
        running = sum(1 for t in self.tasks.values() if t.state in ACTIVE)
        self._confirm(ConfirmScreen(
            "Stop the run?", f"Ends every agent ({running} running) and the tmux session.",
            verb="stop"), "down", {"keep_agents": False}, "stop the run")

    def action_detach(self) -> None:
        if self.swarm.read_only:
            self.app.exit(0, return_code=0)
        else:
            self.swarm.detach()
