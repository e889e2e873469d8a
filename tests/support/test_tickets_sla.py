"""SLA date arithmetic (expo.support.sla): deadlines in working days in the edition's zone, with frozen time."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from expo.support import sla

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0, zone=SH):
    return datetime(y, m, d, hh, mm, tzinfo=zone)


def test_urgent_two_working_days_within_the_week():
    # Monday 2026-11-30 10:00 Shanghai → Wednesday 10:00
    assert sla.add_working_days(at(2026, 11, 30, 10), 2, "Asia/Shanghai") == at(2026, 12, 2, 10)


def test_friday_afternoon_crosses_the_weekend():
    # Friday 2026-12-04 15:00 + 2 → Tuesday 15:00; + 5 → next Friday 15:00
    assert sla.add_working_days(at(2026, 12, 4, 15), 2, "Asia/Shanghai") == at(2026, 12, 8, 15)
    assert sla.add_working_days(at(2026, 12, 4, 15), 5, "Asia/Shanghai") == at(2026, 12, 11, 15)


def test_a_ticket_on_a_saturday_counts_from_monday():
    # Saturday 10:00: two full working days Monday and Tuesday: due Wednesday 00:00 (the end of Tuesday)
    assert sla.add_working_days(at(2026, 12, 5, 10), 2, "Asia/Shanghai") == at(2026, 12, 9, 0)


def test_holidays_are_skipped_and_make_up_days_worked():
    # National Day week: 2026-10-01..07 off, Saturday 2026-10-10 worked (调休)
    cal = sla.calendar([f"2026-10-0{d}" for d in range(1, 8)], ["2026-10-10"])
    # Wednesday 2026-09-30 09:00 + 2: Thursday 10-08, Friday 10-09
    assert sla.add_working_days(at(2026, 9, 30, 9), 2, "Asia/Shanghai", cal) == at(2026, 10, 9, 9)
    # + 3: Saturday 10-10 is worked
    assert sla.add_working_days(at(2026, 9, 30, 9), 3, "Asia/Shanghai", cal) == at(2026, 10, 10, 9)
    # without the make-up day: Monday 10-12
    cal2 = sla.calendar([f"2026-10-0{d}" for d in range(1, 8)])
    assert sla.add_working_days(at(2026, 9, 30, 9), 3, "Asia/Shanghai", cal2) == at(2026, 10, 12, 9)


def test_the_deadline_is_counted_in_the_editions_zone_and_returned_in_utc():
    # Friday 23:30 in Shanghai is Friday 15:30 UTC; in UTC it is still Friday, but a UTC Saturday 01:00 is a
    # Saturday in UTC and a Saturday in Shanghai too: only the local day matters.
    start = datetime(2026, 12, 4, 15, 30, tzinfo=timezone.utc)  # Fri 23:30 Shanghai
    due = sla.add_working_days(start, 1, "Asia/Shanghai")
    assert due.tzinfo == timezone.utc
    assert due.astimezone(SH) == at(2026, 12, 7, 23, 30)
    # Sunday 2026-12-06 20:00 UTC is Monday 04:00 in Shanghai: a working day already
    assert sla.add_working_days(datetime(2026, 12, 6, 20, tzinfo=timezone.utc), 1, "Asia/Shanghai") == \
        at(2026, 12, 8, 4)
    # ...but in New York it is Sunday 15:00: counted from Monday 00:00 local
    ny = ZoneInfo("America/New_York")
    assert sla.add_working_days(datetime(2026, 12, 6, 20, tzinfo=timezone.utc), 1, "America/New_York") == \
        datetime(2026, 12, 8, 0, 0, tzinfo=ny)


@pytest.mark.parametrize("days", [1, 2, 5, 10, 20])
def test_configurable_days_land_on_a_working_day(days):
    due = sla.add_working_days(at(2026, 12, 3, 11), days, "Asia/Shanghai")
    assert due.astimezone(SH).weekday() < 5
    assert round(sla.working_days_between(at(2026, 12, 3, 11), due, "Asia/Shanghai"), 6) == days


def test_clock_time_left_overdue_and_stopped():
    due = at(2026, 12, 8, 15).astimezone(timezone.utc)
    left = sla.clock(due, at(2026, 12, 8, 3))
    assert not left.overdue and left.remaining == timedelta(hours=12) and left.level == "warning"
    late = sla.clock(due, at(2026, 12, 9, 15))
    assert late.overdue and late.level == "danger" and sla.humanize(late.remaining) == (1, 0, 0)
    done = sla.clock(due, at(2026, 12, 20), resolved_at=at(2026, 12, 7))
    assert done.done and done.met and not done.overdue
    assert sla.clock(due, at(2026, 12, 20), resolved_at=at(2026, 12, 10)).met is False


def test_parse_days_and_median():
    assert sla.parse_days("2026-10-01, 2026-10-02\n2026-10-01") == [date(2026, 10, 1), date(2026, 10, 2)]
    with pytest.raises(ValueError):
        sla.parse_days("2026-13-01")
    assert sla.median([3, 1, 2]) == 2 and sla.median([1, 2, 3, 4]) == 2.5 and sla.median([]) is None
