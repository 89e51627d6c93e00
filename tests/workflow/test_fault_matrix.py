"""The fault matrix: every way a run can go wrong ends with nothing left behind.

Each scenario sets up a fault on the local AWS, runs (or stops) real
executions of examples/complete, lets the reaper act, and then checks one end
state: no NAT Gateway of the instance pending or available, no route to a NAT
Gateway that is not live, every route table as it was before the run except
for the routes the module manages, and an empty lease. The session prints
`fault matrix: N scenarios, N clean, 0 leaked`.

The stack's timeouts are short so that the timeout scenarios take seconds:
workload 8 s, NAT Gateway readiness 30 s, whole run 35 s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from emulator import ec2 as ec2_fidelity
from emulator import faults, lambda_runtime, settings
from emulator.echo import EchoServer
from emulator.server import LocalAws
from emulator.terraform import EXAMPLES_DIR, Terraform

NAME = "faults"
DESTINATION = "0.0.0.0/0"
VARIABLES: dict[str, Any] = {
    "name": NAME,
    "poll_interval_seconds": 1,
    "workload_timeout_seconds": 8,
    "nat_ready_timeout_seconds": 30,
    "run_timeout_seconds": 35,
    "idle_grace_seconds": 0,
}
LIVE = ("pending", "available")

# Scenarios alternate between two groups, so two workers each run half of
# them against a stack of their own (one worker running both shares one).
GROUPS = ("fault-matrix-a", "fault-matrix-b")


@dataclass
class FaultStack:
    """examples/complete applied as `faults`, and what the scenarios do with it."""

    aws: LocalAws
    terraform: Terraform
    outputs: dict[str, Any]
    variables: dict[str, Any] = field(default_factory=lambda: dict(VARIABLES))
    # Executions the current scenario started, for the report when it leaks.
    started: list[str] = field(default_factory=list)

    @property
    def tables_ids(self) -> list[str]:
        return list(self.outputs["private_route_table_ids"])

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    def apply(self, **changes: Any) -> None:
        self.variables.update(changes)
        self.terraform.apply(self.variables)

    def tables(self) -> list[dict[str, Any]]:
        found = self.client("ec2").describe_route_tables(RouteTableIds=self.tables_ids)
        return sorted(found["RouteTables"], key=lambda t: str(t["RouteTableId"]))

    def nat_gateways(self, *states: str) -> list[dict[str, Any]]:
        filters = [{"Name": "tag:nat-on-demand:instance", "Values": [NAME]}]
        if states:
            filters.append({"Name": "state", "Values": list(states)})
        return list(self.client("ec2").describe_nat_gateways(Filter=filters)["NatGateways"])

    def lease(self) -> dict[str, Any]:
        item = self.client("dynamodb").get_item(
            TableName=self.outputs["lease_table_name"],
            Key={"pk": {"S": f"nat#{self.outputs['public_subnet_id']}"}},
            ConsistentRead=True,
        )
        return dict(item.get("Item", {}))

    def start(self, workload_input: Any = None) -> str:
        run_input = {"run_label": "fault-matrix"}
        if workload_input is not None:
            run_input["workload_input"] = workload_input
        response = self.client("stepfunctions").start_execution(
            stateMachineArn=self.outputs["state_machine_arn"], input=json.dumps(run_input)
        )
        self.started.append(str(response["executionArn"]))
        return str(response["executionArn"])

    def story(self, execution_arn: str) -> str:
        """One line per state and task outcome of an execution: what a leak report needs."""
        events = self.client("stepfunctions").get_execution_history(
            executionArn=execution_arn, maxResults=1000
        )["events"]
        lines = [execution_arn.rsplit(":", 1)[-1]]
        for event in events:
            kind = event["type"]
            details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            if kind.endswith("StateEntered"):
                lines.append(f"  +{event['id']} enter {details.get('name')}")
            elif kind.endswith(("Failed", "TimedOut", "Aborted")):
                cause = str(details.get("cause", ""))[:300]
                lines.append(f"  +{event['id']} {kind} {details.get('error')}: {cause}")
            elif kind in {"TaskSucceeded", "ExecutionSucceeded"}:
                output = str(details.get("output", ""))[:600]
                lines.append(f"  +{event['id']} {kind} {output}")
        return "\n".join(lines)

    def wait(self, execution_arn: str, timeout: float = 90) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.2)
        raise AssertionError(f"{execution_arn} still RUNNING after {timeout} s")

    def wait_for_state(self, execution_arn: str, state: str, timeout: float = 60) -> None:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)
            for event in events["events"]:
                entered = event.get("stateEnteredEventDetails") or {}
                if entered.get("name") == state:
                    return
            time.sleep(0.1)
        raise AssertionError(f"{execution_arn} never entered {state}")

    def stop(self, execution_arn: str) -> dict[str, Any]:
        self.client("stepfunctions").stop_execution(
            executionArn=execution_arn, error="FaultMatrix", cause="stopped by the test"
        )
        return self.wait(execution_arn)

    def reap(self) -> dict[str, Any]:
        """A scheduled reaper pass, invoked as the module's schedule invokes it."""
        response = self.client("lambda").invoke(
            FunctionName=self.outputs["reaper_function_name"],
            Payload=json.dumps({"reason": "schedule"}),
        )
        payload: dict[str, Any] = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, payload
        return payload

    def output(self, execution: dict[str, Any]) -> dict[str, Any]:
        return dict(json.loads(execution["output"]))


@dataclass(frozen=True)
class Scenario:
    name: str
    act: Callable[[FaultStack], None]
    setup: Callable[[FaultStack], None] | None = None
    cleanup: Callable[[FaultStack], None] | None = None
    # (pending, deleting) seconds of NAT Gateway transitions for this scenario.
    timings: tuple[float, float] | None = None
    # Idle grace leaves cleaning to the scheduled reaper: run it at the end.
    reaper_on_schedule: bool = False


@contextmanager
def nat_timings(timings: tuple[float, float] | None) -> Iterator[None]:
    saved = (settings.timings.nat_pending_seconds, settings.timings.nat_deleting_seconds)
    if timings is not None:
        settings.timings.nat_pending_seconds, settings.timings.nat_deleting_seconds = timings
    try:
        yield
    finally:
        settings.timings.nat_pending_seconds, settings.timings.nat_deleting_seconds = saved


CONTROLLER = f"{NAME}-controller"


def controller_fault(action: str, code: str = "UnauthorizedOperation", **more: Any) -> None:
    """Make the controller's (not the reaper's) `action` calls fail."""
    faults.inject(
        faults.Fault(
            "ec2",
            action,
            code,
            f"injected by the fault matrix into {action}",
            when=faults.from_function(CONTROLLER),
            **more,
        )
    )


def expect_failure(execution: dict[str, Any], error: str, *phrases: str) -> None:
    assert execution["status"] == "FAILED", execution
    assert execution.get("error") == error, execution
    for phrase in phrases:
        assert phrase in execution.get("cause", ""), execution


# --- scenarios --------------------------------------------------------------------


def healthy_run_with_the_reaper_during_the_workload(stack: FaultStack) -> None:
    arn = stack.start({"sleep_seconds": 3})
    stack.wait_for_state(arn, "RunWorkload")
    sweep = stack.reap()
    result = stack.wait(arn)

    assert (sweep["released_holders"], sweep["torn_down_nat_gateway_ids"]) == ([], [])
    assert sweep["routes_deleted"] == []
    assert result["status"] == "SUCCEEDED", result
    seen = stack.output(result)["workload"]["output"]["default_routes"]
    assert all(route and route["state"] == "active" for route in seen.values())


def acquire_fails(stack: FaultStack) -> None:
    controller_fault("CreateNatGateway")
    expect_failure(stack.wait(stack.start()), "AwsError", "CreateNatGateway")


def poll_fails(stack: FaultStack) -> None:
    controller_fault("DescribeNatGateways")
    expect_failure(stack.wait(stack.start()), "AwsError", "DescribeNatGateways")


def attach_fails_after_the_first_table(stack: FaultStack) -> None:
    controller_fault("CreateRoute", skip=1)
    expect_failure(stack.wait(stack.start()), "AwsError", "CreateRoute")


def workload_raises(stack: FaultStack) -> None:
    result = stack.wait(stack.start({"fail": True}))
    expect_failure(result, "WorkloadFailed", "asked to fail")


def workload_times_out(stack: FaultStack) -> None:
    expect_failure(stack.wait(stack.start({"sleep_seconds": 12})), "States.Timeout")


def release_fails_once(stack: FaultStack) -> None:
    controller_fault("DeleteRoute")
    expect_failure(stack.wait(stack.start()), "AwsError", "DeleteRoute")


def release_crashes_after_routes_before_the_nat_gateway(stack: FaultStack) -> None:
    # Release and ReleaseAfterError both end before DeleteNatGateway: the run
    # fails with its NAT Gateway up, and the reaper (on the FAILED event) ends it.
    controller_fault("DeleteNatGateway", times=2)
    expect_failure(stack.wait(stack.start()), "AwsError", "DeleteNatGateway")


def lambda_service_errors_on_release(stack: FaultStack) -> None:
    fault = faults.inject(
        faults.Fault(
            "lambda",
            "Invoke",
            "ServiceException",
            "Lambda is unavailable",
            500,
            times=2,
            when=faults.invoking(CONTROLLER, "release"),
        )
    )
    result = stack.wait(stack.start())

    assert result["status"] == "SUCCEEDED", result
    assert fault.hits == 2


def stop_while_waiting_for_the_nat_gateway(stack: FaultStack) -> None:
    arn = stack.start()
    stack.wait_for_state(arn, "WaitForNatGateway")
    assert stack.stop(arn)["status"] == "ABORTED"


def stop_during_the_workload(stack: FaultStack) -> None:
    arn = stack.start({"sleep_seconds": 6})
    stack.wait_for_state(arn, "RunWorkload")
    assert stack.stop(arn)["status"] == "ABORTED"


def stop_during_release(stack: FaultStack) -> None:
    # The first DeleteRoute hangs, so the stop lands while Release runs.
    controller_fault("DeleteRoute", code="InternalError", http_status=500, hang_seconds=3)
    arn = stack.start()
    stack.wait_for_state(arn, "Release")
    assert stack.stop(arn)["status"] == "ABORTED"


def run_times_out_as_a_whole(stack: FaultStack) -> None:
    # Every AttachRoutes call to AWS hangs: botocore gives up on each after its
    # 20 s read timeout and retries, the Lambda dies at its 60 s timeout, and
    # before that the run's 35 s pass: Step Functions ends it TIMED_OUT, with
    # no Catch. The reaper, started by the status change, cleans up.
    controller_fault(
        "DescribeRouteTables",
        code="InternalError",
        http_status=500,
        hang_seconds=25,
        times=float("inf"),
    )
    result = stack.wait(stack.start())
    assert result["status"] == "TIMED_OUT", result


def nat_gateway_never_becomes_available(stack: FaultStack) -> None:
    result = stack.wait(stack.start())
    expect_failure(result, "NatGatewayTimeout", "not available by the readiness deadline")


def nat_gateway_fails(stack: FaultStack) -> None:
    ec2_fidelity.force_next_nat_failure(
        "InsufficientFreeAddressesInSubnet", "Subnet has insufficient free addresses"
    )
    result = stack.wait(stack.start())
    expect_failure(result, "NatGatewayFailed", "InsufficientFreeAddressesInSubnet")


_EC2_ACTIONS = (
    "DescribeNatGateways",
    "CreateNatGateway",
    "DeleteNatGateway",
    "DescribeRouteTables",
    "CreateRoute",
    "DeleteRoute",
)


def every_ec2_call_throttled(stack: FaultStack) -> None:
    code, message, status = faults.THROTTLED
    injected = [
        faults.inject(
            faults.Fault(
                "ec2",
                action,
                code,
                message,
                status,
                times=float("inf"),
                every=2,
                when=faults.from_lambda,
            )
        )
        for action in _EC2_ACTIONS
    ]
    result = stack.wait(stack.start())

    assert result["status"] == "SUCCEEDED", result
    assert {f.action: f.hits > 0 for f in injected} == dict.fromkeys(_EC2_ACTIONS, True)


def throttled_past_the_sdk_retries(stack: FaultStack) -> None:
    code, message, status = faults.THROTTLED
    fault = faults.inject(
        faults.Fault(
            "ec2",
            "CreateRoute",
            code,
            message,
            status,
            times=6,
            when=faults.from_function(CONTROLLER),
        )
    )
    result = stack.wait(stack.start())

    assert result["status"] == "SUCCEEDED", result
    assert fault.hits == 6


def add_foreign_default_route(stack: FaultStack) -> None:
    igw = stack.client("ec2").describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [stack.tables()[0]["VpcId"]]}]
    )["InternetGateways"][0]["InternetGatewayId"]
    stack.client("ec2").create_route(
        RouteTableId=stack.tables_ids[0], DestinationCidrBlock=DESTINATION, GatewayId=igw
    )


def remove_foreign_default_route(stack: FaultStack) -> None:
    stack.client("ec2").delete_route(
        RouteTableId=stack.tables_ids[0], DestinationCidrBlock=DESTINATION
    )


def foreign_default_route_is_left_alone(stack: FaultStack) -> None:
    result = stack.wait(stack.start())
    expect_failure(result, "RouteConflict", stack.tables_ids[0], "igw-")


def add_blackhole_from_an_earlier_crash(stack: FaultStack) -> None:
    ec2 = stack.client("ec2")
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    dead = ec2.create_nat_gateway(SubnetId=stack.outputs["public_subnet_id"], AllocationId=eip)
    dead_id = dead["NatGateway"]["NatGatewayId"]
    ec2.create_route(
        RouteTableId=stack.tables_ids[1], DestinationCidrBlock=DESTINATION, NatGatewayId=dead_id
    )
    ec2.delete_nat_gateway(NatGatewayId=dead_id)
    deadline = time.monotonic() + 10
    while (
        ec2.describe_nat_gateways(NatGatewayIds=[dead_id])["NatGateways"][0]["State"] != "deleted"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    ec2.release_address(AllocationId=eip)


def blackhole_route_is_replaced(stack: FaultStack) -> None:
    result = stack.wait(stack.start())

    assert result["status"] == "SUCCEEDED", result
    changes = {c["route_table_id"]: c["action"] for c in stack.output(result)["routes"]["changes"]}
    assert changes == {stack.tables_ids[0]: "created", stack.tables_ids[1]: "replaced"}


def overlapping_runs(count: int, gap: float, sleep: float) -> Callable[[FaultStack], None]:
    def act(stack: FaultStack) -> None:
        known = {n["NatGatewayId"] for n in stack.nat_gateways()}
        arns = []
        for _ in range(count):
            arns.append(stack.start({"sleep_seconds": sleep}))
            time.sleep(gap)
        results = [stack.wait(arn) for arn in arns]

        assert [r["status"] for r in results] == ["SUCCEEDED"] * count, results
        created = {n["NatGatewayId"] for n in stack.nat_gateways()} - known
        assert len(created) == 1, f"{count} overlapping runs made {len(created)} NAT Gateways"
        assert {stack.output(r)["nat"]["nat_gateway_id"] for r in results} == created

    act.__name__ = f"{count}_runs_gap_{gap}"
    return act


def new_run_while_the_previous_nat_gateway_is_deleting(stack: FaultStack) -> None:
    first = stack.wait(stack.start())
    second_arn = stack.start()
    second = stack.wait(second_arn)

    assert (first["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    old, new = (
        stack.output(first)["nat"]["nat_gateway_id"],
        stack.output(second)["nat"]["nat_gateway_id"],
    )
    assert old != new
    by_id = {n["NatGatewayId"]: n for n in stack.nat_gateways()}
    assert by_id[new]["CreateTime"] >= by_id[old]["DeleteTime"]


def idle_grace_lets_a_back_to_back_run_reuse_the_nat_gateway(stack: FaultStack) -> None:
    stack.apply(idle_grace_seconds=4)
    first = stack.wait(stack.start())
    second = stack.wait(stack.start())

    assert (first["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    first_nat = stack.output(first)["nat"]["nat_gateway_id"]
    assert stack.output(second)["nat"]["nat_gateway_id"] == first_nat
    assert stack.output(first)["release"]["idle_nat_gateway_id"] == first_nat
    assert stack.output(second)["release"]["idle_nat_gateway_id"] == first_nat
    # The second run found the NAT Gateway available: no wait, no poll.
    assert stack.output(second)["nat"]["state"] == "available"
    assert [n["NatGatewayId"] for n in stack.nat_gateways(*LIVE)] == [first_nat]
    # Past the grace, the scheduled reaper (end-state check) deletes it.
    time.sleep(4.5)


SCENARIOS = [
    Scenario(
        "healthy run, reaper during the workload", healthy_run_with_the_reaper_during_the_workload
    ),
    Scenario("Acquire fails", acquire_fails),
    Scenario("PollNatGateway fails", poll_fails),
    Scenario("AttachRoutes fails after the first table", attach_fails_after_the_first_table),
    Scenario("workload raises", workload_raises),
    Scenario("workload times out", workload_times_out),
    Scenario("Release fails once", release_fails_once),
    Scenario(
        "Release crashes after routes, before the NAT Gateway",
        release_crashes_after_routes_before_the_nat_gateway,
    ),
    Scenario("Lambda service errors on Release", lambda_service_errors_on_release),
    Scenario(
        "StopExecution while waiting", stop_while_waiting_for_the_nat_gateway, timings=(20, 0.5)
    ),
    Scenario("StopExecution during the workload", stop_during_the_workload),
    Scenario("StopExecution during Release", stop_during_release),
    Scenario("execution times out as a whole", run_times_out_as_a_whole),
    Scenario("NAT Gateway never available", nat_gateway_never_becomes_available, timings=(60, 0.5)),
    Scenario("NAT Gateway failed", nat_gateway_fails),
    Scenario("every EC2 call throttled", every_ec2_call_throttled),
    Scenario("throttled past the SDK's retries", throttled_past_the_sdk_retries),
    Scenario(
        "foreign 0.0.0.0/0 route",
        foreign_default_route_is_left_alone,
        setup=add_foreign_default_route,
        cleanup=remove_foreign_default_route,
    ),
    Scenario(
        "blackhole route from an earlier crash",
        blackhole_route_is_replaced,
        setup=add_blackhole_from_an_earlier_crash,
    ),
    Scenario("two runs started together", overlapping_runs(2, 0.0, 2)),
    Scenario("two runs staggered", overlapping_runs(2, 1.0, 3)),
    Scenario("five runs started together", overlapping_runs(5, 0.0, 2)),
    Scenario("five runs staggered", overlapping_runs(5, 1.0, 3)),
    Scenario(
        "new run while the previous NAT Gateway is deleting",
        new_run_while_the_previous_nat_gateway_is_deleting,
        timings=(1, 6),
    ),
    Scenario(
        "idle grace: back-to-back runs share the NAT Gateway",
        idle_grace_lets_a_back_to_back_run_reuse_the_nat_gateway,
        reaper_on_schedule=True,
    ),
]


# --- the end state every scenario must reach ---------------------------------------


def managed_routes_removed(tables: list[dict[str, Any]], ours: set[str]) -> list[dict[str, Any]]:
    """`tables` without the routes the module manages (to its NAT Gateways, or blackholes)."""
    kept = []
    for table in tables:
        routes = [
            route
            for route in table["Routes"]
            if not (
                route.get("DestinationCidrBlock") == DESTINATION
                and route.get("NatGatewayId")
                and (route["NatGatewayId"] in ours or route.get("State") == "blackhole")
            )
        ]
        kept.append({**table, "Routes": routes})
    return kept


def end_state_problems(
    stack: FaultStack, before: list[dict[str, Any]], scenario: Scenario
) -> list[str]:
    # On AWS a Lambda runs on after the task that invoked it timed out or its
    # execution ended: judge the end state only once every step has finished.
    if not lambda_runtime.wait_until_idle(CONTROLLER, timeout=90):
        return [f"{CONTROLLER} invocations still running after 90 s"]
    if scenario.reaper_on_schedule:
        stack.reap()
    deadline = time.monotonic() + 30
    while True:
        problems = _problems_now(stack, before)
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    if problems:
        return problems
    # Deleting NAT Gateways finish first, so the reaper pass can forget them.
    deadline = time.monotonic() + 30
    while stack.nat_gateways("deleting") and time.monotonic() < deadline:
        time.sleep(0.2)
    # The reaper on its schedule now finds nothing left to clean: whatever
    # needed it was cleaned by the runs themselves or by the reaper started
    # from the execution's status change event.
    sweep = stack.reap()
    if sweep["released_holders"] or sweep["torn_down_nat_gateway_ids"] or sweep["routes_deleted"]:
        problems.append(f"a scheduled reaper pass still had work: {sweep}")
    lease = stack.lease()
    for attribute in ("holders", "nat_gateway_id", "lock_owner", "retiring_nat_gateway_id"):
        if attribute in lease:
            problems.append(f"lease still has {attribute}: {lease[attribute]}")
    return problems


def _problems_now(stack: FaultStack, before: list[dict[str, Any]]) -> list[str]:
    problems = []
    nat_gateways = stack.nat_gateways()
    live = {n["NatGatewayId"] for n in nat_gateways if n["State"] in LIVE}
    if live:
        problems.append(f"NAT Gateway still billing: {sorted(live)}")
    tables = stack.tables()
    for table in tables:
        for route in table["Routes"]:
            target = route.get("NatGatewayId")
            if target and target not in live:
                problems.append(
                    f"{table['RouteTableId']} {route.get('DestinationCidrBlock')} -> dead {target}"
                )
    ours = {n["NatGatewayId"] for n in nat_gateways}
    if managed_routes_removed(tables, ours) != managed_routes_removed(before, ours):
        problems.append("route tables differ from before the run beyond the managed routes")
    return problems


# Session-scoped: a worker may run other groups' tests between scenarios, and
# a module-scoped stack would then be destroyed and applied again.
@pytest.fixture(scope="session")
def stack(local_aws: LocalAws, echo: EchoServer, worker_id: str) -> Iterator[FaultStack]:
    terraform = Terraform(
        EXAMPLES_DIR / "complete",
        name=f"fault-matrix-{worker_id}",
        extra_env=local_aws.environment(),
    )
    terraform.init()
    # The local IP-echo service answers this stack's egress probe by name.
    variables = {**VARIABLES, "egress_echo_url": echo.url_for(f"{NAME}-egress-probe")}
    terraform.apply(variables)
    fault_stack = FaultStack(local_aws, terraform, terraform.output(), variables)
    yield fault_stack
    # AWS refuses to release the Elastic IP while a NAT Gateway uses it: let
    # the reaper end anything a failed scenario left, then destroy.
    faults.clear()
    fault_stack.reap()
    deadline = time.monotonic() + 30
    while fault_stack.nat_gateways(*LIVE, "deleting") and time.monotonic() < deadline:
        time.sleep(0.5)
    terraform.destroy(fault_stack.variables)


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(s, id=s.name, marks=pytest.mark.xdist_group(GROUPS[i % len(GROUPS)]))
        for i, s in enumerate(SCENARIOS)
    ],
)
def test_fault_matrix(scenario: Scenario, stack: FaultStack, record_property: Callable[..., None]):
    if scenario.setup is not None:
        scenario.setup(stack)
    before = stack.tables()
    stack.started.clear()
    problems: list[str] = []
    with nat_timings(scenario.timings):
        try:
            scenario.act(stack)
        finally:
            faults.clear()
            ec2_fidelity.clear_forced_failures()
            problems = end_state_problems(stack, before, scenario)
            record_property("fault_matrix", "leaked" if problems else "clean")
            if scenario.cleanup is not None:
                scenario.cleanup(stack)
    assert not problems, "\n".join(problems + [stack.story(arn) for arn in stack.started])
