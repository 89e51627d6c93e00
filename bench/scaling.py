"""Route changes against the number of route tables: attach + detach with 1, 10, 100 tables.

Both designs' own code runs in this process against the local AWS: the
module's `steps.attach_routes` and `steps.release` (its AttachRoutes and
Release steps, lease included), and the baseline's `add_routes` and its
teardown (`delete_routes`, `delete_nat_gateway` with the deletion waiter).
NAT Gateways turn available and deleted at once here (the timings are set to
0 for this part): only the route work is measured, counted by EC2 action.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import figures
from emulator import settings
from emulator.api_calls import ApiCallRecorder, count_by_action
from emulator.server import LocalAws
from nat_on_demand import aws as module_aws
from nat_on_demand import steps
from nat_on_demand.config import Config

REPO_ROOT = Path(__file__).resolve().parents[1]
_BASELINE_HANDLER = REPO_ROOT / "bench" / "baseline" / "handler.py"
_LEASE_TABLE = "bench-route-scaling-lease"
_DESTINATION = "0.0.0.0/0"


@dataclass(frozen=True)
class _Network:
    public_subnet_id: str
    private_subnet_ids: list[str]
    route_table_ids: list[str]
    allocation_ids: tuple[str, str]


@dataclass
class Phase:
    """One design's attach or detach with N route tables, over several repetitions."""

    ec2_calls: Counter[str] = field(default_factory=Counter)
    dynamodb_calls: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    # Whether the calls differed between repetitions (they should not).
    calls_varied: bool = False

    def add(self, seconds: float, ec2_calls: Counter[str], dynamodb_calls: Counter[str]) -> None:
        if self.seconds and (ec2_calls, dynamodb_calls) != (self.ec2_calls, self.dynamodb_calls):
            self.calls_varied = True
        self.seconds.append(seconds)
        self.ec2_calls, self.dynamodb_calls = ec2_calls, dynamodb_calls

    def as_dict(self) -> dict[str, Any]:
        summary = figures.summarise(self.seconds)
        return {
            "ec2_calls": dict(sorted(self.ec2_calls.items())),
            "ec2_calls_total": sum(self.ec2_calls.values()),
            "dynamodb_calls": dict(sorted(self.dynamodb_calls.items())),
            "calls_varied_between_repetitions": self.calls_varied,
            "seconds": summary.as_dict() if summary else None,
            "seconds_each": list(self.seconds),
        }


def _make_network(aws: LocalAws, tables: int, index: int) -> _Network:
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock=f"10.{100 + index}.0.0/16")["Vpc"]["VpcId"]
    igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    public = ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.{100 + index}.0.0/24")["Subnet"]
    public_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_table, DestinationCidrBlock=_DESTINATION, GatewayId=igw_id)
    ec2.associate_route_table(RouteTableId=public_table, SubnetId=public["SubnetId"])
    subnets, route_tables = [], []
    for n in range(1, tables + 1):
        cidr = f"10.{100 + index}.{n}.0/24"
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr)["Subnet"]["SubnetId"]
        table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table_id, SubnetId=subnet_id)
        subnets.append(subnet_id)
        route_tables.append(table_id)
    allocations = tuple(ec2.allocate_address(Domain="vpc")["AllocationId"] for _ in range(2))
    return _Network(public["SubnetId"], subnets, route_tables, (allocations[0], allocations[1]))


def _load_baseline() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_baseline_handler", _BASELINE_HANDLER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RouteScaling:
    """Measures both designs with each number of route tables; see the module docstring."""

    def __init__(self, aws: LocalAws, recorder: ApiCallRecorder) -> None:
        self.aws = aws
        self.recorder = recorder
        self.problems: list[str] = []

    def measure(self, table_counts: list[int], repetitions: int) -> list[dict[str, Any]]:
        saved = (settings.timings.nat_pending_seconds, settings.timings.nat_deleting_seconds)
        settings.timings.nat_pending_seconds = 0.0
        settings.timings.nat_deleting_seconds = 0.0
        saved_env = dict(os.environ)
        os.environ.update(self.aws.environment())
        # The module's domain code logs each route change; nobody reads it here.
        os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
        try:
            self._create_lease_table()
            results = []
            for index, tables in enumerate(table_counts):
                network = _make_network(self.aws, tables, index)
                results.append(
                    {
                        "route_tables": tables,
                        "on-demand": self._module(network, tables, repetitions),
                        "baseline": self._baseline(network, tables, repetitions),
                    }
                )
            return results
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            # The module's cached clients point at this local AWS: forget them.
            module_aws.reset_clients()
            settings.timings.nat_pending_seconds, settings.timings.nat_deleting_seconds = saved

    def _create_lease_table(self) -> None:
        dynamodb = self.aws.client("dynamodb")
        if _LEASE_TABLE in dynamodb.list_tables()["TableNames"]:
            return
        dynamodb.create_table(
            TableName=_LEASE_TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )

    def _timed(self, action: Any) -> tuple[float, Counter[str], Counter[str]]:
        self.recorder.take()
        started = time.perf_counter()
        action()
        seconds = time.perf_counter() - started
        calls = self.recorder.take()
        return seconds, count_by_action(calls, "ec2"), count_by_action(calls, "dynamodb")

    def _module(self, network: _Network, tables: int, repetitions: int) -> dict[str, Any]:
        module_aws.reset_clients()
        config = Config(
            instance=f"bench-scale-{tables}",
            public_subnet_id=network.public_subnet_id,
            allocation_id=network.allocation_ids[0],
            route_table_ids=tuple(network.route_table_ids),
            destination_cidr_blocks=(_DESTINATION,),
            lease_table=_LEASE_TABLE,
            ready_timeout_seconds=600,
            poll_interval_seconds=1,
            workload_timeout_seconds=900,
        )
        attach, detach = Phase(), Phase()
        for _ in range(repetitions):
            holder = f"arn:aws:states:us-east-1:123456789012:execution:bench-scale:{uuid.uuid4()}"
            status = steps.acquire(config, holder)
            deadline = time.time() + 60
            while not status.ready:
                status = steps.poll(config, holder, status.nat_gateway_id, deadline)
            nat_gateway_id = status.nat_gateway_id
            assert nat_gateway_id is not None
            attach.add(
                *self._timed(functools.partial(steps.attach_routes, config, holder, nat_gateway_id))
            )
            detach.add(*self._timed(functools.partial(steps.release, config, holder)))
            self._check_clean(network, "on-demand", tables)
        return {"attach": attach.as_dict(), "detach": detach.as_dict()}

    def _baseline(self, network: _Network, tables: int, repetitions: int) -> dict[str, Any]:
        os.environ.update(
            {
                "BASELINE_NAME": f"bench-scale-waiter-{tables}",
                "BASELINE_PUBLIC_SUBNET_ID": network.public_subnet_id,
                "BASELINE_ALLOCATION_ID": network.allocation_ids[1],
                "BASELINE_WAITER_DELAY_SECONDS": "0.1",
                "BASELINE_WAITER_MAX_ATTEMPTS": "40",
            }
        )
        baseline = _load_baseline()
        ec2 = self.aws.client("ec2")
        subnets = network.private_subnet_ids
        attach, detach = Phase(), Phase()
        for _ in range(repetitions):
            nat_gateway_id = baseline.create_nat_gateway(ec2)
            ec2.get_waiter("nat_gateway_available").wait(
                NatGatewayIds=[nat_gateway_id], WaiterConfig={"Delay": 0.1, "MaxAttempts": 40}
            )
            add = functools.partial(baseline.add_routes, ec2, subnets, nat_gateway_id)
            attach.add(*self._timed(add))
            detach.add(
                *self._timed(functools.partial(_teardown, baseline, ec2, subnets, nat_gateway_id))
            )
            self._check_clean(network, "baseline", tables)
        return {"attach": attach.as_dict(), "detach": detach.as_dict()}

    def _check_clean(self, network: _Network, design: str, tables: int) -> None:
        ec2 = self.aws.client("ec2")
        live = ec2.describe_nat_gateways(
            Filter=[
                {"Name": "subnet-id", "Values": [network.public_subnet_id]},
                {"Name": "state", "Values": ["pending", "available"]},
            ]
        )["NatGateways"]
        routed = [
            table["RouteTableId"]
            for table in ec2.describe_route_tables(RouteTableIds=network.route_table_ids)[
                "RouteTables"
            ]
            if any(r.get("DestinationCidrBlock") == _DESTINATION for r in table["Routes"])
        ]
        if live or routed:
            self.problems.append(
                f"route scaling, {design}, {tables} tables: left "
                f"{len(live)} NAT Gateway(s) and {len(routed)} route(s)"
            )


def _teardown(baseline: ModuleType, ec2: Any, subnet_ids: list[str], nat_gateway_id: str) -> None:
    """The baseline's teardown handler without its client creation: routes, then the NAT Gateway."""
    baseline.delete_routes(ec2, subnet_ids)
    baseline.delete_nat_gateway(ec2, nat_gateway_id)
