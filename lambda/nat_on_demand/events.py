"""Schemas of what the handlers accept: the events the state machine sends and a run's input.

Validation uses Powertools (JSON Schema, fastjsonschema underneath). Errors are
re-raised as domain errors whose message names the offending field, e.g.
`execution input: run_label must match pattern ...`.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.validation import SchemaValidationError, validate

from nat_on_demand.errors import InvalidEvent, InvalidRunInput

# An execution's name: 1-80 characters, none of them whitespace, brackets,
# wildcards, control characters or any of "#%\^|~`$&,;:/ (Step Functions'
# rules).
# ($ is written \x24: the schema library turns every "$" into an end anchor.)
EXECUTION_NAME = r"[^\s<>{}\[\]?*\"#%\\^|~`\x24&,;:/\x00-\x1f\x7f-\x9f]{1,80}"
EXECUTION_ARN = (
    r"^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:execution:[A-Za-z0-9_.-]{1,80}:"
    + EXECUTION_NAME
    + "$"
)
NAT_GATEWAY_ID = r"^nat-[0-9a-f]{8,17}$"

# An execution ARN is at most 256 characters (names of 80 and less).
_EXECUTION_ARN_PROPERTY = {"type": "string", "pattern": EXECUTION_ARN, "maxLength": 256}

# Step Functions fails a state whose data passes 256 KiB with
# States.DataLimitExceeded, which a Catch on States.ALL does not catch. A run
# carries its workload_input from Acquire to the workload, next to the
# workload's output: bounding the input keeps that room for the output.
MAX_WORKLOAD_INPUT_BYTES = 64 * 1024

# The longest a `hold` window may be asked for; the module's workload timeout
# bounds it further (checked in workloads.run_settings).
MAX_HOLD_SECONDS = 86400

# What a run accepts as its execution input (StartExecution, schedules, rules).
RUN_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        # The workload's own input; its shape depends on the workload type
        # (workloads.run_settings checks it).
        "workload_input": {},
        # Length of a `hold` window for this run, overriding workload.hold_seconds.
        "hold_seconds": {"type": "integer", "minimum": 1, "maximum": MAX_HOLD_SECONDS},
        # A free-form name for logs and the lease, e.g. "nightly-sync".
        "run_label": {
            "type": "string",
            "minLength": 1,
            "maxLength": 80,
            "pattern": r"^[A-Za-z0-9 _.:/=+@-]+$",
        },
    },
}

ACTIONS = ("acquire", "poll", "attach_routes", "check_workload", "release")

_ACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["action"],
    "properties": {"action": {"enum": list(ACTIONS)}},
}

CONTROLLER_SCHEMAS: dict[str, dict[str, Any]] = {
    "acquire": {
        "type": "object",
        "additionalProperties": False,
        "required": ["action", "execution_arn", "execution_input"],
        "properties": {
            "action": {"const": "acquire"},
            "execution_arn": _EXECUTION_ARN_PROPERTY,
            "execution_input": {},
        },
    },
    "poll": {
        "type": "object",
        "additionalProperties": False,
        "required": ["action", "execution_arn", "nat_gateway_id", "deadline"],
        "properties": {
            "action": {"const": "poll"},
            "execution_arn": _EXECUTION_ARN_PROPERTY,
            # null while the run waits for an earlier NAT Gateway to be deleted.
            "nat_gateway_id": {
                "anyOf": [{"type": "null"}, {"type": "string", "pattern": NAT_GATEWAY_ID}]
            },
            "deadline": {"type": "number", "minimum": 0},
        },
    },
    "attach_routes": {
        "type": "object",
        "additionalProperties": False,
        "required": ["action", "execution_arn", "nat_gateway_id"],
        "properties": {
            "action": {"const": "attach_routes"},
            "execution_arn": _EXECUTION_ARN_PROPERTY,
            "nat_gateway_id": {"type": "string", "pattern": NAT_GATEWAY_ID},
        },
    },
    "check_workload": {
        "type": "object",
        "additionalProperties": False,
        "required": ["action", "execution_arn", "workload"],
        "properties": {
            "action": {"const": "check_workload"},
            "execution_arn": _EXECUTION_ARN_PROPERTY,
            # {"task": <ecs:runTask.sync output>} or the {"Error", "Cause"} of a Catch.
            "workload": {"type": "object"},
        },
    },
    "release": {
        "type": "object",
        "additionalProperties": False,
        "required": ["action", "execution_arn"],
        "properties": {
            "action": {"const": "release"},
            "execution_arn": _EXECUTION_ARN_PROPERTY,
            # The error that ended the run, when releasing after one (for metrics).
            "error": {"type": "string", "minLength": 1, "maxLength": 256},
        },
    },
}


# What the state machine sends the egress probe.
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["execution_arn", "nat_gateway_id"],
    "properties": {
        "execution_arn": _EXECUTION_ARN_PROPERTY,
        "nat_gateway_id": {"type": "string", "pattern": NAT_GATEWAY_ID},
    },
}


def _describe(error: SchemaValidationError, subject: str) -> str:
    detail = error.validation_message or str(error)
    if detail.startswith("data."):
        detail = detail[len("data.") :]
    elif detail.startswith("data "):
        detail = "the value " + detail[len("data ") :]
    return f"{subject}: {detail}"


def parse_controller_event(event: Any) -> dict[str, Any]:
    """The event if it is one the controller handles; InvalidEvent naming the field if not."""
    try:
        validate(event=event, schema=_ACTION_SCHEMA)
        action = event["action"]
        return dict(validate(event=event, schema=CONTROLLER_SCHEMAS[action]))
    except SchemaValidationError as error:
        raise InvalidEvent(_describe(error, "controller event")) from error


def parse_probe_event(event: Any) -> dict[str, Any]:
    """The probe's event if well formed; InvalidEvent naming the field if not."""
    try:
        return dict(validate(event=event, schema=PROBE_SCHEMA))
    except SchemaValidationError as error:
        raise InvalidEvent(_describe(error, "probe event")) from error


def check_run_input_part(value: Any, schema: dict[str, Any], subject: str) -> None:
    """InvalidRunInput naming the field when `value` (part of a run's input) breaks `schema`.

    `subject` names the part, e.g. "execution input: workload_input".
    """
    try:
        validate(event=value, schema=schema)
    except SchemaValidationError as error:
        raise InvalidRunInput(_describe(error, subject)) from error


def parse_run_input(execution_input: Any) -> dict[str, Any]:
    """A run's execution input with defaults filled in; InvalidRunInput naming the field if bad."""
    try:
        run_input = dict(validate(event=execution_input, schema=RUN_INPUT_SCHEMA))
    except SchemaValidationError as error:
        raise InvalidRunInput(_describe(error, "execution input")) from error
    run_input.setdefault("workload_input", {})
    # Step Functions counts UTF-8 bytes: non-ASCII characters stay unescaped.
    text = json.dumps(run_input["workload_input"], separators=(",", ":"), ensure_ascii=False)
    size = len(text.encode())
    if size > MAX_WORKLOAD_INPUT_BYTES:
        raise InvalidRunInput(
            f"execution input: workload_input is {size} bytes as JSON, more than "
            f"{MAX_WORKLOAD_INPUT_BYTES}; pass a reference (an S3 key, say) instead"
        )
    return run_input


def check_execution_of(execution_arn: str, state_machine_arn: str | None) -> None:
    """InvalidEvent unless `execution_arn` is an execution of `state_machine_arn`.

    Only this instance's state machine invokes its controller; an event naming
    another's execution would make a holder that no run of this one releases.
    """
    if state_machine_arn is None:
        return
    prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"
    if not execution_arn.startswith(prefix):
        raise InvalidEvent(
            f"controller event: execution_arn {execution_arn[:256]} is not an execution of "
            f"{state_machine_arn}"
        )


_STATUS_CHANGE = "Step Functions Execution Status Change"

REAPER_SCHEMAS: dict[str, dict[str, Any]] = {
    # What EventBridge sends for an execution of the state machine that ended
    # without its own cleanup (the module's rule matches these statuses).
    "status_change": {
        "type": "object",
        "required": ["detail-type", "source", "detail"],
        "properties": {
            "detail-type": {"const": _STATUS_CHANGE},
            "source": {"const": "aws.states"},
            "detail": {
                "type": "object",
                "required": ["executionArn", "status"],
                "properties": {
                    "executionArn": _EXECUTION_ARN_PROPERTY,
                    "status": {"enum": ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]},
                },
            },
        },
    },
    # What the module's schedule sends, or a person invoking the reaper.
    "sweep": {
        "type": "object",
        "additionalProperties": False,
        "required": ["reason"],
        "properties": {"reason": {"enum": ["schedule", "manual"]}},
    },
}


def parse_reaper_event(event: Any) -> dict[str, Any]:
    """{"trigger": ..., "execution_arn"?, "status"?} for a status change or a sweep request."""
    kind = "status_change" if isinstance(event, dict) and "detail-type" in event else "sweep"
    try:
        validate(event=event, schema=REAPER_SCHEMAS[kind])
    except SchemaValidationError as error:
        raise InvalidEvent(_describe(error, "reaper event")) from error
    if kind == "sweep":
        return {"trigger": event["reason"]}
    detail = event["detail"]
    return {
        "trigger": "status_change",
        "execution_arn": detail["executionArn"],
        "status": detail["status"],
    }
