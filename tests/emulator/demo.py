"""`make demo`: the main job, end to end, on the local AWS.

Applies examples/complete, starts one run, prints what happens as it happens,
checks the end state (no NAT Gateway billing, route tables as before), destroys
everything, and exits non-zero if any check failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from emulator import settings
from emulator.echo import EchoServer
from emulator.server import LocalAws
from emulator.terraform import EXAMPLES_DIR, Terraform
from emulator.timeline import Event, Watcher

_RUN_INPUT = {"run_label": "make-demo", "workload_input": {"job": "nightly-partner-sync"}}
# examples/complete's egress probe (its default name), which the local echo service answers.
_PROBE_FUNCTION = "nat-on-demand-complete-egress-probe"


def _say(text: str = "") -> None:
    print(text, flush=True)


def _print_event(event: Event) -> None:
    subject = "NAT Gateway " + event.subject if event.subject.startswith("nat-") else event.subject
    _say(f"  +{event.at:6.1f}s  {subject:34} {event.what:18} {event.detail}")


def _route_tables(aws: LocalAws, table_ids: list[str]) -> list[dict[str, Any]]:
    tables = aws.client("ec2").describe_route_tables(RouteTableIds=table_ids)["RouteTables"]
    return sorted(tables, key=lambda t: str(t["RouteTableId"]))


def _live_nat_gateways(aws: LocalAws, tag: dict[str, str]) -> list[str]:
    found = aws.client("ec2").describe_nat_gateways(
        Filter=[
            {"Name": f"tag:{tag['key']}", "Values": [tag["value"]]},
            {"Name": "state", "Values": ["pending", "available"]},
        ]
    )["NatGateways"]
    return [n["NatGatewayId"] for n in found]


def _wait_for_deleted(watcher: Watcher, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if watcher.first_nat("deleted") is not None:
            return
        time.sleep(0.2)


def run(pending_seconds: float, deleting_seconds: float, poll_seconds: int) -> int:
    settings.timings.nat_pending_seconds = pending_seconds
    settings.timings.nat_deleting_seconds = deleting_seconds
    checks: list[tuple[str, bool]] = []

    with LocalAws() as aws, EchoServer(aws, _PROBE_FUNCTION) as echo:
        _say(f"Local AWS listening on {aws.endpoint_url} (moto server with the emulator's fixes)")
        _say(f"IP-echo service for the egress probe at {echo.url} (stands in for checkip)")
        _say(
            f"Simulated AWS timings: NAT Gateway pending {pending_seconds:g} s "
            f"(AWS: 85-125 s), deleting {deleting_seconds:g} s (AWS: 40-80 s)"
        )
        terraform = Terraform(
            EXAMPLES_DIR / "complete", name="demo-complete", extra_env=aws.environment()
        )
        variables = {"poll_interval_seconds": poll_seconds, "egress_echo_url": echo.url}
        _say("\n== terraform init + apply examples/complete")
        started = time.monotonic()
        terraform.init()
        terraform.apply(variables)
        outputs = terraform.output()
        managed = [
            a for a in terraform.resources() if not a.startswith("data.") and ".data." not in a
        ]
        _say(f"   applied {len(managed)} resources in {time.monotonic() - started:.0f} s")
        _say(f"   state machine   {outputs['state_machine_arn']}")
        _say(f"   egress IP       {outputs['egress_public_ip']}")
        _say(f"   route tables    {', '.join(outputs['private_route_table_ids'])}")

        try:
            table_ids = list(outputs["private_route_table_ids"])
            before = _route_tables(aws, table_ids)
            tag = outputs["nat_gateway_tag"]
            watcher = Watcher(
                aws.client,
                tag=(tag["key"], tag["value"]),
                route_table_ids=table_ids,
                destinations=["0.0.0.0/0"],
                on_event=_print_event,
            ).start()

            _say(f"\n== start-execution with input {json.dumps(_RUN_INPUT)}")
            sfn = aws.client("stepfunctions")
            execution_arn = sfn.start_execution(
                stateMachineArn=outputs["state_machine_arn"], input=json.dumps(_RUN_INPUT)
            )["executionArn"]
            watcher.follow(execution_arn)
            _print_event(Event(0.0, "run", "started", execution_arn.rsplit(":", 1)[-1]))
            result = _wait_for_execution(sfn, execution_arn, timeout=300)
            _wait_for_deleted(watcher, timeout=deleting_seconds * 4 + 10)
            watcher.stop()

            _say("\n== what the workload saw while it ran")
            output = json.loads(result.get("output") or "{}")
            workload = (output.get("workload") or {}).get("output") or {}
            for table_id, route in sorted((workload.get("default_routes") or {}).items()):
                _say(f"   {table_id}  0.0.0.0/0 -> {route}")
            _say(f"   NAT Gateway states: {workload.get('nat_gateway_states')}")

            _say("\n== checks")
            nat_available = watcher.first_nat("available")
            first_route = watcher.first_event("route added")
            last_removal = watcher.last_event("route removed")
            deleting = watcher.first_nat("deleting")
            checks += [
                ("run SUCCEEDED", result["status"] == "SUCCEEDED"),
                (
                    "the egress probe saw the Elastic IP before the workload ran",
                    (output.get("egress") or {}).get("seen_ip") == outputs["egress_public_ip"],
                ),
                (
                    "NAT Gateway available before the first route was added",
                    nat_available is not None
                    and first_route is not None
                    and nat_available.at <= first_route.at,
                ),
                (
                    "workload saw every private route table routed to an available NAT Gateway",
                    _workload_saw_routes(workload, table_ids),
                ),
                (
                    "routes removed before the NAT Gateway was deleted",
                    last_removal is not None
                    and deleting is not None
                    and last_removal.at <= deleting.at,
                ),
                (
                    "no NAT Gateway of this instance pending or available",
                    _live_nat_gateways(aws, tag) == [],
                ),
                (
                    "both private route tables exactly as before the run",
                    _route_tables(aws, table_ids) == before,
                ),
            ]
            for name, ok in checks:
                _say(f"   {'PASS' if ok else 'FAIL'}  {name}")
        finally:
            _say("\n== terraform destroy")
            started = time.monotonic()
            terraform.destroy(variables)
            left = terraform.resources()
            checks.append(("terraform destroy left nothing in state", left == []))
            _say(
                f"   destroyed in {time.monotonic() - started:.0f} s; "
                f"{'nothing left' if not left else 'LEFT: ' + ', '.join(left)}"
            )

    failed = [name for name, ok in checks if not ok]
    _say(f"\n{'DEMO PASSED' if not failed else 'DEMO FAILED: ' + '; '.join(failed)}")
    return 1 if failed else 0


def _wait_for_execution(sfn: Any, execution_arn: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.3)
    raise TimeoutError(f"{execution_arn} still RUNNING after {timeout:.0f} s")


def _workload_saw_routes(workload: dict[str, Any], table_ids: list[str]) -> bool:
    routes = workload.get("default_routes") or {}
    states = workload.get("nat_gateway_states") or {}
    return set(routes) == set(table_ids) and all(
        route
        and route.get("state") == "active"
        and states.get(route.get("nat_gateway_id")) == "available"
        for route in routes.values()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator demo", description=__doc__)
    parser.add_argument("--nat-pending-seconds", type=float, default=6.0)
    parser.add_argument("--nat-deleting-seconds", type=float, default=3.0)
    parser.add_argument("--poll-interval-seconds", type=int, default=2)
    args = parser.parse_args(argv)
    return run(args.nat_pending_seconds, args.nat_deleting_seconds, args.poll_interval_seconds)


if __name__ == "__main__":
    sys.exit(main())
