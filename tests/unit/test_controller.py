"""The controller handler end to end, as Step Functions calls it."""

from __future__ import annotations

import io
import json
import time

import pytest

from emulator import settings
from nat_on_demand import config as configuration
from nat_on_demand import steps
from nat_on_demand.errors import InvalidEvent, InvalidRunInput, WorkloadFailed
from nat_on_demand.handlers import controller
from unit.conftest import PENDING_SECONDS, Network
from unit.lambda_calls import ARN, FakeContext, metrics_in


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
        "run_label": "unit",
        "poll_interval_seconds": 7,
        "workload_timeout_seconds": 900,
    }
    assert acquired["workload"] == {"input": {}}
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
    assert acquired["workload"] is None
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


def test_a_run_reports_creation_route_changes_and_uptime_as_metrics(
    environment: Network, clock: settings.Clock, capsys: pytest.CaptureFixture[str]
):
    acquired = invoke({"action": "acquire", "execution_arn": ARN, "execution_input": {}})
    nat_id = acquired["nat"]["nat_gateway_id"]
    clock.advance(PENDING_SECONDS + 1)
    invoke({"action": "attach_routes", "execution_arn": ARN, "nat_gateway_id": nat_id})
    invoke({"action": "release", "execution_arn": ARN, "error": "WorkloadFailed"})

    printed = capsys.readouterr().out
    metrics = metrics_in(printed)
    assert metrics["NatGatewayCreated"] == [1.0]
    assert metrics["RoutesChanged"] == [2.0, 2.0]
    assert len(metrics["NatGatewayUptimeSeconds"]) == 1
    assert metrics["RunFailed"] == [1.0]
    failed = next(json.loads(line) for line in printed.splitlines() if '"RunFailed"' in line)
    assert (failed["ErrorType"], failed["service"]) == ("WorkloadFailed", "unit")


def test_a_second_run_counts_as_a_reuse(
    environment: Network, clock: settings.Clock, capsys: pytest.CaptureFixture[str]
):
    invoke({"action": "acquire", "execution_arn": ARN, "execution_input": {}})
    clock.advance(PENDING_SECONDS + 1)
    capsys.readouterr()

    invoke({"action": "acquire", "execution_arn": ARN + "-2", "execution_input": {}})

    metrics = metrics_in(capsys.readouterr().out)
    assert metrics.get("NatGatewayReused") == [1.0]
    assert "NatGatewayCreated" not in metrics


def test_an_execution_of_another_state_machine_creates_nothing(
    environment: Network, monkeypatch: pytest.MonkeyPatch
):
    # ARN is an execution of the state machine "unit".
    own = "arn:aws:states:us-east-1:123456789012:stateMachine:unit"
    monkeypatch.setenv(configuration.PREFIX + "STATE_MACHINE_ARN", own)
    configuration.load.cache_clear()
    foreign = ARN.replace(":execution:unit:", ":execution:someone-elses:")

    invoke({"action": "release", "execution_arn": ARN})
    with pytest.raises(InvalidEvent, match="is not an execution of"):
        invoke({"action": "acquire", "execution_arn": foreign, "execution_input": {}})

    assert environment.ec2.describe_nat_gateways()["NatGateways"] == []
    assert steps.lease_table(environment.config).get().holders == frozenset()
