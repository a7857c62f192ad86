"""Weekly opening hours and the moment a pickup is ready, in the store's own time zone.

Handling is staff time: it is worked while the store is open, so an order placed after closing
is picked the next opening day.  A pickup is ready at the instant its handling completes, and
only inside an opening interval (one finishing exactly at closing time is ready at the next
opening).  A store whose pickups for that local day are used up is ready on its next open day.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from inventory.events import from_micros, to_micros

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HORIZON_DAYS = 15  # how far ahead a store is searched for an opening
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
MINUTE = 60_000_000

Interval = tuple[int, int]  # minutes since local midnight, [start, end)


class HoursError(ValueError):
    """Opening hours that cannot be read; the message names the day and the reason."""


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Open intervals per weekday (Monday first); `None` means open around the clock."""

    days: tuple[tuple[Interval, ...], ...] | None

    @classmethod
    def parse(cls, value: Mapping[str, object] | None) -> WeeklyHours:
        """From {"mon": [["09:00", "20:00"]], ...}; a day left out is closed."""
        if value is None:
            return cls(None)
        if not isinstance(value, Mapping):
            raise HoursError("opening_hours must be an object of weekday -> [[open, close], ...]")
        unknown = sorted(set(value) - set(DAYS))
        if unknown:
            raise HoursError(f"unknown weekday {unknown[0]!r}; use one of {', '.join(DAYS)}")
        return cls(tuple(_parse_day(day, value.get(day) or []) for day in DAYS))

    def as_dict(self) -> dict[str, list[list[str]]] | None:
        if self.days is None:
            return None
        return {
            day: [[_clock(start), _clock(end)] for start, end in intervals]
            for day, intervals in zip(DAYS, self.days, strict=True)
            if intervals
        }

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        if self.days is None:
            return ((0, 24 * 60),)
        return self.days[day.weekday()]


def _parse_day(day: str, raw: object) -> tuple[Interval, ...]:
    if not isinstance(raw, list):
        raise HoursError(f"{day}: expected a list of [open, close] pairs")
    intervals = []
    for pair in raw:
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise HoursError(f"{day}: each interval is a pair [open, close], got {pair!r}")
        start, end = (_minutes(day, text) for text in pair)
        if start >= end:
            raise HoursError(f"{day}: {pair[0]} is not before {pair[1]} (split overnight hours)")
        intervals.append((start, end))
    intervals.sort()
    for (_, end), (start, _) in itertools.pairwise(intervals):
        if start < end:
            raise HoursError(f"{day}: intervals overlap")
    return tuple(intervals)


def _minutes(day: str, text: object) -> int:
    match = _CLOCK.match(text) if isinstance(text, str) else None
    if not match or (match.group(1) == "24" and match.group(2) != "00"):
        raise HoursError(f"{day}: {text!r} is not a time of day HH:MM (00:00 to 24:00)")
    return int(match.group(1)) * 60 + int(match.group(2))


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def zone(name: str) -> ZoneInfo:
    """The IANA time zone, or a clear error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)"
        ) from None


def local_date(instant: int, tz: ZoneInfo) -> date:
    return from_micros(instant).astimezone(tz).date()


def open_intervals(hours: WeeklyHours, tz: ZoneInfo, since: int) -> Iterator[tuple[int, int]]:
    """Open intervals as UTC microseconds, in order, that end after `since`."""
    first = local_date(since, tz) - timedelta(days=1)
    for offset in range(HORIZON_DAYS + 1):
        day = first + timedelta(days=offset)
        for start, end in hours.intervals_on(day):
            begin, finish = _instant(day, start, tz), _instant(day, end, tz)
            if finish > since and finish > begin:
                yield begin, finish


def _instant(day: date, minutes: int, tz: ZoneInfo) -> int:
    if minutes >= 24 * 60:
        day, minutes = day + timedelta(days=1), minutes - 24 * 60
        moment = datetime.combine(day, time(0, 0), tzinfo=tz)
    else:
        moment = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
    return to_micros(moment.astimezone(UTC))


def ready_after(hours: WeeklyHours, tz: ZoneInfo, now: int, handling_minutes: int) -> int | None:
    """When handling that starts at `now` is done, counting only opening time; None if never
    within the horizon."""
    remaining = max(0, handling_minutes) * MINUTE
    for begin, finish in open_intervals(hours, tz, now):
        start = max(begin, now)
        if remaining < finish - start:
            return start + remaining
        remaining -= finish - start
    return None


def next_open_day(hours: WeeklyHours, tz: ZoneInfo, after: date) -> int | None:
    """The first opening instant on a local day later than `after`."""
    since = _instant(after + timedelta(days=1), 0, tz)
    for begin, _ in open_intervals(hours, tz, since):
        if begin >= since:
            return begin
    return None


def ready_by(
    hours: WeeklyHours,
    tz: ZoneInfo,
    now: int,
    handling_minutes: int,
    capacity: int | None,
    booked: Callable[[date], int],
) -> tuple[int, date] | None:
    """Ready instant and local pickup day, skipping days whose pickup capacity is used up."""
    ready = ready_after(hours, tz, now, handling_minutes)
    horizon = now + HORIZON_DAYS * 86_400_000_000
    while ready is not None and ready <= horizon:
        day = local_date(ready, tz)
        if capacity is None or booked(day) < capacity:
            return ready, day
        ready = next_open_day(hours, tz, day)
    return None
