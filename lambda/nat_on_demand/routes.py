"""Routes from the private route tables to this module's NAT Gateway.

The rules, for each managed route table and destination CIDR:

- no route: one is created to the NAT Gateway;
- a route to this NAT Gateway: kept as it is;
- a route to another NAT Gateway of this module (an earlier run's), or a
  `blackhole` route to any NAT Gateway (its NAT Gateway was deleted): replaced;
- a route to anything else (internet gateway, a NAT Gateway someone else
  runs, transit gateway, instance, peering, a propagated route): never touched.
  Attaching fails with RouteConflict before any route is changed.

Detaching deletes only routes that target this module's NAT Gateway (or a
blackhole route to one of its earlier NAT Gateways). A route table has no
conditional delete: a route replaced by someone else between our describe and
our delete (milliseconds) would be deleted. That window is stated in the README.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from nat_on_demand import aws
from nat_on_demand.config import Config
from nat_on_demand.errors import AwsError, RouteConflict, TransientAwsError

CREATED = "created"
REPLACED = "replaced"
KEPT = "kept"
DELETED = "deleted"
ABSENT = "absent"

# Every target a route can have, in the order used to name it in messages.
_TARGET_KEYS = (
    "NatGatewayId",
    "GatewayId",
    "TransitGatewayId",
    "InstanceId",
    "NetworkInterfaceId",
    "VpcPeeringConnectionId",
    "EgressOnlyInternetGatewayId",
    "LocalGatewayId",
    "CarrierGatewayId",
    "CoreNetworkArn",
)

# DescribeRouteTables accepts up to 200 values per filter.
_DESCRIBE_BATCH = 100


@dataclass(frozen=True)
class _Plan:
    """What attaching will do to one destination of one route table."""

    route_table_id: str
    destination: str
    action: str
    route: dict[str, Any] | None


@dataclass(frozen=True)
class RouteChange:
    route_table_id: str
    destination: str
    action: str
    previous_target: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "route_table_id": self.route_table_id,
            "destination": self.destination,
            "action": self.action,
            "previous_target": self.previous_target,
        }


def describe_target(route: dict[str, Any]) -> str:
    for key in _TARGET_KEYS:
        if route.get(key):
            return str(route[key])
    return "unknown target"


def _batches(ids: tuple[str, ...]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _DESCRIBE_BATCH):
        yield list(ids[start : start + _DESCRIBE_BATCH])


def describe_tables(route_table_ids: tuple[str, ...]) -> dict[str, dict[str, dict[str, Any]]]:
    """For each route table, its IPv4 routes keyed by destination CIDR."""
    paginator = aws.ec2().get_paginator("describe_route_tables")
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    with aws.calling("DescribeRouteTables"):
        for batch in _batches(route_table_ids):
            pages = paginator.paginate(Filters=[{"Name": "route-table-id", "Values": batch}])
            for table in aws.page(pages, "RouteTables"):
                tables[table["RouteTableId"]] = {
                    route["DestinationCidrBlock"]: route
                    for route in table.get("Routes", [])
                    if "DestinationCidrBlock" in route
                }
    missing = sorted(set(route_table_ids) - set(tables))
    if missing:
        raise AwsError(f"route tables not found: {', '.join(missing)}")
    return tables


def _plan_attach(
    route: dict[str, Any] | None, nat_gateway_id: str, owned: Collection[str]
) -> str | None:
    """What attaching does to one destination; None when it must not touch the route."""
    if route is None:
        return CREATED
    target = route.get("NatGatewayId")
    if target == nat_gateway_id:
        return KEPT
    propagated = route.get("Origin") == "EnableVgwRoutePropagation"
    if target and not propagated and (target in owned or route.get("State") == "blackhole"):
        return REPLACED
    return None


def attach(config: Config, nat_gateway_id: str, owned: Collection[str]) -> list[RouteChange]:
    """Route every managed destination of every managed table to `nat_gateway_id`."""
    tables = describe_tables(config.route_table_ids)
    plans: list[_Plan] = []
    conflicts: list[str] = []
    for table_id in config.route_table_ids:
        for cidr in config.destination_cidr_blocks:
            route = tables[table_id].get(cidr)
            action = _plan_attach(route, nat_gateway_id, owned)
            if action is None:
                assert route is not None
                conflicts.append(f"{table_id} {cidr} -> {describe_target(route)}")
            else:
                plans.append(_Plan(table_id, cidr, action, route))
    if conflicts:
        raise RouteConflict(
            "routes for managed destinations already target something this module does not "
            "own; they were left unchanged and no route was added: " + "; ".join(conflicts)
        )
    return [_apply_attach(plan, nat_gateway_id, owned) for plan in plans]


def _apply_attach(
    plan: _Plan, nat_gateway_id: str, owned: Collection[str], *, first_try: bool = True
) -> RouteChange:
    table_id, cidr = plan.route_table_id, plan.destination
    previous = describe_target(plan.route) if plan.route else None
    if plan.action == KEPT:
        return RouteChange(table_id, cidr, KEPT, previous)
    verb = "CreateRoute" if plan.action == CREATED else "ReplaceRoute"
    call = aws.ec2().create_route if plan.action == CREATED else aws.ec2().replace_route
    try:
        call(RouteTableId=table_id, DestinationCidrBlock=cidr, NatGatewayId=nat_gateway_id)
    except ClientError as error:
        if aws.error_code(error) == "RouteAlreadyExists" and first_try:
            # Another run sharing this NAT Gateway (or a retry of this step)
            # created it between our describe and our create: look again, once.
            return _recheck(table_id, cidr, nat_gateway_id, owned)
        if aws.error_code(error) == "InvalidNatGatewayID.NotFound":
            # Seen for a few seconds after a NAT Gateway turns available (EC2 is
            # eventually consistent): worth a retry of the whole step.
            raise TransientAwsError(f"{verb} {table_id} {cidr}: {error}") from error
        raise aws.to_domain_error(error, f"{verb} {table_id} {cidr}") from error
    return RouteChange(table_id, cidr, plan.action, previous)


def _recheck(table_id: str, cidr: str, nat_gateway_id: str, owned: Collection[str]) -> RouteChange:
    route = describe_tables((table_id,))[table_id].get(cidr)
    action = _plan_attach(route, nat_gateway_id, owned)
    if action is None:
        assert route is not None
        raise RouteConflict(
            f"{table_id} {cidr} changed while attaching; it now targets {describe_target(route)}"
        )
    plan = _Plan(table_id, cidr, action, route)
    return _apply_attach(plan, nat_gateway_id, owned, first_try=False)


def _owned_by_us(route: dict[str, Any], nat_gateway_id: str | None, owned: Collection[str]) -> bool:
    target = route.get("NatGatewayId")
    if not target:
        return False
    if target == nat_gateway_id:
        return True
    return target in owned and route.get("State") == "blackhole"


def detach(config: Config, nat_gateway_id: str | None, owned: Collection[str]) -> list[RouteChange]:
    """Delete the managed routes that target `nat_gateway_id` or a dead NAT Gateway of ours."""
    tables = describe_tables(config.route_table_ids)
    changes: list[RouteChange] = []
    client = aws.ec2()
    for table_id in config.route_table_ids:
        for cidr in config.destination_cidr_blocks:
            route = tables[table_id].get(cidr)
            if route is None or not _owned_by_us(route, nat_gateway_id, owned):
                continue
            try:
                client.delete_route(RouteTableId=table_id, DestinationCidrBlock=cidr)
            except ClientError as error:
                if aws.error_code(error) != "InvalidRoute.NotFound":
                    raise aws.to_domain_error(error, f"DeleteRoute {table_id} {cidr}") from error
                changes.append(RouteChange(table_id, cidr, ABSENT, describe_target(route)))
                continue
            changes.append(RouteChange(table_id, cidr, DELETED, describe_target(route)))
    return changes
