"""Opening hours and ready times in the store's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.events import from_micros, to_micros
from inventory.hours import (
    HoursError,
    WeeklyHours,
    open_intervals,
    ready_after,
    ready_by,
    zone,
)
from tests.conftest import at

SHOP = WeeklyHours.parse(
    {d: [["09:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
)
BERLIN = zone("Europe/Berlin")
NEW_YORK = zone("America/New_York")


def local(instant: int | None, tz=BERLIN) -> str:
    assert instant is not None
    return from_micros(instant).astimezone(tz).strftime("%a %Y-%m-%d %H:%M")


def test_within_opening_hours_ready_after_handling() -> None:
    # Tuesday 2026-06-02 10:00 in Berlin is 08:00Z
    assert (
        local(ready_after(SHOP, BERLIN, at("2026-06-02T08:00:00Z"), 60)) == "Tue 2026-06-02 11:00"
    )


def test_asked_at_21_55_is_ready_next_morning_after_handling() -> None:
    # Tuesday 21:55 Berlin: closed; handling starts at 09:00 Wednesday
    ready = ready_after(SHOP, BERLIN, at("2026-06-02T19:55:00Z"), 60)
    assert local(ready) == "Wed 2026-06-03 10:00"


def test_closed_on_sunday_saturday_evening_order_is_ready_monday() -> None:
    ready = ready_after(SHOP, BERLIN, at("2026-06-06T19:55:00Z"), 60)  # Sat 21:55
    assert local(ready) == "Mon 2026-06-08 10:00"
    ready = ready_after(SHOP, BERLIN, at("2026-06-07T10:00:00Z"), 30)  # Sunday noon
    assert local(ready) == "Mon 2026-06-08 09:30"


def test_handling_that_spans_closing_goes_on_next_opening() -> None:
    # 19:30 + 60 minutes: 30 today, 30 tomorrow from 09:00
    assert (
        local(ready_after(SHOP, BERLIN, at("2026-06-02T17:30:00Z"), 60)) == "Wed 2026-06-03 09:30"
    )
    # finishing exactly at closing time: collectable at the next opening
    assert (
        local(ready_after(SHOP, BERLIN, at("2026-06-02T17:00:00Z"), 60)) == "Wed 2026-06-03 09:00"
    )


def test_the_store_time_zone_decides() -> None:
    now = at("2026-06-02T12:00:00Z")  # 14:00 Berlin, 08:00 New York (before opening)
    assert local(ready_after(SHOP, BERLIN, now, 30)) == "Tue 2026-06-02 14:30"
    assert local(ready_after(SHOP, NEW_YORK, now, 30), NEW_YORK) == "Tue 2026-06-02 09:30"


def test_daylight_saving_night_is_an_hour_shorter() -> None:
    night = WeeklyHours.parse({"sun": [["01:00", "05:00"]], "mon": [["09:00", "10:00"]]})
    # 2026-03-29: clocks go 02:00 -> 03:00 in Berlin; 01:00-05:00 is three real hours
    start = to_micros(datetime(2026, 3, 29, 0, 0, tzinfo=UTC))  # 01:00 CET
    assert local(ready_after(night, BERLIN, start, 179)) == "Sun 2026-03-29 04:59"
    assert local(ready_after(night, BERLIN, start, 200)) == "Mon 2026-03-30 09:20"


def test_full_pickup_capacity_moves_to_the_next_open_day() -> None:
    now = at("2026-06-06T08:00:00Z")  # Saturday 10:00
    full = {date(2026, 6, 6): 40, date(2026, 6, 8): 40}
    ready = ready_by(SHOP, BERLIN, now, 60, 40, lambda day: full.get(day, 0))
    assert ready is not None
    assert local(ready[0]) == "Tue 2026-06-09 09:00"
    assert ready[1] == date(2026, 6, 9)
    free = ready_by(SHOP, BERLIN, now, 60, 40, lambda day: 0)
    assert free is not None and local(free[0]) == "Sat 2026-06-06 11:00"
    assert ready_by(SHOP, BERLIN, now, 60, 0, lambda day: 0) is None  # never any capacity


def test_no_hours_means_always_open_and_empty_means_never() -> None:
    always = WeeklyHours.parse(None)
    now = at("2026-06-07T03:00:00Z")
    assert ready_after(always, BERLIN, now, 15) == now + 15 * 60_000_000
    assert ready_after(WeeklyHours.parse({}), BERLIN, now, 15) is None


@pytest.mark.parametrize(
    ("hours", "reason"),
    [
        ({"monday": [["09:00", "18:00"]]}, "unknown weekday 'monday'"),
        ({"mon": [["9:00", "18:00"]]}, "mon: '9:00' is not a time of day"),
        ({"mon": [["09:00", "24:30"]]}, "mon: '24:30' is not a time of day"),
        ({"mon": [["18:00", "09:00"]]}, "mon: 18:00 is not before 09:00"),
        ({"tue": [["09:00", "13:00"], ["12:00", "18:00"]]}, "tue: intervals overlap"),
        ({"wed": "09:00-18:00"}, "wed: expected a list"),
        ({"thu": [["09:00"]]}, "thu: each interval is a pair"),
    ],
)
def test_bad_hours_name_the_day_and_reason(hours: dict, reason: str) -> None:
    with pytest.raises(HoursError, match=reason):
        WeeklyHours.parse(hours)


def test_hours_round_trip_and_unknown_zone() -> None:
    raw = {"mon": [["09:00", "12:00"], ["13:00", "24:00"]], "sat": [["10:00", "14:00"]]}
    assert WeeklyHours.parse(raw).as_dict() == raw
    with pytest.raises(HoursError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")


day_hours = st.lists(st.tuples(st.integers(0, 23 * 60), st.integers(1, 120)), max_size=3).map(
    lambda xs: sorted({(s, min(s + d, 24 * 60)) for s, d in xs})
)


@settings(max_examples=150, deadline=None)
@given(
    week=st.lists(day_hours, min_size=7, max_size=7),
    start=st.integers(at("2026-01-01T00:00:00Z"), at("2026-12-31T00:00:00Z")),
    handling=st.integers(0, 600),
    tz=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
)
def test_ready_is_inside_opening_hours_and_not_before_handling(week, start, handling, tz) -> None:
    raw = {}
    for name, intervals in zip(
        ("mon", "tue", "wed", "thu", "fri", "sat", "sun"), week, strict=True
    ):
        kept: list[tuple[int, int]] = []
        for s, e in intervals:  # drop overlaps: the property is about valid hours
            if not kept or s >= kept[-1][1]:
                kept.append((s, e))
        raw[name] = [
            [f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}"] for s, e in kept
        ]
    hours = WeeklyHours.parse(raw)
    zone_info = zone(tz)
    ready = ready_after(hours, zone_info, start, handling)
    if ready is None:
        return
    assert ready >= start + handling * 60_000_000
    inside = [b <= ready < e for b, e in open_intervals(hours, zone_info, start)]
    assert any(inside)
    # the open time between start and ready is exactly the handling time
    worked = sum(
        max(0, min(e, ready) - max(b, start)) for b, e in open_intervals(hours, zone_info, start)
    )
    assert worked == handling * 60_000_000
