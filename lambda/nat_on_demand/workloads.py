"""The workload of a run: what its input may hold per type, and how its end is judged.

The state machine runs the workload itself, between AttachRoutes and Release:

- lambda: lambda:invoke with `workload_input` as the payload;
- ecs_task: ecs:runTask.sync (Fargate, in the private subnets), the run's
  `command`/`environment` as container overrides;
- state_machine: states:startExecution.sync:2 with `workload_input` as input;
- hold: a Wait state of `hold_seconds` (a patching or maintenance window).

This module checks a run's input against the module's workload type in
Acquire, before anything is created, and turns an ECS task that stopped badly
or a nested execution that failed into one WorkloadFailed naming why.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from nat_on_demand import events
from nat_on_demand.config import Config
from nat_on_demand.errors import ConfigurationError, InvalidRunInput, WorkloadFailed

LAMBDA = "lambda"
ECS_TASK = "ecs_task"
STATE_MACHINE = "state_machine"
HOLD = "hold"
TYPES = (LAMBDA, ECS_TASK, STATE_MACHINE, HOLD)

# ECS refuses RunTask when the overrides exceed 8192 characters of JSON.
_ECS_OVERRIDES_LIMIT = 8192

# What `workload_input` may hold for an ecs_task workload: the container's
# command and extra environment variables. Anything else is a mistake.
ECS_WORKLOAD_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "command": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {"type": "string"},
        },
        "environment": {
            "type": "object",
            "maxProperties": 100,
            "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,254}$"},
            "additionalProperties": {"type": "string"},
        },
    },
}


def run_settings(config: Config, run_input: Mapping[str, Any]) -> dict[str, Any]:
    """What the workload states read from the Acquire result, for this run's input.

    InvalidRunInput names the field when the input does not fit the module's
    workload type (e.g. hold_seconds for a Lambda workload).
    """
    workload_type = config.workload_type
    if workload_type not in TYPES:
        raise ConfigurationError(f"unknown workload type {workload_type!r}")
    if "hold_seconds" in run_input and workload_type != HOLD:
        raise InvalidRunInput(
            "execution input: hold_seconds applies only to workload type hold "
            f"(this module runs {workload_type})"
        )
    if workload_type == HOLD:
        return {"hold_seconds": _hold_seconds(config, run_input)}
    if workload_type == ECS_TASK:
        return {"ecs_overrides": ecs_overrides(config, run_input.get("workload_input", {}))}
    return {}


def state_input(config: Config, workload_input: Any) -> dict[str, Any] | None:
    """What the state machine's RunWorkload reads at $.workload.

    lambda and state_machine workloads get the workload_input as it came; an
    ECS task's overrides are in the run settings, and a hold takes none.
    """
    if config.workload_type in (LAMBDA, STATE_MACHINE):
        return {"input": workload_input}
    return None


def _hold_seconds(config: Config, run_input: Mapping[str, Any]) -> int:
    if run_input.get("workload_input", {}) != {}:
        raise InvalidRunInput(
            "execution input: workload_input is not used by workload type hold; "
            "set hold_seconds to change the window"
        )
    seconds = run_input.get("hold_seconds", config.hold_seconds)
    if seconds is None:
        raise ConfigurationError("workload type hold needs NAT_ON_DEMAND_HOLD_SECONDS")
    if seconds > config.workload_timeout_seconds:
        raise InvalidRunInput(
            f"execution input: hold_seconds must be at most {config.workload_timeout_seconds} "
            "(the module's workload timeout)"
        )
    return int(seconds)


def ecs_overrides(config: Config, workload_input: Any) -> dict[str, Any]:
    """RunTask's Overrides for this run: the command and environment it asks for, or {}."""
    events.check_run_input_part(
        workload_input, ECS_WORKLOAD_INPUT_SCHEMA, "execution input: workload_input"
    )
    if not workload_input:
        return {}
    if config.ecs_container_name is None:
        raise InvalidRunInput(
            "execution input: workload_input.command and .environment override a container, "
            "and the module names none (set workload.ecs.container_name)"
        )
    override: dict[str, Any] = {"Name": config.ecs_container_name}
    if "command" in workload_input:
        override["Command"] = list(workload_input["command"])
    if "environment" in workload_input:
        override["Environment"] = [
            {"Name": name, "Value": value}
            for name, value in sorted(workload_input["environment"].items())
        ]
    overrides = {"ContainerOverrides": [override]}
    if len(json.dumps(overrides, separators=(",", ":"), ensure_ascii=False)) > _ECS_OVERRIDES_LIMIT:
        raise InvalidRunInput(
            "execution input: workload_input is too large for ECS container overrides "
            f"(at most {_ECS_OVERRIDES_LIMIT} characters of JSON)"
        )
    return overrides


def check(workload_type: str, workload: Mapping[str, Any]) -> dict[str, Any]:
    """Judge how the workload ended: a summary when it succeeded, WorkloadFailed when not.

    `workload` is what the state machine has: {"task": <runTask.sync output>}
    after an ECS task stopped, or the {"Error", "Cause"} a Catch recorded.
    """
    if "Error" in workload:
        raise _failure(workload_type, str(workload["Error"]), str(workload.get("Cause") or ""))
    task = workload.get("task")
    if workload_type != ECS_TASK or not isinstance(task, Mapping):
        raise WorkloadFailed(f"nothing to check for a {workload_type} workload: {dict(workload)}")
    return ecs_task_outcome(task)


def ecs_task_outcome(task: Mapping[str, Any]) -> dict[str, Any]:
    """A stopped ECS task's summary; WorkloadFailed unless every container exited 0.

    A container without an exit code never ran (image pull failure, a stop
    before it started): that fails the run too.
    """
    containers = [c for c in _field(task, "Containers") or [] if isinstance(c, Mapping)]
    summary = {
        "task_arn": _field(task, "TaskArn"),
        "last_status": _field(task, "LastStatus"),
        "stop_code": _field(task, "StopCode"),
        "stopped_reason": _field(task, "StoppedReason"),
        "exit_codes": {str(_field(c, "Name")): _field(c, "ExitCode") for c in containers},
    }
    bad = [c for c in containers if _field(c, "ExitCode") != 0]
    if containers and not bad:
        return summary
    stopped = f"ECS task {summary['task_arn']} stopped"
    if summary["stop_code"] or summary["stopped_reason"]:
        stopped += f" ({summary['stop_code'] or 'no stop code'}: {summary['stopped_reason'] or ''})"
    details = [_container_failure(c) for c in bad] or ["no container ran"]
    raise WorkloadFailed(f"{stopped}: {'; '.join(details)}")


def _container_failure(container: Mapping[str, Any]) -> str:
    name = _field(container, "Name")
    code = _field(container, "ExitCode")
    reason = _field(container, "Reason")
    text = (
        f"container {name} exited with code {code}"
        if code is not None
        else f"container {name} has no exit code (it never ran)"
    )
    return f"{text}, reason: {reason}" if reason else text


def _failure(workload_type: str, error: str, cause: str) -> WorkloadFailed:
    """One clear WorkloadFailed from the error a .sync integration failed the task with.

    Step Functions fails runTask.sync and startExecution.sync:2 with
    States.TaskFailed and puts the stopped task, or the nested execution as
    DescribeExecution returns it, in the cause as JSON.
    """
    detail = _json_object(cause)
    if workload_type == ECS_TASK and detail is not None and _field(detail, "Containers"):
        try:
            ecs_task_outcome(detail)
        except WorkloadFailed as failed:
            return failed
    if workload_type == STATE_MACHINE and detail is not None and _field(detail, "Status"):
        return WorkloadFailed(
            f"nested execution {_field(detail, 'ExecutionArn')} ended {_field(detail, 'Status')}"
            f": {_field(detail, 'Error') or 'no error'}: {_field(detail, 'Cause') or ''}"
        )
    return WorkloadFailed(f"the {workload_type} workload failed: {error}: {cause}")


def _json_object(text: str) -> Mapping[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, Mapping) else None


def _field(value: Mapping[str, Any], name: str) -> Any:
    """`name` in Step Functions' PascalCase, or in the service API's camelCase."""
    if name in value:
        return value[name]
    return value.get(name[:1].lower() + name[1:])
