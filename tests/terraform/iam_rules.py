"""Least-privilege rules for the IAM the module applies, checked on real state.

`violations()` reads `terraform show -json` of an applied example, finds every
role, inline policy and attachment of `module.nat_on_demand`, and returns what
breaks a rule (an empty list when nothing does). The rules are the promises
iam.tf makes in its comments:

- nothing but read-only describes, X-Ray and log delivery is granted on "*";
- every action is one this module knows it needs (a new action fails here
  until it is added below, with its rule);
- route changes only on the managed route tables; NAT Gateways are created
  only with the instance tag, in the public subnet, with the module's Elastic
  IP, and deleted only when they carry the instance tag;
- the lease table, the state machine, the dead-letter queue and the log
  groups are the module's own;
- roles trusted by Step Functions, Scheduler and EventBridge name this account.

Checks of this kind run before any AWS sees the policy; IAM itself would
accept all of it, so this is where over-broad grants are caught.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MODULE = "module.nat_on_demand"
INSTANCE_TAG_KEY = "nat-on-demand:instance"

# Granted on "*" because the service has no resource-level permissions for them.
_READ_ONLY_ANYWHERE = {"ec2:DescribeNatGateways", "ec2:DescribeRouteTables"}
_XRAY = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
}
_LOG_DELIVERY = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
_ANYWHERE = _READ_ONLY_ANYWHERE | _XRAY | _LOG_DELIVERY

# Actions whose resources are checked one by one below.
_ROUTES = {"ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute"}
_WORKLOAD = {
    "ecs:RunTask",
    "ecs:DescribeTasks",
    "ecs:StopTask",
    "events:PutTargets",
    "events:PutRule",
    "events:DescribeRule",
}
_KNOWN = (
    _ANYWHERE
    | _ROUTES
    | _WORKLOAD
    | {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "ec2:CreateNatGateway",
        "ec2:CreateTags",
        "ec2:DeleteNatGateway",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "states:StartExecution",
        "states:DescribeExecution",
        "states:StopExecution",
        "lambda:InvokeFunction",
        "iam:PassRole",
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    }
)
_SOURCE_ACCOUNT_SERVICES = {
    "states.amazonaws.com",
    "scheduler.amazonaws.com",
    "events.amazonaws.com",
}
_ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
}


@dataclass(frozen=True)
class Scope:
    """What the module instance owns, read from the same state."""

    name: str
    account_id: str
    region: str
    route_table_ids: frozenset[str]
    public_subnet_id: str
    eip_allocation_id: str
    lease_table_arn: str
    state_machine_arn: str
    dead_letter_queue_arn: str
    workload_arns: frozenset[str]

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"


@dataclass(frozen=True)
class Statement:
    where: str
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: dict[str, dict[str, list[str]]]

    def condition(self, operator: str, key: str) -> list[str]:
        values = self.conditions.get(operator, {}).get(key, [])
        return [values] if isinstance(values, str) else list(values)


def module_resources(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource and data source of the module in `terraform show -json`."""
    found: list[dict[str, Any]] = []
    for child in state.get("values", {}).get("root_module", {}).get("child_modules", []):
        if child.get("address") == MODULE:
            found += child.get("resources", [])
    return found


def _one(resources: list[dict[str, Any]], address: str) -> dict[str, Any]:
    values = [r["values"] for r in resources if r["address"] == f"{MODULE}.{address}"]
    assert len(values) == 1, f"{address} is not in the state exactly once"
    return values[0]


def scope_of(
    state: dict[str, Any],
    *,
    public_subnet_id: str,
    route_table_ids: Iterable[str],
    workload_arns: Iterable[str] = (),
) -> Scope:
    """The instance's own resources: from the state, except what the test itself
    made (the VPC's subnet and tables, the workload), which it passes in."""
    resources = module_resources(state)
    machine = _one(resources, "aws_sfn_state_machine.this")
    arn = machine["arn"].split(":")
    controller = _one(resources, "aws_lambda_function.controller")
    environment = controller["environment"][0]["variables"]
    return Scope(
        name=machine["name"],
        account_id=arn[4],
        region=arn[3],
        route_table_ids=frozenset(route_table_ids),
        public_subnet_id=public_subnet_id,
        eip_allocation_id=environment["NAT_ON_DEMAND_EIP_ALLOCATION_ID"],
        lease_table_arn=_one(resources, "aws_dynamodb_table.lease")["arn"],
        state_machine_arn=machine["arn"],
        dead_letter_queue_arn=_one(resources, "aws_sqs_queue.reaper_dead_letters")["arn"],
        workload_arns=frozenset(workload_arns),
    )


def _statements(where: str, document: str) -> Iterator[Statement]:
    policy = json.loads(document)
    statements = policy["Statement"]
    for index, raw in enumerate([statements] if isinstance(statements, dict) else statements):
        assert raw.get("Effect") == "Allow", f"{where}: only Allow statements are expected"
        assert "NotAction" not in raw and "NotResource" not in raw, f"{where}: Not* is too broad"
        actions = raw.get("Action", [])
        resources = raw.get("Resource", [])
        yield Statement(
            where=where,
            sid=raw.get("Sid") or f"#{index}",
            actions=tuple([actions] if isinstance(actions, str) else actions),
            resources=tuple([resources] if isinstance(resources, str) else resources),
            conditions=raw.get("Condition", {}),
        )


def _check(statement: Statement, scope: Scope) -> Iterator[str]:
    yield from _check_actions(statement)
    if set(statement.actions) <= _ANYWHERE:
        return
    for rule in (_check_ec2, _check_owned, _check_workload):
        yield from rule(statement, scope)


def _at(statement: Statement) -> str:
    return f"{statement.where} {statement.sid}"


def _check_actions(statement: Statement) -> Iterator[str]:
    for action in statement.actions:
        if "*" in action:
            yield f"{_at(statement)}: wildcard action {action}"
        elif action not in _KNOWN:
            yield f"{_at(statement)}: {action} is not an action this module is known to need"
        elif "*" in statement.resources and action not in _ANYWHERE:
            yield f"{_at(statement)}: {action} on every resource"


def _check_ec2(statement: Statement, scope: Scope) -> Iterator[str]:
    at, actions, resources = _at(statement), set(statement.actions), set(statement.resources)
    if actions & _ROUTES:
        allowed = {scope.arn("ec2", f"route-table/{table}") for table in scope.route_table_ids}
        if not resources or not resources <= allowed:
            yield f"{at}: route changes beyond the managed tables: {sorted(resources - allowed)}"
    if "ec2:CreateNatGateway" in actions:
        tagged = statement.condition("StringEquals", f"aws:RequestTag/{INSTANCE_TAG_KEY}")
        placed = {
            scope.arn("ec2", f"subnet/{scope.public_subnet_id}"),
            scope.arn("ec2", f"elastic-ip/{scope.eip_allocation_id}"),
        }
        if resources == {scope.arn("ec2", "natgateway/*")}:
            if tagged != [scope.name]:
                yield f"{at}: creates NAT Gateways without requiring the instance tag"
        elif not resources <= placed:
            yield f"{at}: NAT Gateways outside the public subnet or with another EIP"
    create_action = statement.condition("StringEquals", "ec2:CreateAction")
    if "ec2:CreateTags" in actions and create_action != ["CreateNatGateway"]:
        yield f"{at}: tags beyond the NAT Gateway being created"
    instance = statement.condition("StringEquals", f"ec2:ResourceTag/{INSTANCE_TAG_KEY}")
    if "ec2:DeleteNatGateway" in actions and instance != [scope.name]:
        yield f"{at}: deletes NAT Gateways without the instance tag"


def _check_owned(statement: Statement, scope: Scope) -> Iterator[str]:
    at, actions, resources = _at(statement), set(statement.actions), set(statement.resources)
    own_log_group = scope.arn("logs", f"log-group:/aws/lambda/{scope.name}-")
    if actions & {"dynamodb:GetItem", "dynamodb:UpdateItem"} and resources != {
        scope.lease_table_arn
    }:
        yield f"{at}: DynamoDB beyond the lease table: {sorted(resources)}"
    if actions & {"logs:CreateLogStream", "logs:PutLogEvents"} and not all(
        r.startswith(own_log_group) for r in resources
    ):
        yield f"{at}: writes logs beyond the module's log groups: {sorted(resources)}"
    if "sqs:SendMessage" in actions and resources != {scope.dead_letter_queue_arn}:
        yield f"{at}: sends to queues beyond the dead-letter queue: {sorted(resources)}"
    if "states:StartExecution" in actions and not resources <= (
        {scope.state_machine_arn} | scope.workload_arns
    ):
        yield f"{at}: starts executions of others: {sorted(resources)}"
    if actions & {"states:DescribeExecution", "states:StopExecution"}:
        prefixes = [scope.arn("states", f"execution:{scope.name}:")] + [
            arn.replace(":stateMachine:", ":execution:") + ":" for arn in scope.workload_arns
        ]
        if not all(r.startswith(tuple(prefixes)) for r in resources):
            yield f"{at}: watches executions of others: {sorted(resources)}"
    if "lambda:InvokeFunction" in actions:
        own_function = scope.arn("lambda", f"function:{scope.name}-")
        invokable = set(scope.workload_arns) | {f"{a}:*" for a in scope.workload_arns}
        if not all(r.startswith(own_function) or r in invokable for r in resources):
            yield f"{at}: invokes functions of others: {sorted(resources)}"


def _check_workload(statement: Statement, scope: Scope) -> Iterator[str]:
    at, actions, resources = _at(statement), set(statement.actions), set(statement.resources)
    if "iam:PassRole" in actions and not statement.condition("StringEquals", "iam:PassedToService"):
        yield f"{at}: passes roles to any service"
    if actions & {"ecs:RunTask", "ecs:DescribeTasks", "ecs:StopTask"} and not statement.condition(
        "ArnEquals", "ecs:cluster"
    ):
        yield f"{at}: ECS tasks of any cluster"
    if actions & {"events:PutTargets", "events:PutRule", "events:DescribeRule"} and not all(
        r.rsplit("/", 1)[-1].startswith("StepFunctionsGetEventsFor") for r in resources
    ):
        yield f"{at}: changes EventBridge rules beyond Step Functions' managed ones"


def _check_trust(where: str, document: str, scope: Scope) -> Iterator[str]:
    for raw in json.loads(document)["Statement"]:
        services = raw.get("Principal", {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if raw.get("Principal") == "*" or raw.get("Principal", {}).get("AWS") == "*":
            yield f"{where}: trusts everyone"
        for service in set(services) & _SOURCE_ACCOUNT_SERVICES:
            account = raw.get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount")
            if account not in (scope.account_id, [scope.account_id]):
                yield f"{where}: {service} of any account may assume it"


def violations(
    state: dict[str, Any],
    *,
    public_subnet_id: str,
    route_table_ids: Iterable[str],
    workload_arns: Iterable[str] = (),
) -> list[str]:
    """Every broken rule in the module's applied IAM, each naming the policy and statement."""
    scope = scope_of(
        state,
        public_subnet_id=public_subnet_id,
        route_table_ids=route_table_ids,
        workload_arns=workload_arns,
    )
    found: list[str] = []
    policies = 0
    for resource in module_resources(state):
        values, address = resource["values"], resource["address"]
        if resource["mode"] != "managed":
            continue
        if resource["type"] == "aws_iam_role_policy":
            policies += 1
            for statement in _statements(address, values["policy"]):
                found += _check(statement, scope)
        elif resource["type"] == "aws_iam_role":
            found += _check_trust(address, values["assume_role_policy"], scope)
            if values.get("managed_policy_arns") and not set(values["managed_policy_arns"]) <= (
                _ALLOWED_MANAGED_POLICIES
            ):
                found.append(f"{address}: managed policies {values['managed_policy_arns']}")
        elif resource["type"] == "aws_iam_role_policy_attachment":
            if values["policy_arn"] not in _ALLOWED_MANAGED_POLICIES:
                found.append(f"{address}: attaches {values['policy_arn']}")
        elif resource["type"] == "aws_iam_policy":
            found.append(f"{address}: standalone policies are not expected")
    if policies == 0:
        found.append("no inline policies found: the module's IAM was not read")
    return found
