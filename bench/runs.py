"""Real runs of each design on the local AWS, measured as an operator would see them.

For each design the bench starts a run, waits for it to end, starts a second
run at once, waits for that one, then waits until the design holds nothing
(no NAT Gateway pending, available or deleting, no route). It repeats that
pair several times. While it does, a timeline.Watcher polls the NAT Gateways
and route tables every 0.1 s and stamps what it sees with the wall clock.

Per run: the Lambda invocations of the design's functions (the shared workload
left out) with their billed time from the emulator's REPORT figures, the state
transitions from the execution history, the EC2 and DynamoDB calls the
design's Lambda functions made, and the timings from the watcher's timeline
and the history's timestamps.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import figures
from emulator import lambda_runtime, settings
from emulator.api_calls import ApiCall, ApiCallRecorder, count_by_action
from emulator.server import LocalAws
from emulator.timeline import Event, Watcher

DESTINATION = "0.0.0.0/0"
_WATCH_INTERVAL_SECONDS = 0.1
_EXECUTION_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class Design:
    """One deployed design: what to start, what it manages, how to recognise its parts."""

    key: str
    label: str
    state_machine_arn: str
    route_table_ids: tuple[str, ...]
    nat_gateway_tag: tuple[str, str]
    # The Lambda functions a run invokes (the workload aside): its per-run figures.
    functions: tuple[str, ...]
    run_input: dict[str, Any]
    # Seconds an idle NAT Gateway may stay after the last run (0: deleted at once).
    idle_grace_seconds: float = 0.0
    # The module's reaper, and how often the bench invokes it as its EventBridge
    # Scheduler schedule would (the local AWS fires no schedules); None: never.
    reaper_function: str | None = None
    reaper_period_seconds: float | None = None


@dataclass
class RunRecord:
    """The figures of one run."""

    design: str
    order: str
    repetition: int
    execution_arn: str
    status: str
    nat_gateway_id: str | None
    reused_nat_gateway: bool
    lambda_invocations: int
    cold_starts: int
    billed_ms: int
    gb_seconds: float
    transitions: int
    cost_usd: float
    ec2_calls: dict[str, int]
    dynamodb_calls: dict[str, int]
    run_seconds: float
    # (seconds from the start, event type, state name) of each history event.
    history: list[tuple[float, str, str]] = field(default_factory=list)
    start_to_routes_seconds: float | None = None
    available_to_routes_seconds: float | None = None
    workload_end_to_deleted_seconds: float | None = None
    # Second runs only: from the first run's workload end to this run's routes.
    previous_workload_end_to_routes_seconds: float | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Started:
    order: str
    execution_arn: str
    described: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    invocations: list[lambda_runtime.InvocationRecord] = field(default_factory=list)
    calls: list[ApiCall] = field(default_factory=list)


class DesignRunner:
    """Runs one design's pairs of runs and turns what it saw into RunRecords."""

    def __init__(self, aws: LocalAws, recorder: ApiCallRecorder, design: Design) -> None:
        self.aws = aws
        self.recorder = recorder
        self.design = design
        self.sfn = aws.client("stepfunctions")
        self.ec2 = aws.client("ec2")
        self.observations: list[figures.Observation] = []
        self.problems: list[str] = []
        # Every invocation record taken while running, for the REPORT-line check.
        self._taken: list[lambda_runtime.InvocationRecord] = []
        self.scheduled_reaper_passes = 0

    @property
    def billed_ms_seen(self) -> int:
        """Billed ms of every invocation of the design's functions (runs and scheduled passes)."""
        names = self.function_names()
        return sum(r.billed_ms for r in self._taken if r.function_name in names)

    def function_names(self) -> set[str]:
        names = set(self.design.functions)
        if self.design.reaper_function is not None:
            names.add(self.design.reaper_function)
        return names

    def run_pairs(self, repetitions: int, on_run: Any = None) -> list[RunRecord]:
        watcher = Watcher(
            self.aws.client,
            tag=self.design.nat_gateway_tag,
            route_table_ids=self.design.route_table_ids,
            destinations=[DESTINATION],
            interval=_WATCH_INTERVAL_SECONDS,
            on_event=self._observe,
        ).start()
        schedule = _Schedule(self, self.design.reaper_period_seconds)
        pairs: list[tuple[int, list[_Started]]] = []
        try:
            for repetition in range(1, repetitions + 1):
                self._wait_until_clean()
                # The schedule's passes are a standing cost, not a run's: none while runs run.
                schedule.pause()
                self._taken += lambda_runtime.take_invocations()
                self.recorder.take()
                first = self._run("first", repetition)
                second = self._run("second", repetition)
                schedule.resume()
                self._wait_until_clean()
                self._collect(second)
                pairs.append((repetition, [first, second]))
                if on_run is not None:
                    on_run(repetition)
        finally:
            schedule.stop()
            watcher.stop()
        records = []
        for repetition, (first, second) in pairs:
            records.append(self._record(first, repetition, previous=None, next_run=second))
            records.append(self._record(second, repetition, previous=first, next_run=None))
        return records

    def leaks(self) -> list[str]:
        """NAT Gateways still billing, or routes still in place, for this design."""
        found = []
        for nat_gateway_id in self._live_nat_gateways(("pending", "available")):
            found.append(f"{self.design.label}: NAT Gateway {nat_gateway_id} left billing")
        for table_id, target in self._routes().items():
            found.append(f"{self.design.label}: route {table_id} {DESTINATION} -> {target} left")
        return found

    # ------------------------------------------------------------------ running

    def _observe(self, event: Event) -> None:
        self.observations.append(
            figures.observation(time.time(), event.subject, event.what, event.detail)
        )

    def _run(self, order: str, repetition: int) -> _Started:
        """Start one run and wait for it to end; the invocations before it go to the last run."""
        name = f"{self.design.key}-{repetition}-{order}-{uuid.uuid4().hex[:8]}"
        arn = self.sfn.start_execution(
            stateMachineArn=self.design.state_machine_arn,
            name=name,
            input=json.dumps(self.design.run_input),
        )["executionArn"]
        started = _Started(order, arn)
        deadline = time.monotonic() + _EXECUTION_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                started.described = described
                break
            time.sleep(0.05)
        else:
            self.problems.append(f"{name} still RUNNING after {_EXECUTION_TIMEOUT_SECONDS:.0f} s")
            self.sfn.stop_execution(executionArn=arn)
            started.described = self.sfn.describe_execution(executionArn=arn)
        if order == "first":
            # Everything the first run caused has happened: its execution ended.
            self._collect(started)
        return started

    def _collect(self, started: _Started) -> None:
        started.invocations = lambda_runtime.take_invocations()
        self._taken += started.invocations
        started.calls = self.recorder.take()
        started.history = self.sfn.get_execution_history(
            executionArn=started.execution_arn, maxResults=1000
        )["events"]

    def _wait_until_clean(self) -> None:
        """Until the design holds no NAT Gateway (pending, available, deleting) and no route."""
        timeout = 120.0 + 2 * self.design.idle_grace_seconds
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._live_nat_gateways(("pending", "available", "deleting")) and not (
                self._routes()
            ):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.design.label} still holds a NAT Gateway after {timeout:.0f} s")

    def _live_nat_gateways(self, states: Sequence[str]) -> list[str]:
        key, value = self.design.nat_gateway_tag
        found = self.ec2.describe_nat_gateways(
            Filter=[
                {"Name": f"tag:{key}", "Values": [value]},
                {"Name": "state", "Values": list(states)},
            ]
        )["NatGateways"]
        return [nat["NatGatewayId"] for nat in found]

    def _routes(self) -> dict[str, str]:
        tables = self.ec2.describe_route_tables(RouteTableIds=list(self.design.route_table_ids))
        left = {}
        for table in tables["RouteTables"]:
            for route in table["Routes"]:
                if route.get("DestinationCidrBlock") == DESTINATION:
                    left[table["RouteTableId"]] = str(
                        route.get("NatGatewayId") or route.get("GatewayId") or "?"
                    )
        return left

    # ------------------------------------------------------------------ figures

    def _record(
        self,
        started: _Started,
        repetition: int,
        *,
        previous: _Started | None,
        next_run: _Started | None,
    ) -> RunRecord:
        described = started.described
        output = json.loads(described.get("output") or "{}")
        nat_gateway_id = (output.get("nat") or {}).get("nat_gateway_id")
        own = [r for r in started.invocations if r.function_name in self.design.functions]
        billed = sum(record.billed_ms for record in own)
        gb_s = sum(figures.gb_seconds(r.billed_ms, r.memory_size_mb) for r in own)
        transitions = figures.state_transitions(started.history)
        start = started.history[0]["timestamp"].timestamp() if started.history else 0.0
        end = described["stopDate"].timestamp() if described.get("stopDate") else time.time()
        # What the run's Lambda functions called while it executed; a reaper's
        # teardown of an idle NAT Gateway, later, is not the run's.
        keys = {lambda_runtime.access_key_of(name) for name in self.design.functions}
        calls = [c for c in started.calls if c.access_key_id in keys and start <= c.wall <= end]
        record = RunRecord(
            design=self.design.key,
            order=started.order,
            repetition=repetition,
            execution_arn=started.execution_arn,
            status=described.get("status", "UNKNOWN"),
            nat_gateway_id=nat_gateway_id,
            reused_nat_gateway=False,
            lambda_invocations=len(own),
            cold_starts=sum(1 for r in own if r.cold_start),
            billed_ms=billed,
            gb_seconds=gb_s,
            transitions=transitions,
            cost_usd=figures.run_cost_usd(transitions, len(own), gb_s),
            ec2_calls=dict(count_by_action(calls, "ec2")),
            dynamodb_calls=dict(count_by_action(calls, "dynamodb")),
            run_seconds=end - start,
            history=figures.compact_history(started.history),
        )
        if record.status != "SUCCEEDED":
            record.error = f"{described.get('error')}: {described.get('cause')}"
            return record
        if nat_gateway_id is None or not started.history:
            return record
        self._add_timings(
            record,
            started,
            start=start,
            calls=calls,
            nat_gateway_id=nat_gateway_id,
            previous=previous,
            next_run=next_run,
        )
        return record

    def _add_timings(
        self,
        record: RunRecord,
        started: _Started,
        *,
        start: float,
        calls: list[ApiCall],
        nat_gateway_id: str,
        previous: _Started | None,
        next_run: _Started | None,
    ) -> None:
        seen_available = figures.nat_state_time(self.observations, nat_gateway_id, "available")
        record.reused_nat_gateway = seen_available is not None and seen_available < start
        # When the run's last route change reached EC2 (exact); when the run
        # changed no route, when the watcher saw them all in place.
        routes = figures.last_call_time(calls, "ec2", ("CreateRoute", "ReplaceRoute"))
        if routes is None:
            routes = figures.routes_in_place_time(
                self.observations, self.design.route_table_ids, nat_gateway_id, since=start
            )
        record.start_to_routes_seconds = figures.interval(start, routes)
        # The local AWS makes a NAT Gateway available exactly nat_pending_seconds
        # after serving CreateNatGateway; the watcher would see it up to a poll late.
        created = figures.first_call_time(calls, "ec2", ("CreateNatGateway",))
        if created is not None and not record.reused_nat_gateway:
            available = created + settings.timings.nat_pending_seconds
            record.available_to_routes_seconds = figures.interval(available, routes)
        if previous is not None:
            # The back-to-back figure: from the job before's end to this job's internet.
            record.previous_workload_end_to_routes_seconds = figures.interval(
                _workload_end(previous), routes
            )
        next_output = json.loads((next_run.described if next_run else {}).get("output") or "{}")
        handed_over = (next_output.get("nat") or {}).get("nat_gateway_id") == nat_gateway_id
        if not handed_over:
            deleted = figures.nat_state_time(self.observations, nat_gateway_id, "deleted")
            record.workload_end_to_deleted_seconds = figures.interval(
                _workload_end(started), deleted
            )


def _workload_end(started: _Started) -> float | None:
    return figures.state_event_time(started.history, "TaskStateExited", "RunWorkload")


class _Schedule:
    """Invokes the design's reaper every `period` seconds, as its Scheduler schedule would.

    The bench pauses it while runs execute, so that no pass lands in a run's figures.
    """

    def __init__(self, runner: DesignRunner, period: float | None) -> None:
        self._runner = runner
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._thread: threading.Thread | None = None
        if period is not None and runner.design.reaper_function is not None:
            self._lambda = runner.aws.client("lambda")
            self._thread = threading.Thread(target=self._loop, args=(period,), daemon=True)
            self._thread.start()

    def _loop(self, period: float) -> None:
        while not self._stop.wait(period):
            if not self._running.is_set():
                continue
            self._lambda.invoke(
                FunctionName=self._runner.design.reaper_function,
                InvocationType="Event",
                Payload=json.dumps({"reason": "schedule"}).encode(),
            )
            self._runner.scheduled_reaper_passes += 1

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
