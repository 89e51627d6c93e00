"""The local AWS runs Step Functions the way AWS does where this project depends on it.

Each test names the AWS behaviour it checks; see emulator/stepfunctions.py
for the patches that make moto's ASL interpreter behave so.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.backend.execution import Execution

from emulator import stepfunctions
from emulator.server import ACCOUNT_ID, REGION, LocalAws

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/sfn"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
STATUS_CHANGE = "Step Functions Execution Status Change"

# A definition shaped like the module's workflow: tasks with Retry/Catch, a
# Choice on a NAT Gateway's state, a Wait loop, a Parallel and a Map.
VALID: dict[str, Any] = {
    "StartAt": "Acquire",
    "States": {
        "Acquire": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "acquire", "Payload.$": "$"},
            "ResultSelector": {"NatGateways.$": "$.Payload.NatGateways"},
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Boom"}],
            "Next": "Ready?",
        },
        "Ready?": {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.NatGateways[0].State",
                    "StringEquals": "available",
                    "Next": "Both",
                }
            ],
            "Default": "Poll",
        },
        "Poll": {"Type": "Wait", "Seconds": 5, "Next": "Acquire"},
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "M",
                    "States": {
                        "M": {
                            "Type": "Map",
                            "ItemsPath": "$.NatGateways",
                            "ItemProcessor": {
                                "StartAt": "Item",
                                "States": {"Item": {"Type": "Pass", "End": True}},
                            },
                            "End": True,
                        }
                    },
                },
            ],
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "Boom": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    },
}


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws() as local_aws:
        yield local_aws


@pytest.fixture(scope="module")
def sfn(aws: LocalAws) -> Any:
    return aws.client("stepfunctions")


def _machine(sfn: Any, definition: dict[str, Any], **kwargs: Any) -> str:
    name = f"sm-{uuid.uuid4().hex[:12]}"
    created = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE_ARN, **kwargs
    )
    return str(created["stateMachineArn"])


def _finished(sfn: Any, execution_arn: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def _run(sfn: Any, machine_arn: str, payload: Any = None, **kwargs: Any) -> dict[str, Any]:
    started = sfn.start_execution(
        stateMachineArn=machine_arn, input=json.dumps(payload or {}), **kwargs
    )
    return _finished(sfn, started["executionArn"])


def _output(described: dict[str, Any]) -> Any:
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


def _validate(sfn: Any, definition: Any, **kwargs: Any) -> dict[str, Any]:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    answer: dict[str, Any] = sfn.validate_state_machine_definition(definition=text, **kwargs)
    answer.pop("ResponseMetadata")
    return answer


def _pass(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True, **fields}}}


# --- ValidateStateMachineDefinition (the aws provider calls it at plan) -------


def test_install_is_idempotent() -> None:
    stepfunctions.install()
    start = Execution.start
    stepfunctions.install()
    assert Execution.start is start


def test_validate_accepts_a_valid_definition(sfn: Any) -> None:
    assert _validate(sfn, VALID) == {"result": "OK", "diagnostics": [], "truncated": False}
    assert _validate(sfn, VALID, severity="WARNING", maxResults=0)["result"] == "OK"


@pytest.mark.parametrize(
    ("definition", "code", "location"),
    [
        ('{"StartAt": "P", "States": {', "INVALID_JSON_DESCRIPTION", None),
        ("   ", "MISSING_DESCRIPTION", None),
        (_pass(Type="Bogus"), "SCHEMA_VALIDATION_FAILED", None),
        ({"StartAt": "T", "States": {"T": {"Type": "Task", "End": True}}}, None, None),
        ({"States": {"P": {"Type": "Pass", "End": True}}}, "SCHEMA_VALIDATION_FAILED", None),
        ({**_pass(), "StartAt": "Nope"}, "MISSING_TRANSITION_TARGET", "/StartAt"),
        (
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Nope"}}},
            "MISSING_TRANSITION_TARGET",
            "/States/P/Next",
        ),
        (
            {**VALID, "States": {**VALID["States"], "Poll": {"Type": "Wait", "Seconds": 1}}},
            "SCHEMA_VALIDATION_FAILED",
            "/States/Poll",
        ),
        (
            {
                **VALID,
                "States": {
                    **VALID["States"],
                    "Ready?": {**VALID["States"]["Ready?"], "Default": "Pol"},
                },
            },
            "MISSING_TRANSITION_TARGET",
            "/States/Ready?/Default",
        ),
        (
            {
                "StartAt": "Par",
                "States": {
                    "Par": {
                        "Type": "Parallel",
                        "Branches": [
                            {
                                "StartAt": "T",
                                "States": {
                                    "T": {
                                        "Type": "Task",
                                        "Resource": "arn:aws:states:::dynamodb:putItem",
                                        "Parameters": {"TableName": "t", "Item": {}},
                                        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Out"}],
                                        "End": True,
                                    }
                                },
                            }
                        ],
                        "Next": "Out",
                    },
                    "Out": {"Type": "Succeed"},
                },
            },
            "MISSING_TRANSITION_TARGET",
            "/States/Par/Branches/0/States/T/Catch/0/Next",
        ),
        (
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}},
            "MISSING_END_STATE",
            "/",
        ),
    ],
)
def test_validate_fails_clearly_on_an_invalid_definition(
    sfn: Any, definition: Any, code: str | None, location: str | None
) -> None:
    # The aws provider fails the plan when result != OK, printing each
    # diagnostic as "SEVERITY (CODE): MESSAGE" (state_machine.go,
    # stateMachineDefinitionValidate).
    answer = _validate(sfn, definition)
    assert answer["result"] == "FAIL"
    assert answer["truncated"] is False
    assert answer["diagnostics"]
    for diagnostic in answer["diagnostics"]:
        assert diagnostic["severity"] == "ERROR"
        assert diagnostic["message"]
    first = answer["diagnostics"][0]
    assert first["code"] == (code or "SCHEMA_VALIDATION_FAILED")
    assert first.get("location") == location


def test_validate_express_refuses_what_express_cannot_run(sfn: Any) -> None:
    nested = _pass()
    nested["States"]["P"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x"},
        "End": True,
    }
    assert _validate(sfn, nested)["result"] == "OK"
    assert _validate(sfn, nested, type="EXPRESS")["result"] == "FAIL"


def test_validate_inputs_as_the_api_model_says(sfn: Any) -> None:
    three_bad = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "X"},
            "B": {"Type": "Pass", "Next": "Y"},
            "C": {"Type": "Pass", "Next": "Z"},
        },
    }
    everything = _validate(sfn, three_bad)
    assert len(everything["diagnostics"]) == 4  # three targets, no end state
    capped = _validate(sfn, three_bad, maxResults=2)
    assert capped["result"] == "FAIL"
    assert capped["truncated"] is True
    assert capped["diagnostics"] == everything["diagnostics"][:2]
    for bad in ({"severity": "FATAL"}, {"type": "BATCH"}, {"maxResults": 101}):
        with pytest.raises(ClientError) as raised:
            _validate(sfn, VALID, **bad)
        assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_create_refuses_a_transition_to_nowhere(sfn: Any) -> None:
    # AWS refuses at create what validation fails, with InvalidDefinition.
    for definition in ({**_pass(), "StartAt": "Nope"}, _pass(Type="Bogus")):
        with pytest.raises(ClientError) as raised:
            _machine(sfn, definition)
        error = raised.value.response["Error"]
        assert error["Code"] == "InvalidDefinition"
        assert error["Message"].startswith("Invalid State Machine Definition: '")


# --- ListStateMachineVersions (the aws provider calls it after create) ---------


def test_list_versions_newest_first_and_paginated(sfn: Any) -> None:
    unpublished = _machine(sfn, _pass())
    assert (
        sfn.list_state_machine_versions(stateMachineArn=unpublished)["stateMachineVersions"] == []
    )

    arn = _machine(sfn, _pass(), publish=True)
    published = [f"{arn}:1"]
    for result in ("two", "three"):
        updated = sfn.update_state_machine(
            stateMachineArn=arn, definition=json.dumps(_pass(Result=result)), publish=True
        )
        published.append(updated["stateMachineVersionArn"])
    assert published == [f"{arn}:1", f"{arn}:2", f"{arn}:3"]

    listed = sfn.list_state_machine_versions(stateMachineArn=arn)
    assert [v["stateMachineVersionArn"] for v in listed["stateMachineVersions"]] == [
        f"{arn}:3",
        f"{arn}:2",
        f"{arn}:1",
    ]
    assert all(
        isinstance(v["creationDate"], datetime.datetime) for v in listed["stateMachineVersions"]
    )
    assert "nextToken" not in listed

    first = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=2)
    second = sfn.list_state_machine_versions(
        stateMachineArn=arn, maxResults=2, nextToken=first["nextToken"]
    )
    assert [v["stateMachineVersionArn"] for v in first["stateMachineVersions"]] == [
        f"{arn}:3",
        f"{arn}:2",
    ]
    assert [v["stateMachineVersionArn"] for v in second["stateMachineVersions"]] == [f"{arn}:1"]
    assert "nextToken" not in second

    with pytest.raises(ClientError) as raised:
        sfn.list_state_machine_versions(stateMachineArn=arn, nextToken="garbage")
    assert raised.value.response["Error"]["Code"] == "InvalidToken"
    with pytest.raises(ClientError) as raised:
        sfn.list_state_machine_versions(stateMachineArn="not-an-arn")
    assert raised.value.response["Error"]["Code"] == "InvalidArn"


# --- Executions started without a name -----------------------------------------


def test_unnamed_executions_get_a_uuid(sfn: Any) -> None:
    arn = _machine(sfn, _pass(Parameters={"name.$": "$$.Execution.Name"}))
    first = _run(sfn, arn)
    second = _run(sfn, arn)  # moto: ExecutionAlreadyExists for ".../None"
    for described in (first, second):
        assert UUID.match(described["name"])
        assert described["executionArn"].endswith(f":{described['name']}")
        assert _output(described) == {"name": described["name"]}
    assert first["name"] != second["name"]

    with pytest.raises(ClientError) as raised:
        sfn.start_execution(stateMachineArn=arn, name="has space")
    assert raised.value.response["Error"]["Code"] == "InvalidName"


# --- JSONPath: a definite path yields a value, an indefinite one a list --------


def test_choice_on_an_index_then_a_field(sfn: Any) -> None:
    arn = _machine(
        sfn,
        {
            "StartAt": "Ready?",
            "States": {
                "Ready?": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "Variable": "$.NatGateways[0].State",
                            "StringEquals": "available",
                            "Next": "Yes",
                        }
                    ],
                    "Default": "No",
                },
                "Yes": {"Type": "Pass", "Result": "yes", "End": True},
                "No": {"Type": "Pass", "Result": "no", "End": True},
            },
        },
    )
    gateways = {"NatGateways": [{"State": "available"}, {"State": "pending"}]}
    assert _output(_run(sfn, arn, gateways)) == "yes"
    assert _output(_run(sfn, arn, {"NatGateways": [{"State": "pending"}]})) == "no"


def test_parameters_and_input_path(sfn: Any) -> None:
    arn = _machine(
        sfn,
        _pass(
            InputPath="$.wrapper[0]",
            Parameters={
                "definite.$": "$.a[0].b",
                "negative.$": "$.a[-1].b",
                "element.$": "$.a[0]",
                "nested.$": "$.a[1].c[0].d",
                "wildcard.$": "$.a[*].b",
                "single_wildcard.$": "$.one[*].b",
                "slice.$": "$.a[0:1]",
                "union.$": "$.a[0,1].b",
            },
        ),
    )
    data = {"a": [{"b": 1}, {"b": 2, "c": [{"d": "deep"}]}], "one": [{"b": 9}]}
    assert _output(_run(sfn, arn, {"wrapper": [data]})) == {
        "definite": 1,
        "negative": 2,
        "element": {"b": 1},
        "nested": "deep",
        "wildcard": [1, 2],
        "single_wildcard": [9],
        "slice": [{"b": 1}],
        "union": [1, 2],
    }


def test_result_selector(sfn: Any) -> None:
    arn = _machine(
        sfn,
        {
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "One",
                            "States": {
                                "One": {"Type": "Pass", "Result": {"v": "first"}, "End": True}
                            },
                        },
                        {
                            "StartAt": "Two",
                            "States": {
                                "Two": {"Type": "Pass", "Result": {"v": "second"}, "End": True}
                            },
                        },
                    ],
                    "ResultSelector": {"first.$": "$[0].v", "all.$": "$[*].v"},
                    "End": True,
                }
            },
        },
    )
    assert _output(_run(sfn, arn)) == {"first": "first", "all": ["first", "second"]}


# --- Context object, errors, retries, timeouts -----------------------------------


def test_context_object_in_parameters(sfn: Any) -> None:
    arn = _machine(
        sfn,
        _pass(
            Parameters={
                "id.$": "$$.Execution.Id",
                "input.$": "$$.Execution.Input",
                "start.$": "$$.Execution.StartTime",
                "entered.$": "$$.State.EnteredTime",
                "state.$": "$$.State.Name",
                "machine.$": "$$.StateMachine.Id",
            }
        ),
    )
    described = _run(sfn, arn, {"job": 7})
    context = _output(described)
    assert context["id"] == described["executionArn"]
    assert context["input"] == {"job": 7}
    assert context["state"] == "P"
    assert context["machine"] == arn
    # AWS: ISO 8601 strings, e.g. 2019-03-26T20:14:13.192Z.
    assert ISO_MILLIS.match(context["start"])
    started = datetime.datetime.fromisoformat(context["start"])
    assert abs((started - described["startDate"]).total_seconds()) < 0.01
    assert datetime.datetime.fromisoformat(context["entered"]) >= started


def test_fail_with_error_path_and_cause_path(sfn: Any) -> None:
    arn = _machine(
        sfn,
        {
            "StartAt": "F",
            "States": {"F": {"Type": "Fail", "ErrorPath": "$.why.e", "CausePath": "$.why.c"}},
        },
    )
    described = _run(sfn, arn, {"why": {"e": "Nat.Failed", "c": "Gateway.NotAttached"}})
    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == ("Nat.Failed", "Gateway.NotAttached")


def test_catch_result_path_keeps_input_and_adds_error_and_cause(sfn: Any) -> None:
    arn = _machine(
        sfn,
        {
            "StartAt": "Put",
            "States": {
                "Put": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:putItem",
                    "Parameters": {"TableName": "no-such-table", "Item": {"pk": {"S": "x"}}},
                    "Catch": [
                        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}
                    ],
                    "Next": "Done",
                },
                "Done": {"Type": "Succeed"},
            },
        },
    )
    output = _output(_run(sfn, arn, {"keep": 1}))
    assert output["keep"] == 1
    assert set(output["error"]) == {"Error", "Cause"}
    assert output["error"]["Error"] == "DynamoDB.ResourceNotFoundException"


def test_retry_on_a_custom_error_name(aws: LocalAws, sfn: Any) -> None:
    # The branch counts its attempts in DynamoDB and fails with a custom error
    # until the third; Retry on that name (not on the other) makes it succeed.
    dynamodb = aws.client("dynamodb")
    table = f"attempts-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    arn = _machine(
        sfn,
        {
            "StartAt": "Attempt",
            "States": {
                "Attempt": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "Count",
                            "States": {
                                "Count": {
                                    "Type": "Task",
                                    "Resource": "arn:aws:states:::dynamodb:updateItem",
                                    "Parameters": {
                                        "TableName": table,
                                        "Key": {"pk": {"S": "run"}},
                                        "UpdateExpression": "ADD attempts :one",
                                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                                        "ReturnValues": "UPDATED_NEW",
                                    },
                                    "ResultSelector": {
                                        "attempts.$": "States.StringToJson($.Attributes.attempts.N)"
                                    },
                                    "Next": "Enough?",
                                },
                                "Enough?": {
                                    "Type": "Choice",
                                    "Choices": [
                                        {
                                            "Variable": "$.attempts",
                                            "NumericLessThan": 3,
                                            "Next": "NotYet",
                                        }
                                    ],
                                    "Default": "Ok",
                                },
                                "NotYet": {"Type": "Fail", "Error": "Nat.NotYet", "Cause": "again"},
                                "Ok": {"Type": "Succeed"},
                            },
                        }
                    ],
                    "Retry": [
                        {"ErrorEquals": ["Other.Error"], "MaxAttempts": 0},
                        {
                            "ErrorEquals": ["Nat.NotYet"],
                            "IntervalSeconds": 1,
                            "MaxAttempts": 3,
                            "BackoffRate": 1.0,
                        },
                    ],
                    "OutputPath": "$[0]",
                    "End": True,
                }
            },
        },
    )
    assert _output(_run(sfn, arn)) == {"attempts": 3}
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "run"}})["Item"]
    assert item["attempts"] == {"N": "3"}


def test_task_timeout_is_states_timeout(aws: LocalAws, sfn: Any) -> None:
    # A callback task nobody answers: TimeoutSeconds ends it with States.Timeout.
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"tokens-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = _machine(
        sfn,
        {
            "StartAt": "Ask",
            "States": {
                "Ask": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "TimeoutSeconds": 1,
                    "Parameters": {
                        "QueueUrl": queue_url,
                        "MessageBody": {"token.$": "$$.Task.Token"},
                    },
                    "Catch": [
                        {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Out"}
                    ],
                    "Next": "Out",
                },
                "Out": {"Type": "Succeed"},
            },
        },
    )
    began = time.monotonic()
    output = _output(_run(sfn, arn))
    assert output["error"]["Error"] == "States.Timeout"
    assert 0.9 < time.monotonic() - began < 5
    message = sqs.receive_message(QueueUrl=queue_url)["Messages"][0]
    assert json.loads(message["Body"])["token"]


def test_stop_during_a_wait_aborts_at_once(sfn: Any) -> None:
    arn = _machine(
        sfn, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}}
    )
    for pause in (0.3, 0.0):  # during the Wait, and straight after StartExecution
        execution_arn = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        time.sleep(pause)
        began = time.monotonic()
        stopped = sfn.stop_execution(executionArn=execution_arn, error="Op.Stop", cause="test")
        described = _finished(sfn, execution_arn, timeout=3)
        assert described["status"] == "ABORTED"
        assert time.monotonic() - began < 2
        # StopExecution answers with the stopDate DescribeExecution reports.
        assert stopped["stopDate"] == described["stopDate"]


# --- "Step Functions Execution Status Change" events ------------------------------


def _drain_queue(sqs: Any, queue_url: str, expected: int, timeout: float = 5.0) -> list[Any]:
    received: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(received) < expected and time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        for message in answer.get("Messages", []):
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if not answer.get("Messages"):
            time.sleep(0.05)
    return received


def _rule_to_queue(aws: LocalAws, pattern: dict[str, Any]) -> str:
    events, sqs = aws.client("events"), aws.client("sqs")
    name = f"sfn-{uuid.uuid4().hex[:8]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return str(queue_url)


def test_status_change_events_reach_eventbridge(aws: LocalAws, sfn: Any) -> None:
    # One machine, four endings: FAILED (Fail), ABORTED (StopExecution during
    # the Wait), TIMED_OUT (the machine's TimeoutSeconds) and SUCCEEDED.
    arn = _machine(
        sfn,
        {
            "TimeoutSeconds": 1,
            "StartAt": "How?",
            "States": {
                "How?": {
                    "Type": "Choice",
                    "Choices": [
                        {"Variable": "$.end", "StringEquals": "fail", "Next": "Fail"},
                        {"Variable": "$.end", "StringEquals": "wait", "Next": "Wait"},
                    ],
                    "Default": "Done",
                },
                "Fail": {"Type": "Fail", "Error": "Nat.Failed", "Cause": "on purpose"},
                "Wait": {"Type": "Wait", "Seconds": 3, "Next": "Done"},
                "Done": {"Type": "Pass", "Result": {"ok": True}, "End": True},
            },
        },
    )
    base = {"source": ["aws.states"], "detail-type": [STATUS_CHANGE]}
    # The reaper's rule: the endings where no Catch runs.
    reaper_queue = _rule_to_queue(
        aws,
        {
            **base,
            "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"], "stateMachineArn": [arn]},
        },
    )
    all_queue = _rule_to_queue(aws, {**base, "detail": {"stateMachineArn": [arn]}})

    arns = {}
    for end in ("fail", "stop", "wait", "succeed"):
        mode = "wait" if end == "stop" else end
        arns[end] = sfn.start_execution(
            stateMachineArn=arn,
            name=f"{end}-{uuid.uuid4().hex[:6]}",
            input=json.dumps({"end": mode}),
        )["executionArn"]
    time.sleep(0.2)
    sfn.stop_execution(executionArn=arns["stop"])
    finals = {end: _finished(sfn, execution_arn)["status"] for end, execution_arn in arns.items()}
    assert finals == {
        "fail": "FAILED",
        "stop": "ABORTED",
        "wait": "TIMED_OUT",
        "succeed": "SUCCEEDED",
    }
    # Every ended execution has a stopDate (moto leaves it out for TIMED_OUT).
    assert "stopDate" in sfn.describe_execution(executionArn=arns["wait"])
    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert all("stopDate" in item for item in listed)
    assert stepfunctions.drain_status_events()

    sqs = aws.client("sqs")
    reaper_events = _drain_queue(sqs, reaper_queue, expected=3)
    assert sorted(
        (e["detail"]["executionArn"], e["detail"]["status"]) for e in reaper_events
    ) == sorted([(arns["fail"], "FAILED"), (arns["stop"], "ABORTED"), (arns["wait"], "TIMED_OUT")])
    for event in reaper_events:
        assert event["source"] == "aws.states"
        assert event["detail-type"] == STATUS_CHANGE
        assert event["region"] == REGION
        assert event["resources"] == [event["detail"]["executionArn"]]
        assert event["detail"]["stateMachineArn"] == arn
    failed = next(e["detail"] for e in reaper_events if e["detail"]["status"] == "FAILED")
    assert (failed["error"], failed["cause"]) == ("Nat.Failed", "on purpose")
    assert failed["output"] is None

    every = _drain_queue(sqs, all_queue, expected=8)
    assert sorted(e["detail"]["status"] for e in every) == sorted(
        ["RUNNING"] * 4 + ["FAILED", "ABORTED", "TIMED_OUT", "SUCCEEDED"]
    )
    running = next(
        e["detail"]
        for e in every
        if e["detail"]["executionArn"] == arns["succeed"] and e["detail"]["status"] == "RUNNING"
    )
    succeeded = next(e["detail"] for e in every if e["detail"]["status"] == "SUCCEEDED")
    assert running["stopDate"] is None
    assert running["output"] is None
    assert json.loads(running["input"]) == {"end": "succeed"}
    assert succeeded["name"] == arns["succeed"].rsplit(":", 1)[1]
    assert json.loads(succeeded["output"]) == {"ok": True}
    assert succeeded["outputDetails"] == {"included": True}
    assert succeeded["inputDetails"] == {"included": True}
    assert isinstance(succeeded["startDate"], int)
    assert succeeded["stopDate"] >= succeeded["startDate"] == running["startDate"]
    assert (succeeded["error"], succeeded["cause"]) == (None, None)
    # Nothing more arrives: one event per status change.
    assert _drain_queue(sqs, all_queue, expected=1, timeout=0.3) == []


def test_fail_state_rethrows_a_caught_states_timeout(aws: LocalAws) -> None:
    definition = {
        "StartAt": "Slow",
        "States": {
            "Slow": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "missing-table", "Key": {"pk": {"S": "x"}}},
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Rethrow"}
                ],
                "End": True,
            },
            "Rethrow": {
                "Type": "Pass",
                "Parameters": {"error": {"Error": "States.Timeout", "Cause": "slow"}},
                "Next": "Fail",
            },
            "Fail": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
        },
    }
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="rethrow",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]

    result = _run(sfn, machine)

    assert (result["status"], result.get("error"), result.get("cause")) == (
        "FAILED",
        "States.Timeout",
        "slow",
    )


def test_states_all_does_not_catch_a_data_limit_exceeded(aws: LocalAws, sfn: Any) -> None:
    # AWS: States.ALL cannot catch the terminal States.DataLimitExceeded; a
    # Catch that names it does. A Lambda returning 300 KB makes a task result
    # over the 256 KiB a state may hold.
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 'x' * 300_000\n")
    function = f"big-{uuid.uuid4().hex[:8]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = aws.client("iam").create_role(
        RoleName=function, AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    aws.client("lambda").create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )

    def caller(catchers: list[dict[str, Any]]) -> str:
        return _machine(
            sfn,
            {
                "StartAt": "Call",
                "States": {
                    "Call": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": function, "Payload": {}},
                        "Catch": [{**c, "ResultPath": "$.error"} for c in catchers],
                        "End": True,
                    },
                    "CaughtByName": {"Type": "Pass", "Result": "by name", "End": True},
                    "CaughtByAll": {"Type": "Pass", "Result": "by States.ALL", "End": True},
                },
            },
        )

    by_all = caller([{"ErrorEquals": ["States.ALL"], "Next": "CaughtByAll"}])
    by_name = caller(
        [
            {"ErrorEquals": ["States.DataLimitExceeded"], "Next": "CaughtByName"},
            {"ErrorEquals": ["States.ALL"], "Next": "CaughtByAll"},
        ]
    )

    uncaught = _finished(sfn, sfn.start_execution(stateMachineArn=by_all)["executionArn"], 60)
    assert (uncaught["status"], uncaught.get("error")) == ("FAILED", "States.DataLimitExceeded")
    caught = _finished(sfn, sfn.start_execution(stateMachineArn=by_name)["executionArn"], 60)
    assert _output(caught) == "by name"
