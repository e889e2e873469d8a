"""SLA date arithmetic: deadlines in working days, in the edition's time zone. Pure functions, explicit ``now``.

A working day is a Monday to Friday that is not a holiday, or a weekend day listed as worked (调休 make-up days).
A ticket that comes in on a working day at 15:00 with 2 working days is due at 15:00 two working days later
(Friday 15:00 → Tuesday 15:00). One that comes in on a day off counts from the start of the next working day
(Saturday → due at the end of Tuesday, i.e. Wednesday 00:00, for 2 days).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DEFAULT_DAYS = {"urgent": 2, "normal": 5}
MAX_DAYS = 60


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # weekend days that are worked

    def is_working(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def parse_days(text: str) -> list[date]:
    """ISO days from free text (one per line, or separated by commas or spaces); ValueError names a bad one."""
    out = []
    for token in text.replace(",", " ").replace("，", " ").split():
        try:
            out.append(date.fromisoformat(token))
        except ValueError:
            raise ValueError(token) from None
    return sorted(set(out))


def calendar(holidays=(), workdays=()) -> Calendar:
    def days(items):
        return frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in items or ())
    return Calendar(days(holidays), days(workdays))


def add_working_days(start: datetime, days: int, zone: str = "UTC", cal: Calendar | None = None) -> datetime:
    """The deadline ``days`` working days after ``start`` (aware), returned in UTC."""
    cal = cal or Calendar()
    tz = ZoneInfo(zone)
    local = start.astimezone(tz)
    day, clock = local.date(), local.time().replace(tzinfo=None)
    if not cal.is_working(day):
        while not cal.is_working(day):
            day += timedelta(days=1)
        clock = time(0, 0)
    left = days
    while left > 0:
        day += timedelta(days=1)
        if cal.is_working(day):
            left -= 1
    return datetime.combine(day, clock, tz).astimezone(timezone.utc)


def working_days_between(start: datetime, end: datetime, zone: str = "UTC", cal: Calendar | None = None) -> float:
    """Working time between two instants, in working days (fractions for partial days). Negative if end < start."""
    if end < start:
        return -working_days_between(end, start, zone, cal)
    cal = cal or Calendar()
    tz = ZoneInfo(zone)
    a, b = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    day = a.date()
    while day <= b.date():
        if cal.is_working(day):
            lo = a if day == a.date() else datetime.combine(day, time(0, 0), tz)
            hi = b if day == b.date() else datetime.combine(day + timedelta(days=1), time(0, 0), tz)
            total += max((hi - lo).total_seconds(), 0) / 86400
        day += timedelta(days=1)
    return total


@dataclass(frozen=True)
class Clock:
    """Where a ticket stands against its deadline at ``now``."""
    due_at: datetime
    remaining: timedelta  # negative when overdue
    done: bool  # resolved or closed: the clock stopped (``met`` tells whether in time)
    met: bool | None

    @property
    def overdue(self) -> bool:
        return not self.done and self.remaining < timedelta(0)

    @property
    def level(self) -> str:
        """A Bootstrap colour: danger overdue, warning under a day left, success otherwise."""
        if self.done:
            return "success" if self.met else "secondary"
        if self.remaining < timedelta(0):
            return "danger"
        return "warning" if self.remaining < timedelta(days=1) else "success"


def clock(due_at: datetime, now: datetime, resolved_at: datetime | None = None) -> Clock:
    if resolved_at is not None:
        return Clock(due_at, due_at - resolved_at, True, resolved_at <= due_at)
    return Clock(due_at, due_at - now, False, None)


def humanize(delta: timedelta) -> tuple[int, int, int]:
    """(days, hours, minutes) of an absolute duration."""
    seconds = int(abs(delta).total_seconds())
    return seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60


def median(values: list[float]) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
