"""The cost of parallelism: what a run spent, wasted and bought, from its event log (pure).

``build_report(events, config)`` turns the events of one run and the run's own config into a
``Report`` of figures: per task its attempts (when, how each ended, tokens and cost, time from
first spawn to merge), and for the run the cost per merged task, the waste (every attempt that
failed, was killed, lost or discarded), spend by role and model, retries and failures by
cause, slots in use (peak and mean), wall time against the sum of agent time, and reviews.

Renderers, all pure: ``report_text`` (the CLI), ``report_json`` (stable keys, listed in
``swarmtui.report.render``), ``report_html`` (one self-contained page), ``timeline_svg`` and
``terminal_timeline`` (lines of ``(text, style)`` segments for a given width).

``swarmtui.report.plan`` answers the same question before a run, from a task file.
"""

from __future__ import annotations

from swarmtui.report.collect import build_report
from swarmtui.report.figures import (
    AttemptFigures,
    CauseClass,
    Merge,
    Outcome,
    Report,
    Reviews,
    SlotUse,
    Spend,
    TaskFigures,
    Usage,
    classify,
)
from swarmtui.report.html import report_html
from swarmtui.report.lanes import assign_lanes
from swarmtui.report.render import report_json, report_text
from swarmtui.report.svg import timeline_svg
from swarmtui.report.timeline import Line, Segment, plain, terminal_timeline

__all__ = [
    "AttemptFigures", "CauseClass", "Line", "Merge", "Outcome", "Report", "Reviews", "Segment",
    "SlotUse", "Spend", "TaskFigures", "Usage", "assign_lanes", "build_report", "classify",
    "plain", "report_html", "report_json", "report_text", "terminal_timeline", "timeline_svg",
]
