"""ECS on the local AWS: Fargate tasks that start, run and stop in time, as on AWS.

moto 5.2.5 runs a Fargate task in name only. Where that breaks the module's
ecs_task workload, this layer puts AWS's behaviour back:

- RunTask in awsvpc mode without securityGroups uses the VPC's default
  security group (moto raises KeyError);
- a container definition without `memory` is valid on Fargate, where memory
  is set for the task (moto adds None to an int and fails);
- every network interface has a private DNS name, ip-a-b-c-d.ec2.internal
  (moto sets none when the VPC lacks DNS hostnames, and RunTask then fails);
- a task has one container per container definition (moto: only the first);
- a task lives in time on `settings.clock`: PROVISIONING, PENDING, RUNNING,
  DEPROVISIONING, then STOPPED with stopCode, stoppedReason, timestamps and
  each container's exit code; its network interface goes away when it
  stops. moto jumps to STOPPED on the next describe, exit code 0 from the
  start;
- StopTask stops a running task with stopCode UserInitiated; its containers
  get exit code 143 (SIGTERM) if they were running, none if they never ran.

No container image runs here, so a container's command decides how it ends:
`["sh", "-c", "sleep 2; exit 3"]` runs 2 s and exits 3, as it would on AWS.
Recognised in an `sh -c`/`bash -c` script, separated by `;` or `&&`:
`sleep N`, `exit N`, `true`, `false`; any other statement succeeds at once.
A command that says nothing about time runs `settings.timings.ecs_task_seconds`;
one that says nothing about its exit code exits 0. The task stops when its
first essential container exits; containers still running then get 137
(SIGKILL, as ECS kills them after the stop timeout).

`install()` is idempotent; state lives on the moto task objects, so moto's
backend reset discards it.
"""

from __future__ import annotations

import copy
import datetime
import inspect
import re
import shlex
import threading
from dataclasses import dataclass
from typing import Any

from moto.core.responses import BaseResponse
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ec2.utils import generate_dns_from_ip
from moto.ecs.models import Container, EC2ContainerServiceBackend, Task

from emulator import dispatch, settings

_RUN_ATTR = "_emulator_run"
_DNS_ATTR = "_emulator_private_dns_name"
_SHELLS = ("sh", "/bin/sh", "bash", "/bin/bash")
# What Fargate reports when the essential container of a task exits.
ESSENTIAL_EXITED = ("EssentialContainerExited", "Essential container in task exited")
USER_STOPPED = "UserInitiated"
# 128 + signal number: SIGTERM from StopTask, SIGKILL after ECS's stop timeout.
EXIT_SIGTERM = 143
EXIT_SIGKILL = 137

_lock = threading.RLock()
_originals: dict[str, Any] = {}


@dataclass
class _ContainerPlan:
    """How one container of a task ends, decided from its command when the task starts."""

    name: str
    essential: bool
    seconds: float
    exit_code: int


@dataclass
class _Run:
    """A task's timeline in `settings.clock` seconds."""

    created: float
    running_at: float
    containers: list[_ContainerPlan]
    stopping_at: float
    stopped_at: float
    stop_code: str = ESSENTIAL_EXITED[0]
    stopped_reason: str = ESSENTIAL_EXITED[1]
    stopped_by_user: bool = False


def install() -> None:
    """Patch moto's ECS models and register the time hook; idempotent."""
    with _lock:
        if _originals:
            return
        dispatch.install()
        dispatch.add_hook(_before_action)
        _originals["run_task"] = EC2ContainerServiceBackend.run_task
        _originals["stop_task"] = EC2ContainerServiceBackend.stop_task
        _originals["requirements"] = (
            EC2ContainerServiceBackend._calculate_task_resource_requirements
        )
        _originals["Task.__init__"] = Task.__init__
        EC2ContainerServiceBackend.run_task = _run_task  # type: ignore[method-assign]
        EC2ContainerServiceBackend.stop_task = _stop_task  # type: ignore[method-assign]
        EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(  # type: ignore[method-assign]
            _resource_requirements
        )
        Task.__init__ = _task_init  # type: ignore[method-assign]
        # moto's task status jumps to STOPPED on the next read; a task with a
        # timeline reports the status its timeline gave it.
        managed = Task.last_status
        Task.last_status = property(  # type: ignore[method-assign,assignment]
            lambda task: task._status if hasattr(task, _RUN_ATTR) else managed.fget(task),
            managed.fset,
        )
        NetworkInterface.private_dns_name = property(  # type: ignore[attr-defined]
            _private_dns_name, _set_private_dns_name
        )
        # Fields AWS leaves out until they apply; moto's serializer skips None.
        for attribute in (
            "stop_code",
            "started_at",
            "stopping_at",
            "stopped_at",
            "execution_stopped_at",
            "pull_started_at",
            "pull_stopped_at",
        ):
            setattr(Task, attribute, None)


# --------------------------------------------------------------------------- RunTask


def _run_task(backend: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> list[Task]:
    original = _originals["run_task"]
    call = inspect.signature(original).bind(backend, *args, **kwargs)
    awsvpc = (call.arguments.get("networking_configuration") or {}).get("awsvpcConfiguration")
    if awsvpc and not awsvpc.get("securityGroups"):
        # AWS: "If you don't specify a security group, the default security
        # group for the VPC is used."
        awsvpc = {**awsvpc, "securityGroups": [_default_security_group(backend, awsvpc)]}
        call.arguments["networking_configuration"] = {"awsvpcConfiguration": awsvpc}
    with _lock:
        tasks: list[Task] = original(*call.args, **call.kwargs)
        for task in tasks:
            _start(backend, task)
    return tasks


def _default_security_group(backend: EC2ContainerServiceBackend, awsvpc: dict[str, Any]) -> str:
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    vpc_id = ec2.get_subnet(awsvpc["subnets"][0]).vpc_id
    group = ec2.get_default_security_group(vpc_id)
    assert group is not None, f"VPC {vpc_id} has no default security group"
    return str(group.id)


def _resource_requirements(task_definition: Any) -> dict[str, Any]:
    # Fargate takes memory per task; a container definition may leave it out.
    patched = copy.copy(task_definition)
    patched.container_definitions = [
        {**d, "memory": d.get("memory") or d.get("memoryReservation") or 0}
        if "Memory" not in d and "MemoryReservation" not in d
        else d
        for d in task_definition.container_definitions
    ]
    result: dict[str, Any] = _originals["requirements"](patched)
    return result


def _task_init(task: Task, cluster: Any, task_definition: Any, *args: Any, **kwargs: Any) -> None:
    _originals["Task.__init__"](task, cluster, task_definition, *args, **kwargs)
    task.containers = [
        _container(task_definition, d) for d in task_definition.container_definitions
    ]
    task.created_at = utcnow()  # type: ignore[attr-defined]
    task.cpu = task_definition.cpu  # type: ignore[attr-defined]
    task.memory = task_definition.memory  # type: ignore[attr-defined]


def _container(task_definition: Any, definition: dict[str, Any]) -> Container:
    container = Container(task_definition)
    container.name = definition.get("name")
    container.image = definition.get("image")
    container.command = definition.get("command")
    container.environment = definition.get("environment")
    container.cpu = definition.get("cpu", 0)
    container.memory = definition.get("memory")
    # AWS reports an exit code only once the container has stopped.
    container.exitCode = None
    return container


def _private_dns_name(eni: Any) -> str:
    # AWS gives every network interface a private DNS name, whatever the VPC's
    # DNS hostnames setting.
    return getattr(eni, _DNS_ATTR, None) or generate_dns_from_ip(eni.private_ip_address)


def _set_private_dns_name(eni: Any, value: str) -> None:
    setattr(eni, _DNS_ATTR, value)


# --------------------------------------------------------------------------- time


def _start(backend: EC2ContainerServiceBackend, task: Task) -> None:
    now = settings.clock.now()
    definitions = {d.get("name"): d for d in _task_definition(backend, task).container_definitions}
    commands = {
        o.get("name"): o.get("command")
        for o in (task.overrides or {}).get("containerOverrides") or []
        if o.get("command")
    }
    plans = []
    for container in task.containers:
        definition = definitions.get(container.name, {})
        seconds, code = plan_command(commands.get(container.name) or definition.get("command"))
        plans.append(
            _ContainerPlan(
                name=container.name,
                essential=definition.get("essential", True),
                seconds=settings.timings.ecs_task_seconds if seconds is None else seconds,
                exit_code=code,
            )
        )
    running_at = now + settings.timings.ecs_start_seconds
    essential = [p for p in plans if p.essential] or plans
    stopping_at = min(running_at + p.seconds for p in essential)
    setattr(
        task,
        _RUN_ATTR,
        _Run(
            created=now,
            running_at=running_at,
            containers=plans,
            stopping_at=stopping_at,
            stopped_at=stopping_at + settings.timings.ecs_stop_seconds,
        ),
    )
    task.last_status = "PROVISIONING"


def _task_definition(backend: EC2ContainerServiceBackend, task: Task) -> Any:
    return backend.describe_task_definition(task.task_definition_arn)


_STATEMENT = re.compile(r"\s*(?:;|&&)\s*")


def plan_command(command: list[str] | None) -> tuple[float | None, int]:
    """(seconds the command runs, or None if it does not say; its exit code)."""
    if not command:
        return None, 0
    if command[0] in _SHELLS and len(command) >= 3 and command[1] == "-c":
        statements = [s for s in _STATEMENT.split(command[2]) if s.strip()]
    else:
        statements = [shlex.join(command)]
    seconds: float | None = None
    for statement in statements:
        words = statement.split()
        if words[0] == "sleep" and len(words) == 2:
            seconds = (seconds or 0.0) + float(words[1])
        elif words[0] == "exit":
            return seconds, int(words[1]) if len(words) > 1 else 0
        elif words[0] == "false":
            return seconds, 1
    return seconds, 0


def _before_action(service: str, action: str, response: BaseResponse) -> None:
    # AWS moves tasks on while nobody looks; here just before an ECS action
    # can observe them.
    if service == "ecs":
        _advance(response.ecs_backend, settings.clock.now())  # type: ignore[attr-defined]


def _advance(backend: EC2ContainerServiceBackend, now: float) -> None:
    with _lock:
        for tasks in list(backend.tasks.values()):
            for task in list(tasks.values()):
                run: _Run | None = getattr(task, _RUN_ATTR, None)
                if run is not None and task.last_status != "STOPPED":
                    _step(backend, task, run, now)


def _step(backend: EC2ContainerServiceBackend, task: Task, run: _Run, now: float) -> None:
    if now < run.running_at:
        half_way = run.created + (run.running_at - run.created) / 2
        task.last_status = "PROVISIONING" if now < half_way else "PENDING"
        return
    if now < run.stopping_at:
        task.last_status = "RUNNING"
        task.started_at = task.started_at or _wall_time(run.running_at)
        for container in task.containers:
            container.last_status = "RUNNING"
        return
    if task.desired_status != "STOPPED" or task.stopping_at is None:
        _containers_exit(task, run)
    if now < run.stopped_at:
        task.last_status = "DEPROVISIONING"
        return
    task.last_status = "STOPPED"
    task.stopped_at = _wall_time(run.stopped_at)
    _remove_interface(backend, task)


def _containers_exit(task: Task, run: _Run) -> None:
    never_ran = run.stopped_by_user and run.stopping_at <= run.running_at
    for container, plan in zip(task.containers, run.containers, strict=True):
        container.last_status = "STOPPED"
        # Compared as the same sum stopping_at was computed with: comparing
        # durations instead would let float rounding kill a container that
        # exited exactly when the task stopped.
        exited = run.running_at + plan.seconds <= run.stopping_at
        if never_ran:
            container.exitCode = None
        elif exited:
            container.exitCode = plan.exit_code
        elif run.stopped_by_user:
            container.exitCode = EXIT_SIGTERM
        else:
            container.exitCode = EXIT_SIGKILL
    task.desired_status = "STOPPED"
    task.stop_code = run.stop_code
    task.stopped_reason = run.stopped_reason
    task.stopping_at = _wall_time(run.stopping_at)
    task.execution_stopped_at = _wall_time(run.stopping_at)


def _remove_interface(backend: EC2ContainerServiceBackend, task: Task) -> None:
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    for attachment in task.attachments:
        details = {d["name"]: d["value"] for d in attachment.get("details", [])}
        eni_id = details.get("networkInterfaceId")
        if eni_id:
            with dispatch.service_lock("ec2"):
                ec2.enis.pop(eni_id, None)
        attachment["status"] = "DELETED"


def _wall_time(at: float) -> datetime.datetime:
    return utcnow() - datetime.timedelta(seconds=max(0.0, settings.clock.now() - at))


# --------------------------------------------------------------------------- StopTask


def _stop_task(
    backend: EC2ContainerServiceBackend, cluster_str: str, task_str: str, reason: str
) -> Task:
    with _lock:
        _advance(backend, settings.clock.now())
        task = _find_task(backend, cluster_str, task_str)
        run: _Run | None = getattr(task, _RUN_ATTR, None) if task is not None else None
        if task is None or run is None:
            result: Task = _originals["stop_task"](backend, cluster_str, task_str, reason)
            return result
        if task.last_status not in ("DEPROVISIONING", "STOPPED"):
            now = settings.clock.now()
            run.stopped_by_user = True
            run.stop_code = USER_STOPPED
            run.stopped_reason = reason or "Task stopped by user"
            run.running_at = min(run.running_at, now)
            run.stopping_at = now
            run.stopped_at = now + settings.timings.ecs_stop_seconds
            _step(backend, task, run, now)
        return task


def _find_task(backend: EC2ContainerServiceBackend, cluster_str: str, task_str: str) -> Any:
    cluster = backend._get_cluster(cluster_str)
    task_id = task_str.rsplit("/", maxsplit=1)[-1]
    for arn, task in backend.tasks.get(cluster.name, {}).items():
        if arn.endswith(task_id):
            return task
    return None
