"""Example workload: reports, from inside the run, the routes and NAT Gateway it sees.

A real workload would call a partner API here. This one reads the private
route tables and the NAT Gateway their default route targets, so a run's
output shows that the routes were in place while the workload ran. With
{"fail": true} in its input it raises, to show a failed run tearing down;
with {"sleep_seconds": N} it takes that long first (a slow job); with
{"output_bytes": N} it adds N bytes of padding to its output (a job with a
large result: Step Functions refuses a state's data over 256 KiB).
"""

import os
import time

import boto3


class WorkloadFailed(Exception):
    """Raised on request, to exercise the failure path."""


def handler(event, context):
    if isinstance(event, dict) and event.get("sleep_seconds"):
        time.sleep(float(event["sleep_seconds"]))
    if isinstance(event, dict) and event.get("fail"):
        raise WorkloadFailed("the workload was asked to fail")

    ec2 = boto3.client("ec2")
    table_ids = os.environ["ROUTE_TABLE_IDS"].split(",")
    tables = ec2.describe_route_tables(RouteTableIds=table_ids)["RouteTables"]

    routes = {}
    for table in tables:
        default = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        routes[table["RouteTableId"]] = default[0] if default else None

    nat_ids = sorted({r["NatGatewayId"] for r in routes.values() if r and r.get("NatGatewayId")})
    nat_states = {}
    if nat_ids:
        found = ec2.describe_nat_gateways(NatGatewayIds=nat_ids)["NatGateways"]
        nat_states = {nat["NatGatewayId"]: nat["State"] for nat in found}

    padding = int(event.get("output_bytes", 0)) if isinstance(event, dict) else 0
    return {
        "padding": "x" * padding,
        "input": event,
        "default_routes": {
            table_id: (
                {"nat_gateway_id": r.get("NatGatewayId"), "state": r.get("State")} if r else None
            )
            for table_id, r in routes.items()
        },
        "nat_gateway_states": nat_states,
    }
