"""The least-privilege rules catch what they promise to (no Terraform needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from terraform import iam_rules

ACCOUNT = "123456789012"
NAME = "rules-nat"
TABLE = "rtb-0aaa"
SUBNET = "subnet-0pub"


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:us-east-1:{ACCOUNT}:{resource}"


def _resource(address: str, values: dict[str, Any], mode: str = "managed") -> dict[str, Any]:
    kind = address.split(".", maxsplit=1)[0]
    return {
        "address": f"{iam_rules.MODULE}.{address}",
        "mode": mode,
        "type": kind,
        "values": values,
    }


def _state(*statements: dict[str, Any], trust_condition: bool = True) -> dict[str, Any]:
    trust: dict[str, Any] = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"Service": "states.amazonaws.com"},
    }
    if trust_condition:
        trust["Condition"] = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    resources = [
        _resource(
            "aws_sfn_state_machine.this",
            {"arn": _arn("states", f"stateMachine:{NAME}"), "name": NAME},
        ),
        _resource(
            "aws_lambda_function.controller",
            {"environment": [{"variables": {"NAT_ON_DEMAND_EIP_ALLOCATION_ID": "eipalloc-1"}}]},
        ),
        _resource("aws_dynamodb_table.lease", {"arn": _arn("dynamodb", f"table/{NAME}-lease")}),
        _resource(
            "aws_sqs_queue.reaper_dead_letters", {"arn": _arn("sqs", f"{NAME}-dead-letters")}
        ),
        _resource(
            "aws_iam_role.state_machine",
            {"assume_role_policy": json.dumps({"Statement": [trust]})},
        ),
        _resource(
            "aws_iam_role_policy.controller",
            {"policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})},
        ),
    ]
    return {
        "values": {
            "root_module": {
                "child_modules": [{"address": iam_rules.MODULE, "resources": resources}]
            }
        }
    }


def _violations(state: dict[str, Any]) -> list[str]:
    return iam_rules.violations(state, public_subnet_id=SUBNET, route_table_ids=[TABLE])


def _allow(actions: list[str], resources: list[str], **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


GOOD = [
    _allow(["ec2:DescribeNatGateways"], ["*"]),
    _allow(["ec2:CreateRoute", "ec2:DeleteRoute"], [_arn("ec2", f"route-table/{TABLE}")]),
    _allow(
        ["ec2:DeleteNatGateway"],
        [_arn("ec2", "natgateway/*")],
        StringEquals={f"ec2:ResourceTag/{iam_rules.INSTANCE_TAG_KEY}": NAME},
    ),
    _allow(["dynamodb:UpdateItem"], [_arn("dynamodb", f"table/{NAME}-lease")]),
]


def test_the_modules_shape_of_policy_passes() -> None:
    assert _violations(_state(*GOOD)) == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (_allow(["ec2:*"], ["*"]), "wildcard action ec2:*"),
        (_allow(["ec2:DeleteRoute"], ["*"]), "ec2:DeleteRoute on every resource"),
        (_allow(["s3:GetObject"], ["arn:aws:s3:::b/*"]), "not an action this module"),
        (
            _allow(["ec2:DeleteRoute"], [_arn("ec2", "route-table/rtb-0other")]),
            "route changes beyond the managed tables",
        ),
        (_allow(["ec2:DeleteNatGateway"], [_arn("ec2", "natgateway/*")]), "without the instance"),
        (
            _allow(["ec2:CreateNatGateway"], [_arn("ec2", "natgateway/*")]),
            "without requiring the instance tag",
        ),
        (
            _allow(["dynamodb:GetItem"], [_arn("dynamodb", "table/other")]),
            "beyond the lease table",
        ),
        (_allow(["iam:PassRole"], [_arn("iam", "role/x")]), "passes roles to any service"),
        (
            _allow(["lambda:InvokeFunction"], [_arn("lambda", "function:someone-else")]),
            "invokes functions of others",
        ),
    ],
)
def test_each_over_broad_grant_is_named(statement: dict[str, Any], expected: str) -> None:
    found = _violations(_state(*GOOD, statement))
    assert found and any(expected in problem for problem in found), found


def test_a_service_trust_without_the_source_account_is_named() -> None:
    found = _violations(_state(*GOOD, trust_condition=False))
    assert found == [
        f"{iam_rules.MODULE}.aws_iam_role.state_machine: "
        "states.amazonaws.com of any account may assume it"
    ]
