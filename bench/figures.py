"""The bench's arithmetic, apart from any AWS: summaries, bills, transitions, timelines.

Everything here is a pure function of what the bench recorded, so that the
suite can test it (tests/unit/test_bench_figures.py) without running a bench.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# Public prices, us-east-1 (DESIGN.md, "Facts to design with").
USD_PER_TRANSITION = 0.025 / 1000
USD_PER_GB_SECOND = 0.0000166667
USD_PER_REQUEST = 0.20 / 1_000_000


@dataclass(frozen=True)
class Summary:
    """Median, min and max of one figure over several runs."""

    median: float
    low: float
    high: float
    runs: int

    def as_dict(self) -> dict[str, float | int]:
        return {"median": self.median, "min": self.low, "max": self.high, "runs": self.runs}


def summarise(values: Iterable[float | None]) -> Summary | None:
    """Median/min/max of the values that exist; None when there are none."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return Summary(statistics.median(present), min(present), max(present), len(present))


def gb_seconds(billed: int, memory_mb: int) -> float:
    return billed / 1000 * memory_mb / 1024


_REPORT_FIELD = re.compile(r"(?P<key>[A-Za-z ]+): (?P<value>[0-9.]+)(?: ms| MB)?")


def parse_report_line(line: str) -> dict[str, float]:
    """The figures of a Lambda REPORT log line, keyed by their label.

    "REPORT RequestId: r\tDuration: 1.50 ms\tBilled Duration: 2 ms\t..." gives
    {"Duration": 1.5, "Billed Duration": 2.0, ...}; RequestId is skipped.
    """
    if not line.startswith("REPORT "):
        raise ValueError(f"not a REPORT line: {line[:40]!r}")
    figures: dict[str, float] = {}
    for part in line.removeprefix("REPORT ").split("\t"):
        match = _REPORT_FIELD.fullmatch(part.strip())
        if match:
            figures[match["key"].strip()] = float(match["value"])
    return figures


def state_transitions(history: Sequence[Mapping[str, Any]]) -> int:
    """State transitions Step Functions bills for one execution, from its history.

    One per state entered, plus one per retry of a task (a retry schedules the
    task again without entering the state again).
    """
    entered = sum(1 for event in history if str(event["type"]).endswith("StateEntered"))
    tasks_entered = sum(1 for event in history if event["type"] == "TaskStateEntered")
    scheduled = sum(
        1 for event in history if event["type"] in ("TaskScheduled", "LambdaFunctionScheduled")
    )
    return entered + max(0, scheduled - tasks_entered)


def compact_history(history: Sequence[Mapping[str, Any]]) -> list[tuple[float, str, str]]:
    """(seconds since the first event, type, state name) for each history event."""
    if not history:
        return []
    first = history[0]["timestamp"].timestamp()
    compact = []
    for event in history:
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
        name = str(details.get("name", "")) if details else ""
        compact.append((round(event["timestamp"].timestamp() - first, 3), str(event["type"]), name))
    return compact


def state_event_time(
    history: Sequence[Mapping[str, Any]], event_type: str, state: str
) -> float | None:
    """Epoch seconds of the first `event_type` (e.g. TaskStateExited) of `state`."""
    for event in history:
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
        if event["type"] == event_type and details and details.get("name") == state:
            return float(event["timestamp"].timestamp())
    return None


@dataclass(frozen=True)
class Observation:
    """What a watcher saw, stamped with the epoch seconds it saw it.

    `subject` is a NAT Gateway id or a route table id; `what` a NAT Gateway
    state or "route added" / "route changed" / "route removed"; for routes,
    `target` is the NAT Gateway id the route then pointed to (None if removed
    or not a NAT Gateway) and `active` whether it carried traffic.
    """

    at: float
    subject: str
    what: str
    target: str | None = None
    active: bool = False


_ROUTE_TARGET = re.compile(r"-> (?P<target>\S+) \((?P<state>[a-z]+)\)$")


def observation(at: float, subject: str, what: str, detail: str) -> Observation:
    """An Observation from a timeline.Watcher event (route detail "CIDR -> target (state)")."""
    match = _ROUTE_TARGET.search(detail) if what in ("route added", "route changed") else None
    if match is None:
        return Observation(at, subject, what)
    target = match["target"] if match["target"].startswith("nat-") else None
    return Observation(at, subject, what, target, match["state"] == "active")


def nat_state_time(
    observations: Iterable[Observation], nat_gateway_id: str, state: str
) -> float | None:
    """When `nat_gateway_id` was first seen in `state`."""
    return next(
        (o.at for o in observations if o.subject == nat_gateway_id and o.what == state), None
    )


def routes_in_place_time(
    observations: Sequence[Observation],
    route_table_ids: Sequence[str],
    nat_gateway_id: str,
    since: float,
) -> float | None:
    """The first moment at or after `since` when every table routed to the NAT Gateway.

    A route already in place before `since` counts from `since`.
    """
    targets: dict[str, bool] = {}
    routed = set(route_table_ids)
    for observation in sorted(observations, key=lambda o: o.at):
        if observation.subject not in routed or not observation.what.startswith("route"):
            continue
        targets[observation.subject] = observation.target == nat_gateway_id and observation.active
        if all(targets.get(table, False) for table in route_table_ids):
            return max(observation.at, since)
    return None


class Call(Protocol):
    """An API call as emulator.api_calls records it."""

    @property
    def service(self) -> str: ...

    @property
    def action(self) -> str: ...

    @property
    def wall(self) -> float: ...


def first_call_time(calls: Iterable[Call], service: str, actions: Sequence[str]) -> float | None:
    """Epoch seconds of the first call of one of `actions`; None if there was none."""
    times = [c.wall for c in calls if c.service == service and c.action in actions]
    return min(times) if times else None


def last_call_time(calls: Iterable[Call], service: str, actions: Sequence[str]) -> float | None:
    """Epoch seconds of the last call of one of `actions`; None if there was none."""
    times = [c.wall for c in calls if c.service == service and c.action in actions]
    return max(times) if times else None


def interval(start: float | None, end: float | None) -> float | None:
    """Seconds from start to end, None if either is unknown."""
    return None if start is None or end is None else end - start


def run_cost_usd(transitions: int, invocations: int, gb_s: float) -> float:
    """Step Functions and Lambda charges of one run (NAT Gateway hours not included)."""
    return (
        transitions * USD_PER_TRANSITION + invocations * USD_PER_REQUEST + gb_s * USD_PER_GB_SECOND
    )
