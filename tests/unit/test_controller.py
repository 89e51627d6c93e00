"""The controller handler end to end, as Step Functions calls it."""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass

import pytest

from emulator import settings
from nat_on_demand import config as configuration
from nat_on_demand.errors import InvalidEvent, InvalidRunInput, WorkloadFailed
from nat_on_demand.handlers import controller
from unit.conftest import PENDING_SECONDS, Network

ARN = "arn:aws:states:us-east-1:123456789012:execution:unit:run-1"


@dataclass
class FakeContext:
    function_name: str = "unit-controller"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:unit-controller"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/unit-controller"
    log_stream_name: str = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def environment(network: Network, monkeypatch: pytest.MonkeyPatch) -> Network:
    c = network.config
    values = {
        "NAME": c.instance,
        "PUBLIC_SUBNET_ID": c.public_subnet_id,
        "EIP_ALLOCATION_ID": c.allocation_id,
        "ROUTE_TABLE_IDS": json.dumps(list(c.route_table_ids)),
        "DESTINATION_CIDR_BLOCKS": json.dumps(list(c.destination_cidr_blocks)),
        "LEASE_TABLE": c.lease_table,
        "NAT_READY_TIMEOUT_SECONDS": "600",
        "POLL_INTERVAL_SECONDS": "7",
        "WORKLOAD_TIMEOUT_SECONDS": "900",
        "NAT_TAGS": json.dumps(dict(c.nat_tags)),
    }
    for name, value in values.items():
        monkeypatch.setenv(configuration.PREFIX + name, value)
    configuration.load.cache_clear()
    yield network
    configuration.load.cache_clear()


def invoke(event: dict) -> dict:
    return controller.handler(event, FakeContext())


def test_a_whole_run_through_the_handler(environment: Network, clock: settings.Clock):
    network = environment
    before = network.tables()
    buffer = io.StringIO()
    previous = controller.logger.registered_handler.setStream(buffer)

    acquired = invoke(
        {"action": "acquire", "execution_arn": ARN, "execution_input": {"run_label": "unit"}}
    )
    assert acquired["run"] == {
        "workload_input": {},
        "run_label": "unit",
        "poll_interval_seconds": 7,
        "workload_timeout_seconds": 900,
    }
    nat_id = acquired["nat"]["nat_gateway_id"]
    assert acquired["nat"]["ready"] is False
    assert acquired["nat"]["deadline"] == pytest.approx(time.time() + 600, abs=5)

    clock.advance(PENDING_SECONDS + 1)
    polled = invoke(
        {
            "action": "poll",
            "execution_arn": ARN,
            "nat_gateway_id": nat_id,
            "deadline": acquired["nat"]["deadline"],
        }
    )
    assert polled["ready"] is True
    assert polled["public_ip"]

    attached = invoke({"action": "attach_routes", "execution_arn": ARN, "nat_gateway_id": nat_id})
    assert [c["action"] for c in attached["changes"]] == ["created", "created"]

    released = invoke({"action": "release", "execution_arn": ARN})
    assert released["torn_down_nat_gateway_id"] == nat_id
    assert network.tables() == before

    controller.logger.registered_handler.setStream(previous)
    log_lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line]
    route_lines = [line for line in log_lines if line["message"].startswith("Route ")]
    assert route_lines
    assert all(line["execution_arn"] == ARN for line in route_lines)
    assert all(line["route_table_id"] in network.private_route_table_ids for line in route_lines)


def test_bad_run_input_creates_nothing(environment: Network):
    with pytest.raises(InvalidRunInput, match="run_label"):
        invoke({"action": "acquire", "execution_arn": ARN, "execution_input": {"run_label": 5}})

    assert environment.ec2.describe_nat_gateways()["NatGateways"] == []
    assert "Item" not in environment.dynamodb.get_item(
        TableName=environment.config.lease_table,
        Key={"pk": {"S": environment.config.lease_id}},
    )


def test_bad_event_is_rejected_before_reading_configuration(monkeypatch: pytest.MonkeyPatch):
    configuration.load.cache_clear()
    monkeypatch.delenv(configuration.PREFIX + "NAME", raising=False)

    with pytest.raises(InvalidEvent, match="nat_gateway_id"):
        invoke({"action": "attach_routes", "execution_arn": ARN, "nat_gateway_id": "nope"})


def test_a_hold_run_gets_its_window_from_the_input_or_the_module(
    environment: Network, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(configuration.PREFIX + "WORKLOAD_TYPE", "hold")
    monkeypatch.setenv(configuration.PREFIX + "HOLD_SECONDS", "1800")
    configuration.load.cache_clear()

    acquired = invoke(
        {"action": "acquire", "execution_arn": ARN, "execution_input": {"hold_seconds": 30}}
    )

    assert acquired["run"]["hold_seconds"] == 30
    invoke({"action": "release", "execution_arn": ARN})


def test_input_that_does_not_fit_the_workload_type_creates_nothing(environment: Network):
    with pytest.raises(InvalidRunInput, match="hold_seconds applies only to workload type hold"):
        invoke({"action": "acquire", "execution_arn": ARN, "execution_input": {"hold_seconds": 30}})

    assert environment.ec2.describe_nat_gateways()["NatGateways"] == []


def test_check_workload_reports_a_failed_ecs_task_as_workload_failed(
    environment: Network, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(configuration.PREFIX + "WORKLOAD_TYPE", "ecs_task")
    configuration.load.cache_clear()
    task = {
        "TaskArn": "arn:aws:ecs:us-east-1:123456789012:task/jobs/abc",
        "StopCode": "EssentialContainerExited",
        "Containers": [{"Name": "job", "ExitCode": 2}],
    }

    with pytest.raises(WorkloadFailed, match="container job exited with code 2"):
        invoke({"action": "check_workload", "execution_arn": ARN, "workload": {"task": task}})

    task["Containers"] = [{"Name": "job", "ExitCode": 0}]
    outcome = invoke({"action": "check_workload", "execution_arn": ARN, "workload": {"task": task}})
    assert outcome["exit_codes"] == {"job": 0}
