"""When a cron schedule runs, computed the way Airflow's ``CronTriggerTimetable`` computes it.

The schedule form shows these times, so they must be the ones Airflow fires, DST nights
included. Airflow asks ``croniter`` for the next tick of the naive wall time in the job's
zone, then places that wall time in the zone (``make_aware``): an ambiguous time (clocks go
back) is its *second* occurrence, a time that does not exist (clocks go forward) moves on by
the gap. A schedule that fires every hour instead advances by elapsed time, so the repeated
hour of a fall-back night runs twice and the skipped one never. Each step below mirrors one
method of ``airflow.timetables._cron.CronMixin`` and ``_TriggerTimetable.next_dagrun_info``;
``tests/test_jobs_preview.py`` holds it to the golden file made by real Airflow.

Only the standard library and ``croniter`` (Airflow's own cron library): no pendulum, no
Airflow, so a user's server computes it without an Airflow install.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from croniter import croniter

from ..contract import CRON_PRESETS

UTC = dt.timezone.utc

#: How many missed runs :func:`preview` counts before it stops counting.
MAX_COUNTED = 1000


@dataclass(frozen=True)
class Run:
    """One scheduled run: its instant and, when a DST change moved it, how."""

    at: dt.datetime  # aware, UTC
    #: ``"repeated"``: the wall time happens twice that night and this is the second one;
    #: ``"skipped"``: the wall time does not exist that night, so the run is later by the gap.
    dst: str = ""

    def to_json(self, zone: dt.tzinfo) -> dict:
        out = {"utc": iso_utc(self.at), "local": self.at.astimezone(zone).isoformat()}
        if self.dst:
            out["dst"] = self.dst
        return out


def iso_utc(instant: dt.datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def zone_of(name: str) -> dt.tzinfo:
    return UTC if name == "UTC" else zoneinfo.ZoneInfo(name)


def make_aware(naive: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Airflow's ``make_aware`` (with pendulum's ``convert``): the second occurrence of an
    ambiguous wall time; a wall time in a gap moved forward by the gap."""
    value = naive.replace(fold=1)
    before = zone.utcoffset(value.replace(fold=0))
    after = zone.utcoffset(value)
    if after > before:
        value = value + (after - before)  # the sum has fold=0, as in pendulum
    return value.replace(tzinfo=zone)


def make_naive(instant: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


class CronSchedule:
    """One 5-field cron (or preset) in one zone, stepping as Airflow does."""

    def __init__(self, cron: str, timezone: str):
        self.cron = CRON_PRESETS.get(cron.strip(), cron.strip())
        self.zone = zone_of(timezone)
        # Airflow's _covers_every_hour: croniter normalises an every-hour field to "*".
        self._every_hour = croniter(self.cron).expanded[1] == ["*"]

    def _step(self, current: dt.datetime, forward: bool) -> Run:
        naive = make_naive(current, self.zone)
        it = croniter(self.cron, start_time=naive)
        scheduled = it.get_next(dt.datetime) if forward else it.get_prev(dt.datetime)
        if self._every_hour:
            at = (current + (scheduled - naive)).astimezone(UTC)
        else:
            at = make_aware(scheduled, self.zone).astimezone(UTC)
        return Run(at, self._dst(scheduled, at))

    def _dst(self, wall: dt.datetime, at: dt.datetime) -> str:
        local = make_naive(at, self.zone)
        # An every-hour schedule steps by elapsed time: a wall time it lands on is never moved.
        if local != wall and not self._every_hour:
            return "skipped"
        fold0 = local.replace(fold=0, tzinfo=self.zone).utcoffset()
        if fold0 != local.replace(fold=1, tzinfo=self.zone).utcoffset():
            return "repeated"
        return ""

    def next_after(self, current: dt.datetime) -> Run:
        """``CronMixin._get_next``: the first run after ``current``."""
        return self._step(current, True)

    def prev_before(self, current: dt.datetime) -> Run:
        """``CronMixin._get_prev``: the last run before ``current``."""
        return self._step(current, False)

    def align_to_next(self, current: dt.datetime) -> Run:
        """``CronMixin._align_to_next``: ``current`` if it is a run, else the next one."""
        run = self.next_after(current)
        if self.prev_before(run.at).at != current:
            return run
        return Run(current.astimezone(UTC), self._dst(make_naive(current, self.zone), current))

    def align_to_prev(self, current: dt.datetime) -> Run:
        """``CronMixin._align_to_prev``: ``current`` if it is a run, else the previous one."""
        run = self.prev_before(current)
        if self.next_after(run.at).at != current:
            return run
        return Run(current.astimezone(UTC), self._dst(make_naive(current, self.zone), current))

    def runs_from(self, first: Run, count: int) -> list[Run]:
        """``first`` and the runs after it, ``count`` in all."""
        runs = [first]
        while len(runs) < count:
            runs.append(self.next_after(runs[-1].at))
        return runs


def start_instant(start_date: str, timezone: str) -> dt.datetime:
    """The spec's ``start_date`` (a wall time in ``timezone``) as Airflow's factory reads it
    (``pendulum.parse(text, tz=...)``, which places it like :func:`make_aware`)."""
    wall = dt.datetime.fromisoformat(start_date)
    if wall.tzinfo is not None:
        return wall.astimezone(UTC)
    return make_aware(wall, zone_of(timezone)).astimezone(UTC)


def preview(schedule: dict, now: dt.datetime, count: int = 5) -> dict:
    """What the form shows about a valid cron ``schedule`` (the spec's ``schedule`` object).

    ``next_runs``: the first ``count`` runs at or after ``max(now, start_date)``.
    ``at_once``: the runs Airflow starts as soon as it first picks up the job, because their
    time has passed: with catch-up, every run since the start date; without, the most recent
    one (Airflow 3's ``CronTriggerTimetable`` starts that one at once). ``None`` when none.
    """
    sched = CronSchedule(schedule["cron"], schedule["timezone"])
    earliest = start_instant(schedule["start_date"], schedule["timezone"])
    now = now.astimezone(UTC)
    next_runs = sched.runs_from(sched.align_to_next(max(now, earliest)), count)

    at_once = None
    first = sched.align_to_next(earliest)
    if first.at < now:
        if schedule.get("catchup", False):
            missed, run = 0, first
            while run.at < now and missed < MAX_COUNTED:
                missed += 1
                run = sched.next_after(run.at)
            at_once = {
                "count": missed,
                "capped": run.at < now,
                "first": first.to_json(sched.zone),
            }
        else:
            # next_dagrun_info without catch-up: max(align_to_prev(now), align_to_next(start)).
            latest = sched.align_to_prev(now)
            if latest.at < now:
                at_once = {"count": 1, "capped": False, "first": latest.to_json(sched.zone)}
    return {
        "cron": sched.cron,
        "timezone": schedule["timezone"],
        "start": {
            "utc": iso_utc(earliest),
            "local": earliest.astimezone(sched.zone).isoformat(),
        },
        "next_runs": [r.to_json(sched.zone) for r in next_runs],
        "at_once": at_once,
    }


def next_run(spec: dict, now: dt.datetime | None = None) -> str | None:
    """The next run of a stored job (UTC ISO), for the Jobs panel; ``None`` for a manual or
    paused job, or a schedule this server cannot read (its tz database lacks the zone)."""
    sched = spec.get("schedule") or {}
    if sched.get("type") != "cron" or spec.get("paused"):
        return None
    try:
        found = preview(sched, now or dt.datetime.now(UTC), count=1)
    except (ValueError, KeyError, TypeError, OverflowError, zoneinfo.ZoneInfoNotFoundError):
        return None
    return found["next_runs"][0]["utc"]
