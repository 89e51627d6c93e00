"""EventBridge Scheduler on the local AWS: fire a schedule now, as Scheduler would at its time.

moto stores schedules but never fires one, and no test can wait for a nightly
cron. `fire()` does what Scheduler does when a schedule's time comes, for a
Step Functions target (the templated target that calls StartExecution):

- a DISABLED schedule does not fire (ScheduleNotFiring);
- Scheduler assumes the schedule's execution role: its trust policy must let
  the service principal scheduler.amazonaws.com call sts:AssumeRole;
- with that role it calls StartExecution on the target state machine, with
  the target's Input as the execution input: the role's policies must allow
  states:StartExecution on that state machine (ScheduleNotFiring otherwise,
  where AWS would count an invocation failure and retry per RetryPolicy).

The time zone, expression and flexible window are what Scheduler uses to
decide *when*; `fire()` is the *what*, and tests check the former on the
schedule itself.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import iam_backends
from moto.scheduler.models import scheduler_backends
from moto.stepfunctions.responses import get_backend as stepfunctions_backend

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"


class ScheduleNotFiring(Exception):
    """The schedule would not start its target on AWS (disabled, or its role cannot)."""


class RoleRefused(Exception):
    """The service may not assume the role, or the role may not call the target."""


def fire(name: str, *, account_id: str, region: str, group: str = "default") -> str:
    """Start the schedule's target now, as Scheduler would; the new execution's ARN."""
    schedule = scheduler_backends[account_id][region].get_schedule(group, name)
    if schedule.state != "ENABLED":
        raise ScheduleNotFiring(f"schedule {group}/{name} is {schedule.state}")
    target: dict[str, Any] = schedule.target
    arn = str(target["Arn"])
    if ":states:" not in arn or ":stateMachine:" not in arn:
        raise ScheduleNotFiring(f"schedule {group}/{name}: only state machine targets fire here")
    try:
        check_role(
            account_id,
            str(target.get("RoleArn") or ""),
            principal=SCHEDULER_PRINCIPAL,
            action="states:StartExecution",
            resource=arn,
        )
    except RoleRefused as refused:
        raise ScheduleNotFiring(f"schedule {group}/{name}: {refused}") from refused
    execution = stepfunctions_backend(account_id, region).start_execution(
        arn, name=None, execution_input=target.get("Input") or "{}"
    )
    return str(execution.execution_arn)


def check_role(
    account_id: str, role_arn: str, *, principal: str, action: str, resource: str
) -> None:
    """RoleRefused unless `principal` may assume the role and it allows `action`.

    The same check AWS makes when a service (Scheduler, EventBridge) calls a
    target with a role: trust policy first, then the role's policies.
    """
    iam = iam_backends[account_id]["aws"]
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception as error:
        raise RoleRefused(f"execution role {role_arn!r} does not exist") from error
    if not _trusts(role.assume_role_policy_document, principal):
        raise RoleRefused(f"role {role.name} does not let {principal} assume it")
    documents = list(role.policies.values()) + list(role.managed_policies.values())
    results = [IAMPolicy(doc).is_action_permitted(action, resource) for doc in documents]
    if PermissionResult.DENIED in results or PermissionResult.PERMITTED not in results:
        raise RoleRefused(f"role {role.name} may not {action} on {resource}")


def _trusts(document: str, service: str) -> bool:
    statements = json.loads(document).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        services = (statement.get("Principal") or {}).get("Service", [])
        services = services if isinstance(services, list) else [services]
        if (
            statement.get("Effect") == "Allow"
            and "sts:AssumeRole" in actions
            and service in services
        ):
            return True
    return False
