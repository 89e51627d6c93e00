"""EventBridge delivers matched events to Lambda functions and state machines."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator

import pytest

from emulator.server import LocalAws

_RECORDER = """
import json, os, pathlib
def handler(event, context):
    pathlib.Path(os.environ["OUT"]).write_text(json.dumps(event))
    return {}
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        yield local


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("recorder.py", source)
    return buffer.getvalue()


def _recorder(aws: LocalAws, name: str, out: str) -> str:
    role = aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]
    return str(
        aws.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role["Arn"],
            Handler="recorder.handler",
            Code={"ZipFile": _zip(_RECORDER)},
            Environment={"Variables": {"OUT": out}},
        )["FunctionArn"]
    )


def _rule(aws: LocalAws, name: str, target: dict, state: str = "ENABLED") -> None:
    events = aws.client("events")
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [f"test.{name}"]}), State=state)
    events.put_targets(Rule=name, Targets=[{"Id": "t", **target}])


def _put(aws: LocalAws, name: str, detail: dict) -> None:
    aws.client("events").put_events(
        Entries=[
            {"Source": f"test.{name}", "DetailType": "Thing Happened", "Detail": json.dumps(detail)}
        ]
    )


def _wait_for_file(path, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return json.loads(path.read_text())
        time.sleep(0.1)
    raise AssertionError(f"{path} was never written")


def test_lambda_target_gets_the_whole_event_with_account_and_iso_time(aws: LocalAws, tmp_path):
    out = tmp_path / "event.json"
    _rule(aws, "whole", {"Arn": _recorder(aws, "whole", str(out))})

    _put(aws, "whole", {"n": 1})

    event = _wait_for_file(out)
    assert event["detail"] == {"n": 1}
    assert event["detail-type"] == "Thing Happened"
    assert event["account"] == "123456789012"
    assert event["time"].endswith("Z") and "T" in event["time"]


def test_lambda_target_input_path_and_constant_input(aws: LocalAws, tmp_path):
    detail_out, constant_out = tmp_path / "detail.json", tmp_path / "constant.json"
    _rule(aws, "path", {"Arn": _recorder(aws, "path", str(detail_out)), "InputPath": "$.detail"})
    _rule(
        aws,
        "const",
        {"Arn": _recorder(aws, "const", str(constant_out)), "Input": '{"fixed": true}'},
    )

    _put(aws, "path", {"n": 2})
    _put(aws, "const", {"n": 3})

    assert _wait_for_file(detail_out) == {"n": 2}
    assert _wait_for_file(constant_out) == {"fixed": True}


def test_disabled_rule_delivers_nothing(aws: LocalAws, tmp_path):
    out = tmp_path / "never.json"
    _rule(aws, "off", {"Arn": _recorder(aws, "off", str(out))}, state="DISABLED")

    _put(aws, "off", {"n": 4})
    time.sleep(1.5)

    assert not out.exists()


def test_state_machine_target_starts_an_execution_with_the_transformed_input(aws: LocalAws):
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="target",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    _rule(
        aws,
        "sfn",
        {
            "Arn": machine,
            "RoleArn": "arn:aws:iam::123456789012:role/events",
            "InputTransformer": {
                "InputPathsMap": {"key": "$.detail.key"},
                "InputTemplate": '{"workload_input": {"object": <key>}}',
            },
        },
    )

    _put(aws, "sfn", {"key": "reports/today.csv"})

    deadline = time.monotonic() + 10
    executions: list = []
    while not executions and time.monotonic() < deadline:
        executions = sfn.list_executions(stateMachineArn=machine)["executions"]
        time.sleep(0.1)
    assert len(executions) == 1
    described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(described["input"]) == {"workload_input": {"object": "reports/today.csv"}}


def test_input_template_quotes_as_eventbridge_does():
    from types import SimpleNamespace

    from emulator.events import target_input

    rule = SimpleNamespace(arn="arn:aws:events:us-east-1:123456789012:rule/r", name="r")
    event = {"detail": {"key": 'a "b".csv', "size": 3, "tags": {"x": 1}}}
    target = {
        "InputTransformer": {
            "InputPathsMap": {
                "key": "$.detail.key",
                "size": "$.detail.size",
                "tags": "$.detail.tags",
            },
            "InputTemplate": '{"object": <key>, "note": "got <key> (<size> bytes)", "tags": <tags>,'
            ' "rule": "<aws.events.rule-name>"}',
        }
    }

    assert target_input(target, event, rule) == {
        "object": 'a "b".csv',
        "note": 'got a "b".csv (3 bytes)',
        "tags": {"x": 1},
        "rule": "r",
    }
