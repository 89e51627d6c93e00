"""verify_egress: before the workload starts, the internet must see the Elastic IP.

The probe Lambda really runs (the deployed zip, in the private subnets' VPC
config) and asks the local IP-echo service, which answers with the public IP
of the NAT Gateway the probe's subnets route to, or refuses without one.
"""

from __future__ import annotations

import json
from typing import Any

from emulator.echo import EchoServer
from terraform.conftest import deployed_states
from workflow.conftest import Stack


def _entered_states(stack: Stack, execution_arn: str) -> list[str]:
    history = stack.aws.client("stepfunctions").get_execution_history(
        executionArn=execution_arn, maxResults=1000
    )["events"]
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in history
        if "stateEnteredEventDetails" in event
    ]


def _run(stack: Stack, run_input: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    execution = stack.start(run_input)
    result = stack.wait(execution)
    stack.wait_until_no_nat_gateway()
    return execution, result


def test_the_probe_sees_the_elastic_ip_before_the_workload_runs(
    stack: Stack, follow_routes: EchoServer
):
    states = deployed_states(stack.aws, stack.state_machine_arn)
    assert states["AttachRoutes"]["Next"] == "VerifyEgress"
    assert states["VerifyEgress"]["Next"] == "RunWorkload"
    requests_before = follow_routes.requests

    execution, result = _run(stack, {"run_label": "egress-ok"})

    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["egress"]["seen_ip"] == stack.outputs["egress_public_ip"]
    assert follow_routes.requests > requests_before
    entered = _entered_states(stack, execution)
    assert entered.index("VerifyEgress") < entered.index("RunWorkload")


def test_another_source_ip_fails_the_run_before_the_workload(
    stack: Stack, follow_routes: EchoServer
):
    before = stack.route_tables()
    # The traffic leaves through some other NAT: the internet sees another address.
    follow_routes.answer_with("192.0.2.77")

    execution, result = _run(stack, {"run_label": "egress-mismatch"})

    assert result["status"] == "FAILED"
    assert result["error"] == "EgressCheckFailed"
    assert "192.0.2.77" in result["cause"]
    assert f"expected {stack.outputs['egress_public_ip']}" in result["cause"]
    assert "RunWorkload" not in _entered_states(stack, execution)
    assert stack.nat_gateways("pending", "available") == []
    assert stack.route_tables() == before


def test_no_connectivity_fails_the_run_with_a_clear_error(stack: Stack, follow_routes: EchoServer):
    follow_routes.refuse()

    execution, result = _run(stack, {"run_label": "egress-down"})

    assert result["status"] == "FAILED"
    assert result["error"] == "EgressCheckFailed"
    assert "no connectivity to http://127.0.0.1" in result["cause"]
    assert "RunWorkload" not in _entered_states(stack, execution)
