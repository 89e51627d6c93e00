"""Watch a run from the outside: NAT Gateway states, route targets and the execution's steps.

The watcher polls the local AWS the way an operator would poll AWS (describe
calls only), so what it records is what a person would have seen, in order.
The demo prints it; tests assert on its order (NAT Gateway available before
any route targets it, routes gone before the NAT Gateway is deleted).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# Execution history events worth a line, how to say them, and whether they
# come after the NAT Gateway and route changes seen in the same poll (a step
# that starts once routes are in place) or before them (a release).
_HISTORY_LINES: dict[tuple[str, str], tuple[str, bool]] = {
    ("TaskStateEntered", "VerifyEgress"): ("checking egress", True),
    ("TaskStateEntered", "RunWorkload"): ("workload running", True),
    ("TaskStateExited", "RunWorkload"): ("workload finished", False),
    ("TaskStateEntered", "Release"): ("releasing", False),
    ("TaskStateEntered", "ReleaseAfterError"): ("releasing after an error", False),
}


@dataclass(frozen=True)
class Event:
    at: float
    subject: str
    what: str
    detail: str = ""


class Watcher:
    """Polls in a thread until stopped; `events` is the timeline so far."""

    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        tag: tuple[str, str],
        route_table_ids: Sequence[str],
        destinations: Sequence[str],
        interval: float = 0.1,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self._ec2 = client("ec2")
        self._sfn = client("stepfunctions")
        self._tag = tag
        self._tables = list(route_table_ids)
        self._destinations = list(destinations)
        self._interval = interval
        self._on_event = on_event
        self._executions: list[str] = []
        self._seen_history: dict[str, int] = {}
        self._nat_states: dict[str, str] = {}
        self._route_targets: dict[tuple[str, str], str | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.started = time.monotonic()
        self._tick = 0.0
        self.events: list[Event] = []
        self.status: dict[str, str] = {}

    def follow(self, execution_arn: str) -> None:
        self._executions.append(execution_arn)

    def start(self) -> Watcher:
        # NAT Gateways already deleted (earlier runs: AWS lists them for about
        # an hour) are history, not news of this watch.
        for nat in self._describe_nat_gateways():
            if nat["State"] == "deleted":
                self._nat_states[nat["NatGatewayId"]] = "deleted"
        self._poll()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()

    def first_event(self, what: str) -> Event | None:
        return next((e for e in self.events if e.what == what), None)

    def last_event(self, what: str) -> Event | None:
        return next((e for e in reversed(self.events) if e.what == what), None)

    def first_nat(self, state: str) -> Event | None:
        """The first time any NAT Gateway of the instance was seen in `state`."""
        return next(
            (e for e in self.events if e.subject.startswith("nat-") and e.what == state), None
        )

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._poll()

    def _poll(self) -> None:
        # Everything seen in one poll gets the poll's time: the watcher cannot
        # tell which of two changes seen together came first. They are listed
        # in the order a run makes them (NAT Gateway up, routes, NAT Gateway
        # down), and comparisons of their times treat them as simultaneous.
        # A run's steps are placed around them by what they follow, and its
        # end comes last: its release happened before it ended.
        self._tick = round(time.monotonic() - self.started, 1)
        later: list[tuple[str, str]] = []
        for arn in list(self._executions):
            later += self._poll_execution(arn)
        nat_gateways = self._describe_nat_gateways()
        self._poll_nat_gateways(nat_gateways, ("pending", "available", "failed"))
        self._poll_routes()
        self._poll_nat_gateways(nat_gateways, ("deleting", "deleted"))
        for what, detail in later:
            self._record("run", what, detail)

    def _record(self, subject: str, what: str, detail: str = "") -> None:
        event = Event(self._tick, subject, what, detail)
        self.events.append(event)
        if self._on_event is not None:
            self._on_event(event)

    def _describe_nat_gateways(self) -> list[dict[str, Any]]:
        key, value = self._tag
        found = self._ec2.describe_nat_gateways(Filter=[{"Name": f"tag:{key}", "Values": [value]}])
        return list(found["NatGateways"])

    def _poll_nat_gateways(
        self, nat_gateways: list[dict[str, Any]], states: tuple[str, ...]
    ) -> None:
        for nat in nat_gateways:
            nat_id, state = nat["NatGatewayId"], nat["State"]
            previous = self._nat_states.get(nat_id)
            if state not in states or previous == state:
                continue
            if state == "deleted" and previous != "deleting":
                # A NAT Gateway is `deleting` before it is `deleted`; a short
                # deletion (or a slow poll) can pass between two looks.
                self._record(nat_id, "deleting", "(seen first as deleted)")
            self._nat_states[nat_id] = state
            ip = (nat.get("NatGatewayAddresses") or [{}])[0].get("PublicIp")
            detail = f"public IP {ip}" if state == "available" and ip else ""
            if state == "failed":
                detail = f"{nat.get('FailureCode')}: {nat.get('FailureMessage')}"
            self._record(nat_id, state, detail)

    def _poll_routes(self) -> None:
        tables = self._ec2.describe_route_tables(RouteTableIds=self._tables)["RouteTables"]
        for table in tables:
            by_destination = {
                r.get("DestinationCidrBlock"): r
                for r in table["Routes"]
                if "DestinationCidrBlock" in r
            }
            for destination in self._destinations:
                route = by_destination.get(destination)
                target = _target(route) if route else None
                key = (table["RouteTableId"], destination)
                first_look = key not in self._route_targets
                previous = self._route_targets.get(key)
                self._route_targets[key] = target
                if first_look or previous == target:
                    continue
                if target is None:
                    self._record(key[0], "route removed", destination)
                elif previous is None:
                    self._record(key[0], "route added", f"{destination} -> {target}")
                else:
                    self._record(key[0], "route changed", f"{destination} -> {target}")

    def _poll_execution(self, arn: str) -> list[tuple[str, str]]:
        """Record the steps that come before this poll's EC2 changes; return the others."""
        later: list[tuple[str, str]] = []
        history = self._sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        seen = self._seen_history.get(arn, 0)
        for event in history[seen:]:
            name = (
                event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
            ).get("name", "")
            line = _HISTORY_LINES.get((event["type"], name))
            if line and line[1]:
                later.append((line[0], ""))
            elif line:
                self._record("run", line[0])
            if event["type"] in (
                "ExecutionSucceeded",
                "ExecutionFailed",
                "ExecutionAborted",
                "ExecutionTimedOut",
            ):
                status = event["type"].removeprefix("Execution").upper()
                status = {"TIMEDOUT": "TIMED_OUT"}.get(status, status)
                self.status[arn] = status
                details = event.get("executionFailedEventDetails") or {}
                later.append((status, details.get("error", "")))
        self._seen_history[arn] = len(history)
        return later


def _target(route: dict[str, Any]) -> str:
    for key in (
        "NatGatewayId",
        "GatewayId",
        "TransitGatewayId",
        "InstanceId",
        "NetworkInterfaceId",
        "VpcPeeringConnectionId",
    ):
        if route.get(key):
            return f"{route[key]} ({route.get('State', '?')})"
    return "?"
