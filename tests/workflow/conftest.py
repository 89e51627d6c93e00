"""Workflow tests: real executions of the rendered state machine on the local AWS.

examples/complete is applied once per session with pytest-terraform (real
Terraform, real aws provider, pointed at the local AWS through
AWS_ENDPOINT_URL) and every test starts executions on it. All of them run in
one xdist group: the stack lives in this worker's local AWS.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from emulator.echo import EchoServer
from emulator.server import LocalAws

# examples/complete's default name, and so its egress probe's.
PROBE_FUNCTION = "nat-on-demand-complete-egress-probe"


@pytest.fixture(scope="session", autouse=True)
def echo(local_aws: LocalAws) -> Iterator[EchoServer]:
    """The local AWS and its IP-echo service, started before pytest-terraform applies the stack.

    (autouse session fixtures run first; pytest-terraform reads TF_VAR_* from
    this process's environment.)
    """
    with EchoServer(local_aws, PROBE_FUNCTION) as server:
        os.environ["TF_VAR_egress_echo_url"] = server.url_for(PROBE_FUNCTION)  # noqa: SIM112
        yield server
        os.environ.pop("TF_VAR_egress_echo_url", None)


@pytest.fixture
def follow_routes(echo: EchoServer) -> Iterator[EchoServer]:
    """The echo service as the routes make it; hooks a test sets are undone after it."""
    echo.follow_routes()
    yield echo
    echo.follow_routes()


@dataclass
class Stack:
    """The applied example, and what a test needs to drive and inspect it."""

    aws: LocalAws
    outputs: dict[str, Any]

    @property
    def state_machine_arn(self) -> str:
        return str(self.outputs["state_machine_arn"])

    @property
    def route_table_ids(self) -> list[str]:
        return list(self.outputs["private_route_table_ids"])

    def route_tables(self) -> list[dict[str, Any]]:
        tables = self.aws.client("ec2").describe_route_tables(RouteTableIds=self.route_table_ids)
        return sorted(tables["RouteTables"], key=lambda table: str(table["RouteTableId"]))

    def nat_gateways(self, *states: str) -> list[dict[str, Any]]:
        tag = self.outputs["nat_gateway_tag"]
        filters = [{"Name": f"tag:{tag['key']}", "Values": [tag["value"]]}]
        if states:
            filters.append({"Name": "state", "Values": list(states)})
        return list(self.aws.client("ec2").describe_nat_gateways(Filter=filters)["NatGateways"])

    def start(self, run_input: Any) -> str:
        response = self.aws.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn, input=json.dumps(run_input)
        )
        return str(response["executionArn"])

    def wait(self, execution_arn: str, timeout: float = 120) -> dict[str, Any]:
        sfn = self.aws.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.2)
        raise AssertionError(f"{execution_arn} still RUNNING after {timeout} s")

    def wait_until_no_nat_gateway(self, timeout: float = 30) -> None:
        """Wait until every NAT Gateway of the instance is `deleted` (or `failed`)."""
        deadline = time.monotonic() + timeout
        while self.nat_gateways("pending", "available", "deleting"):
            assert time.monotonic() < deadline, "NAT Gateway still not deleted"
            time.sleep(0.2)


@pytest.fixture
def stack(complete: Any, local_aws: LocalAws) -> Stack:
    outputs = {name: value["value"] for name, value in complete.outputs.items()}
    return Stack(local_aws, outputs)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # The complete stack is one fixture for every test module here, declared
    # once in workflow.stack: pytest-terraform makes one stack per module that
    # holds the fixture, so test modules must not import it themselves. Its
    # factory needs pytest-terraform configured, hence here and not earlier.
    if not session.config.pluginmanager.has_plugin("workflow.stack"):
        session.config.pluginmanager.import_plugin("workflow.stack")


# tryfirst: xdist names each test after its group in a hook of its own, which
# must see the groups added here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/workflow/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.workflow)
            # Tests on the shared complete stack run in one worker, with it.
            if item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group("complete"))
