"""Step Functions' optimized ECS and nested-execution integrations, as AWS runs them.

moto's ASL interpreter has `ecs:runTask(.sync)` and
`states:startExecution(.sync/.sync:2)`, but they fail before reaching the
service: its parameter and response normalisation is empty, so `Cluster`,
`TaskDefinition` or `StateMachineArn` never become boto's `cluster`,
`taskDefinition`, `stateMachineArn` (and the code then reads `Tasks` from a
response that says `tasks`). This module fills in what AWS does:

- parameters in Step Functions' PascalCase reach the service API in its own
  casing, and results come back in PascalCase with timestamps as epoch
  milliseconds (the form AWS's optimized integrations return);
- runTask.sync fails with `AmazonECS.Unknown` when RunTask answers with
  Failures, and with `States.TaskFailed` (the stopped task as JSON in the
  cause) when a container of the stopped task exited non-zero or never ran;
  otherwise its result is the stopped task;
- when a .sync state ends without its job ending (the state timed out, the
  execution was stopped), Step Functions stops the job: StopTask for an ECS
  task, StopExecution for a nested execution. This is why AWS's documented
  policies for these integrations include ecs:StopTask and
  states:StopExecution.

`install()` is idempotent.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.model import Shape
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_ecs,
    state_task_service_sfn,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

StateTaskServiceEcs = state_task_service_ecs.StateTaskServiceEcs
StateTaskServiceSfn = state_task_service_sfn.StateTaskServiceSfn

_log = logging.getLogger(__name__)
_install_lock = threading.Lock()
_installed = threading.Event()

# Error names of the optimized ECS integration (Step Functions developer guide,
# "Run Amazon ECS or Fargate tasks with Step Functions").
ECS_FAILURES_ERROR = "AmazonECS.Unknown"
TASK_FAILED_ERROR = "States.TaskFailed"


def install() -> None:
    """Patch moto's ECS and Step Functions task integrations once."""
    with _install_lock:
        if _installed.is_set():
            return
        _installed.set()
        for service in (StateTaskServiceEcs, StateTaskServiceSfn):
            _wrap(service, "_normalise_parameters", _to_service_casing)
            _wrap(service, "_normalise_response", _to_sfn_casing)
            _wrap(service, "_eval_integration_pattern", _stop_job_left_running)
        StateTaskServiceEcs._eval_service_task = _run_task  # type: ignore[method-assign]
        StateTaskServiceEcs._build_sync_resolver = _ecs_sync_resolver  # type: ignore[method-assign]


def _wrap(owner: type, name: str, wrapper: Callable[..., Any]) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        return wrapper(original, self, *args, **kwargs)

    setattr(owner, name, patched)


# --- casing ------------------------------------------------------------------


@functools.cache
def _operation_shapes(service: str, action: str) -> tuple[Shape, Shape]:
    """Input and output shapes of a service API action (`run_task` -> RunTask)."""
    model = botocore.session.get_session().get_service_model(service)
    names = {_snake(name): name for name in model.operation_names}
    operation = model.operation_model(names[action])
    assert operation.input_shape is not None and operation.output_shape is not None
    return operation.input_shape, operation.output_shape


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _to_service_casing(
    original: Callable[..., None],
    service: Any,
    parameters: dict[str, Any],
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    """`Cluster`, `NetworkConfiguration.AwsvpcConfiguration.Subnets`... as the API names them.

    AWS: "Parameters in Step Functions are expressed in PascalCase, even if the
    native service API is in camelCase".
    """
    original(service, parameters, boto_service_name, service_action_name)
    input_shape, _ = _operation_shapes(
        service._get_boto_service_name(boto_service_name),
        service._get_boto_service_action(service_action_name),
    )
    service._to_boto_request(parameters, input_shape)


def _to_sfn_casing(
    original: Callable[..., None],
    service: Any,
    response: Any,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    """The service's answer in PascalCase, timestamps as epoch milliseconds."""
    original(service, response, boto_service_name, service_action_name)
    if not isinstance(response, dict):
        return
    _, output_shape = _operation_shapes(
        service._get_boto_service_name(boto_service_name),
        service._get_boto_service_action(service_action_name),
    )
    service._from_boto_response(response, output_shape)
    _epoch_millis_in_place(response)


def _epoch_millis_in_place(value: Any) -> None:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in list(items):
        if isinstance(item, datetime.datetime):
            value[key] = int(item.timestamp() * 1000)
        elif isinstance(item, dict | list):
            _epoch_millis_in_place(item)


# --- ecs:runTask(.sync) ------------------------------------------------------


def _run_task(
    self: StateTaskServiceEcs,
    env: Environment,
    resource_runtime_part: Any,
    normalised_parameters: dict[str, Any],
    state_credentials: Any,
) -> None:
    """RunTask; for .sync, Failures fail the state and the result is the task as described."""
    ecs = boto_client_for(
        region=resource_runtime_part.region, service="ecs", state_credentials=state_credentials
    )
    action = self._get_boto_service_action()
    response = getattr(ecs, action)(**normalised_parameters)
    response.pop("ResponseMetadata", None)
    self._normalise_response(response=response, service_action_name=action)
    if action != "run_task" or self.resource.condition is None:
        env.stack.append(response)
        return
    if response.get("Failures") or not response.get("Tasks"):
        # AWS: "If a non-empty Failures field is encountered, the task is
        # failed with an AmazonECS.Unknown error."
        raise _failure(self, env, ECS_FAILURES_ERROR, to_json_str(response))
    task = response["Tasks"][0]
    described = ecs.describe_tasks(cluster=task["ClusterArn"], tasks=[task["TaskArn"]])
    described.pop("ResponseMetadata", None)
    self._normalise_response(response=described, service_action_name="describe_tasks")
    env.stack.append(described)


def _ecs_sync_resolver(
    self: StateTaskServiceEcs,
    env: Environment,
    resource_runtime_part: Any,
    normalised_parameters: dict[str, Any],
    state_credentials: Any,
) -> Callable[[], Any]:
    """Poll the task until STOPPED; fail the state unless every container exited 0."""
    ecs = boto_client_for(
        region=resource_runtime_part.region, service="ecs", state_credentials=state_credentials
    )
    submitted: dict[str, Any] = env.stack.pop()
    task_arn = submitted["Tasks"][0]["TaskArn"]
    cluster_arn = submitted["Tasks"][0]["ClusterArn"]

    def resolve() -> dict[str, Any] | None:
        described = ecs.describe_tasks(cluster=cluster_arn, tasks=[task_arn])
        described.pop("ResponseMetadata", None)
        if described["tasks"][0]["lastStatus"] != "STOPPED":
            return None
        self._normalise_response(response=described, service_action_name="describe_tasks")
        task: dict[str, Any] = described["Tasks"][0]
        containers = task.get("Containers") or []
        if not containers or any(c.get("ExitCode") != 0 for c in containers):
            # AWS fails runTask.sync when a container of the stopped task
            # exited non-zero (essential or not) or never ran.
            raise _failure(self, env, TASK_FAILED_ERROR, to_json_str(task))
        return task

    return resolve


def _failure(service: Any, env: Environment, error: str, cause: str) -> FailureEventException:
    return FailureEventException(
        FailureEvent(
            env=env,
            error_name=(
                StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed)
                if error == TASK_FAILED_ERROR
                else CustomErrorName(error)
            ),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(
                taskFailedEventDetails=TaskFailedEventDetails(
                    error=error,
                    cause=cause,
                    resource=service._get_sfn_resource(),
                    resourceType=service._get_sfn_resource_type(),
                )
            ),
        )
    )


# --- stopping a job its state no longer waits for ------------------------------


def _stop_job_left_running(
    original: Callable[..., None], service: Any, env: Environment, *args: Any, **kwargs: Any
) -> None:
    call = inspect.signature(original).bind(service, env, *args, **kwargs)
    resource_runtime_part = call.arguments["resource_runtime_part"]
    state_credentials = call.arguments["state_credentials"]
    submitted = env.stack[-1] if env.stack else None
    try:
        original(service, env, *args, **kwargs)
    finally:
        waiting = service.resource.condition in (ResourceCondition.Sync, ResourceCondition.Sync2)
        # The state's frame ends when its TimeoutSeconds passes or the
        # execution is stopped; the job it started would run on.
        if waiting and not env.is_running() and isinstance(submitted, dict):
            _stop_job(service, resource_runtime_part.region, submitted, state_credentials)


def _stop_job(service: Any, region: str, submitted: dict[str, Any], credentials: Any) -> None:
    try:
        if isinstance(service, StateTaskServiceEcs) and submitted.get("Tasks"):
            task = submitted["Tasks"][0]
            boto_client_for(region=region, service="ecs", state_credentials=credentials).stop_task(
                cluster=task["ClusterArn"],
                task=task["TaskArn"],
                reason="Task stopped by AWS Step Functions: the state ended before the task",
            )
        elif isinstance(service, StateTaskServiceSfn) and submitted.get("ExecutionArn"):
            client = boto_client_for(
                region=region, service="stepfunctions", state_credentials=credentials
            )
            client.stop_execution(executionArn=submitted["ExecutionArn"])
    except Exception:  # best effort, as on AWS: the state's own error is what counts
        _log.exception("could not stop the job of a .sync state")
