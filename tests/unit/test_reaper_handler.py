"""The reaper handler: its events, and the metrics an alarm watches."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from emulator import settings
from nat_on_demand import config as configuration
from nat_on_demand.errors import AwsError, InvalidEvent
from nat_on_demand.handlers import controller
from nat_on_demand.handlers import reaper as reaper_handler
from unit.conftest import PENDING_SECONDS, Network
from unit.lambda_calls import ARN, FakeContext, metrics_in

STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:unit"


@pytest.fixture
def reaper_environment(environment: Network, monkeypatch: pytest.MonkeyPatch) -> Network:
    monkeypatch.setenv(configuration.PREFIX + "STATE_MACHINE_ARN", STATE_MACHINE)
    configuration.load.cache_clear()
    return environment


def invoke(event: dict) -> dict:
    return controller.handler(event, FakeContext())


def reap(event: dict) -> dict:
    return reaper_handler.handler(event, FakeContext())


def status_change(status: str) -> dict:
    return {
        "version": "0",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": "123456789012",
        "detail": {"executionArn": ARN, "stateMachineArn": STATE_MACHINE, "status": status},
    }


def test_a_quiet_pass_reports_zero_cleanups_and_no_unheld_nat_gateway(
    reaper_environment: Network, capsys: pytest.CaptureFixture[str]
):
    result = reap({"reason": "schedule"})

    assert result["trigger"] == "schedule"
    metrics = metrics_in(capsys.readouterr().out)
    assert metrics["ReaperCleanups"] == [0.0]
    assert metrics["UnheldNatGatewaySeconds"] == [0.0]


def test_a_stopped_run_is_released_from_its_status_change_event(
    reaper_environment: Network, clock: settings.Clock, capsys: pytest.CaptureFixture[str]
):
    acquired = invoke({"action": "acquire", "execution_arn": ARN, "execution_input": {}})
    clock.advance(PENDING_SECONDS + 1)
    invoke(
        {
            "action": "attach_routes",
            "execution_arn": ARN,
            "nat_gateway_id": acquired["nat"]["nat_gateway_id"],
        }
    )
    capsys.readouterr()

    result = reap(status_change("ABORTED"))

    assert result["released_holders"] == [ARN]
    assert result["torn_down_nat_gateway_ids"] == [acquired["nat"]["nat_gateway_id"]]
    # One holder released, one NAT Gateway torn down, one route in each of two tables.
    metrics = metrics_in(capsys.readouterr().out)
    assert metrics["ReaperCleanups"] == [4.0]
    assert len(metrics["NatGatewayUptimeSeconds"]) == 1


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"reason": "whenever"}, "reason"),
        ({"reason": "schedule", "extra": 1}, "extra"),
        ({**status_change("FAILED"), "detail": {"status": "FAILED"}}, "executionArn"),
        ({**status_change("FAILED"), "source": "aws.ec2"}, "source"),
    ],
)
def test_bad_reaper_events_name_the_field(reaper_environment: Network, event: dict, field: str):
    with pytest.raises(InvalidEvent, match=field):
        reap(json.loads(json.dumps(event)))


def test_an_arn_step_functions_calls_invalid_is_an_execution_that_is_not_running(
    monkeypatch: pytest.MonkeyPatch,
):
    # No execution can have such an ARN: the reaper drops its holder instead
    # of failing every pass (and every clean-up after it) on it.
    client = boto3.client("stepfunctions", region_name="us-east-1")
    stubber = Stubber(client)
    bad = ARN + "-but-invalid"
    stubber.add_client_error("describe_execution", "InvalidArn", "Invalid Arn")
    stubber.add_client_error("describe_execution", "AccessDeniedException", "no")
    monkeypatch.setattr(reaper_handler.aws, "stepfunctions", lambda: client)

    with stubber:
        assert reaper_handler.execution_status(bad) is None
        with pytest.raises(AwsError, match="DescribeExecution"):
            reaper_handler.execution_status(bad)
