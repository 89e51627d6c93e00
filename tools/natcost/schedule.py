"""When runs start over a month: N a day, an EventBridge Scheduler rate() or cron()."""

from __future__ import annotations

import re

SECONDS_PER_DAY = 86_400
_UNITS = {"minute": 60, "hour": 3_600, "day": SECONDS_PER_DAY}
_DAYS_OF_WEEK = {
    name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)
}
# Day 0 of the month is taken to be a Monday (AWS numbers days of week 1 = SUN).
_FIRST_DAY_OF_WEEK = 2


class ScheduleError(ValueError):
    """A schedule the estimator cannot read."""


def evenly(runs_per_day: float, days: float) -> tuple[float, ...]:
    """Start times of `runs_per_day` runs a day, evenly spaced from the month's start."""
    if runs_per_day <= 0:
        raise ScheduleError("runs per day must be more than 0")
    return _every(SECONDS_PER_DAY / runs_per_day, days)


def parse(expression: str, days: float) -> tuple[float, ...]:
    """Start times, in seconds from the month's start, of `rate(...)` or `cron(...)`."""
    text = expression.strip()
    rate = re.fullmatch(r"rate\(\s*(\d+)\s+(minute|hour|day)s?\s*\)", text)
    if rate:
        value = int(rate.group(1))
        if value < 1:
            raise ScheduleError(f"{expression!r}: a rate must be at least 1")
        return _every(value * _UNITS[rate.group(2)], days)
    cron = re.fullmatch(r"cron\((.*)\)", text)
    if cron:
        return _cron(cron.group(1).split(), days, expression)
    raise ScheduleError(f"{expression!r}: expected rate(N minutes|hours|days) or cron(...)")


def _every(interval: float, days: float) -> tuple[float, ...]:
    end = days * SECONDS_PER_DAY
    count = int(end // interval) + (1 if end % interval else 0)
    return tuple(index * interval for index in range(count))


def _cron(parts: list[str], days: float, expression: str) -> tuple[float, ...]:
    if len(parts) != 6:
        raise ScheduleError(f"{expression!r}: cron() takes 6 fields: min hour dom month dow year")
    minute, hour, day_of_month, month, day_of_week, year = parts
    for name, field in (("day-of-month", day_of_month), ("month", month), ("year", year)):
        if field not in ("*", "?"):
            raise ScheduleError(f"{expression!r}: only * or ? is supported for {name}")
    minutes = _field(minute, 0, 59, expression)
    hours = _field(hour, 0, 23, expression)
    weekdays = _field(day_of_week.upper(), 1, 7, expression, names=_DAYS_OF_WEEK)
    end = days * SECONDS_PER_DAY
    starts = [
        day * SECONDS_PER_DAY + h * 3_600 + m * 60
        for day in range(int(days) + 1)
        if (day + _FIRST_DAY_OF_WEEK - 1) % 7 + 1 in weekdays
        for h in hours
        for m in minutes
    ]
    return tuple(start for start in starts if start < end)


def _field(
    text: str, low: int, high: int, expression: str, names: dict[str, int] | None = None
) -> list[int]:
    """The values of one cron field: *, ?, n, a-b, a,b and /step forms."""
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = _number(step_text, names, expression) if step_text else 1
        if base in ("*", "?"):
            first, last = low, high
        elif "-" in base:
            first_text, last_text = base.split("-", 1)
            first = _number(first_text, names, expression)
            last = _number(last_text, names, expression)
        else:
            first = _number(base, names, expression)
            last = high if step_text else first
        if not low <= first <= last <= high or step < 1:
            raise ScheduleError(f"{expression!r}: {part!r} is outside {low}-{high}")
        values.update(range(first, last + 1, step))
    return sorted(values)


def _number(text: str, names: dict[str, int] | None, expression: str) -> int:
    if names and text in names:
        return names[text]
    if not text.isdigit():
        raise ScheduleError(f"{expression!r}: cannot read {text!r} (L, W and # are not supported)")
    return int(text)
