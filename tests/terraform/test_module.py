"""The module's life on the local AWS: apply, no drift, a run, destroy leaves nothing."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from typing import Any

from emulator.server import LocalAws
from emulator.terraform import EXAMPLES_DIR, REPO_ROOT, Terraform
from terraform import iam_rules
from terraform.conftest import ExistingVpc, create_existing_vpc, deployed_states, inventory


def _tables(aws: LocalAws, table_ids: list[str]) -> list[dict]:
    found = aws.client("ec2").describe_route_tables(RouteTableIds=table_ids)["RouteTables"]
    return sorted(found, key=lambda table: str(table["RouteTableId"]))


def _wait_until_no_live_nat(aws: LocalAws) -> None:
    deadline = time.monotonic() + 30
    while aws.client("ec2").describe_nat_gateways(
        Filter=[{"Name": "state", "Values": ["pending", "available", "deleting"]}]
    )["NatGateways"]:
        assert time.monotonic() < deadline, "a NAT Gateway is still live"
        time.sleep(0.2)


def _wait(aws: LocalAws, execution_arn: str) -> dict:
    sfn = aws.client("stepfunctions")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.2)
    raise AssertionError("execution still running")


def test_minimal_example_applies_runs_and_destroys_without_a_trace(local_aws: LocalAws):
    vpc = create_existing_vpc(local_aws, "tfmin")
    # Everything the module makes is named after its `name`; Elastic IPs and
    # NAT Gateways are counted account-wide.
    before = inventory(local_aws, "tfmin-nat")
    shared, main = vpc.private_route_table_ids[0], vpc.main_route_table_id
    subnets = vpc.private_subnet_ids
    variables = {
        "name": "tfmin-nat",
        "public_subnet_id": vpc.public_subnet_id,
        # Subnets 0 and 1 share a table, subnet 2 is on the main table; a repeat collapses.
        "private_subnet_ids": [subnets[0], subnets[2], subnets[1], subnets[0]],
        "workload_lambda_arn": vpc.workload_lambda_arn,
    }
    terraform = Terraform(
        EXAMPLES_DIR / "minimal", name="test-minimal", extra_env=local_aws.environment()
    )
    terraform.init()

    applied = " ".join(terraform.apply(variables).split())
    try:
        # The plan said which tables the subnets resolve to, and which is the main one.
        assert f'main = false + route_table_id = "{shared}"' in applied
        assert f'main = true + route_table_id = "{main}"' in applied
        outputs = terraform.output()
        states = deployed_states(local_aws, outputs["state_machine_arn"])
        assert states["AttachRoutes"]["Next"] == "RunWorkload"
        assert states["RunWorkload"]["Resource"] == "arn:aws:states:::lambda:invoke"
        assert outputs["route_tables"] == [
            {"route_table_id": shared, "main": False, "subnet_ids": [subnets[0], subnets[1]]},
            {"route_table_id": main, "main": True, "subnet_ids": [subnets[2]]},
        ]
        tables_before = _tables(local_aws, [shared, main])
        drift = terraform.planned_changes(variables)
        assert not drift, f"a second plan wants changes (drift):\n{drift}"
        problems = iam_rules.violations(
            terraform.show_state(),
            public_subnet_id=vpc.public_subnet_id,
            route_table_ids=[shared, main],
            workload_arns=[vpc.workload_lambda_arn],
        )
        assert not problems, "IAM broader than the module needs:\n" + "\n".join(problems)
        created = inventory(local_aws, "tfmin-nat")
        assert created["lambda"] == ["tfmin-nat-controller", "tfmin-nat-reaper"]
        assert created["states"] == ["tfmin-nat"]
        assert created["dynamodb"] == ["tfmin-nat-lease"]
        assert "/aws/lambda/tfmin-nat-controller" in created["logs"]
        assert len(created["eip"]) == len(before["eip"]) + 1
        _check_operations(local_aws, "tfmin-nat", outputs, terraform.show_state())

        execution = local_aws.client("stepfunctions").start_execution(
            stateMachineArn=outputs["state_machine_arn"],
            input=json.dumps({"workload_input": {"ping": 1}}),
        )["executionArn"]
        result = _wait(local_aws, execution)
        assert result["status"] == "SUCCEEDED", result
        output = json.loads(result["output"])
        assert output["workload"]["output"] == {"echo": {"ping": 1}}
        # The main table was routed like the explicit one, and is as before again.
        assert sorted(c["route_table_id"] for c in output["routes"]["changes"]) == sorted(
            [shared, main]
        )
        _wait_until_no_live_nat(local_aws)
        assert _tables(local_aws, [shared, main]) == tables_before
        _check_run_telemetry(local_aws, "tfmin-nat", execution)
    finally:
        # A run leaves its NAT Gateway deleting for a moment; AWS refuses to
        # release the Elastic IP until it is deleted (as the emulator does).
        time.sleep(1)
        terraform.destroy(variables)

    assert terraform.resources() == []
    assert inventory(local_aws, "tfmin-nat") == before


def _module_resources(state: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    """The values of the module's resources of one type, from `terraform show -json`."""
    return [
        resource["values"]
        for child in state["values"]["root_module"].get("child_modules", [])
        if child["address"] == iam_rules.MODULE
        for resource in child["resources"]
        if resource["type"] == resource_type and resource["mode"] == "managed"
    ]


def _check_operations(
    aws: LocalAws, name: str, outputs: dict[str, Any], state: dict[str, Any]
) -> None:
    """What the defaults give an operator: log groups, alarms, the reaper's guards."""
    logs = aws.client("logs")
    groups = {
        g["logGroupName"]: g
        for g in logs.describe_log_groups(logGroupNamePrefix="/aws/")["logGroups"]
    }
    for group in (
        f"/aws/lambda/{name}-controller",
        f"/aws/lambda/{name}-reaper",
        f"/aws/vendedlogs/states/{name}",
    ):
        assert groups[group]["retentionInDays"] == 30, group

    machine = aws.client("stepfunctions").describe_state_machine(
        stateMachineArn=outputs["state_machine_arn"]
    )
    logging = machine["loggingConfiguration"]
    assert logging["level"] == "ERROR"
    # The run's data stays out of the logs unless asked for (AWS omits a false flag).
    assert logging.get("includeExecutionData", False) is False
    destination = logging["destinations"][0]["cloudWatchLogsLogGroup"]["logGroupArn"]
    assert f":log-group:/aws/vendedlogs/states/{name}:" in destination

    lam = aws.client("lambda")
    reaper = f"{name}-reaper"
    assert lam.get_function_concurrency(FunctionName=reaper)["ReservedConcurrentExecutions"] == 1
    [queue] = _module_resources(state, "aws_sqs_queue")
    dead_letters = lam.get_function_configuration(FunctionName=reaper)["DeadLetterConfig"]
    assert dead_letters["TargetArn"] == queue["arn"]

    names = sorted(a["alarm_name"] for a in _module_resources(state, "aws_cloudwatch_metric_alarm"))
    assert names == sorted(
        f"{name}-{purpose}"
        for purpose in (
            "unheld-nat-gateway",
            "runs-failed",
            "reaper-cleanups",
            "reaper-dead-letters",
        )
    )
    alarms = {
        a["AlarmName"]: a
        for a in aws.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    }
    assert sorted(alarms) == names
    unheld = alarms[f"{name}-unheld-nat-gateway"]
    assert (unheld["Namespace"], unheld["MetricName"]) == ("NatOnDemand", "UnheldNatGatewaySeconds")
    assert unheld["Dimensions"] == [{"Name": "service", "Value": name}]
    # A reaper that stopped reporting must alarm too.
    assert unheld["TreatMissingData"] == "breaching"
    cleanups = alarms[f"{name}-reaper-cleanups"]
    assert (cleanups["MetricName"], cleanups["Threshold"]) == ("ReaperCleanups", 0)


def _check_run_telemetry(aws: LocalAws, name: str, execution_arn: str) -> None:
    """The run's controller logs are JSON lines naming it, with its metrics beside them."""
    logs = aws.client("logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}-controller")["events"]
    lines = [json.loads(e["message"]) for e in events if e["message"].startswith("{")]
    own = [line for line in lines if line.get("execution_arn") == execution_arn]
    assert {line.get("step") for line in own} >= {"acquire", "attach_routes", "release"}
    assert any(str(line.get("nat_gateway_id", "")).startswith("nat-") for line in own)
    metrics = [line["_aws"]["CloudWatchMetrics"][0] for line in lines if "_aws" in line]
    names = {m["Name"] for metric in metrics for m in metric["Metrics"]}
    assert {"NatGatewayCreated", "RoutesChanged", "NatGatewayUptimeSeconds"} <= names
    assert {metric["Namespace"] for metric in metrics} == {"NatOnDemand"}


# A root module written under build/, calling the module by a relative path:
# Terraform uses a ./ or ../ source in place, while an absolute path would be
# copied, build/ and all.
_BAD_INPUTS_ROOT = REPO_ROOT / "build" / "terraform" / "bad-inputs-root"

_LAMBDA = {
    "type": "lambda",
    "lambda_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:job",
}
# A schedule input only a hold workload accepts (the calls run a Lambda).
_HOLD_INPUT = json.dumps({"hold_seconds": 60})
_ECS_OK = {
    "cluster_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/jobs",
    "task_definition_arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/job:1",
}


def _caller(vpc: ExistingVpc) -> Callable[..., dict]:
    def call(name: str, **overrides: object) -> dict:
        module = {
            "source": os.path.relpath(REPO_ROOT, _BAD_INPUTS_ROOT),
            "name": name,
            "public_subnet_id": vpc.public_subnet_id,
            "private_route_table_ids": vpc.private_route_table_ids[:1],
            "workload": _LAMBDA,
        }
        module.update(overrides)
        return module

    return call


def _bad_inputs(vpc: ExistingVpc) -> dict[str, dict]:
    """Module calls, each with invalid variables; the IDs exist, so data sources resolve."""
    call = _caller(vpc)
    return {
        "bad_a": call(
            "9 starts with a digit",
            public_subnet_id="subnet-xyz",
            private_route_table_ids=["rtb-0123456789abcdef0", "rtb-0123456789abcdef0"],
            destination_cidr_blocks=["10.0.0.1/8"],
            eip_allocation_id="eip-123",
            workload={
                "type": "lambda",
                "lambda_function_arn": "arn:aws:lambda:us-east-1:123:function:job",
                "timeout_seconds": 0,
            },
            poll_interval_seconds=0.5,
            nat_ready_timeout_seconds=29,
            log_retention_days=2,
            powertools_layer_arn="layer",
            tags={"nat-on-demand:instance": "spoof"},
            egress_echo_url="ftp://echo",
            private_subnet_ids=["sub-1"],
        ),
        "bad_b": call(
            "ok-name",
            destination_cidr_blocks=["0.0.0.0/0", "0.0.0.0/0"],
            run_timeout_seconds=10,
            idle_grace_seconds=4000,
            reaper_schedule_expression="cron(0 * * * ? *)",
        ),
        "bad_c": call("ok-name-c", destination_cidr_blocks=["300.1.0.0/16"]),
        # --- workload, per type
        "w_unknown": call("w-unknown", workload={"type": "batch"}),
        "w_lambda": call("w-lambda", workload={"type": "lambda"}),
        "w_ecs": call("w-ecs", workload={"type": "ecs_task", "ecs": {}}),
        "w_ecs_bad": call(
            "w-ecs-bad",
            workload={
                "type": "ecs_task",
                "ecs": {
                    "cluster_arn": "jobs",
                    "task_definition_arn": "arn:aws:ecs:us-east-1:123456789012:task-definition/job",
                    "security_group_ids": ["default"],
                    "pass_role_arns": ["job-role"],
                    "platform_version": "newest",
                },
            },
        ),
        "w_sm": call("w-sm", workload={"type": "state_machine"}),
        "w_hold": call("w-hold", workload={"type": "hold"}),
        "w_hold_long": call(
            "w-hold-long", workload={"type": "hold", "hold_seconds": 901, "timeout_seconds": 900}
        ),
        "w_mixed": call("w-mixed", workload={**_LAMBDA, "hold_seconds": 60}),
        # --- triggers
        "t_schedules": call(
            "t-schedules",
            schedules={
                "a name that is far too long and has spaces": {
                    "schedule_expression": "rate(1 day)"
                },
                "nightly": {
                    "schedule_expression": "every night",
                    "schedule_expression_timezone": "Berlin time",
                    "flexible_time_window_minutes": 0,
                    "input": '{"workload": {}}',
                },
            },
        ),
        "t_events": call(
            "t-events",
            event_patterns={"inbox": {"event_pattern": "aws.s3", "input": "[1]"}},
        ),
        "t_reserved": call(
            "t-reserved",
            schedules={
                "reaper": {"schedule_expression": "rate(1 minutes)"},
                "labelled": {
                    "schedule_expression": "cron(0 2 * * ? *)",
                    "input": '{"run_label": "no; semicolons", "hold_seconds": 0}',
                },
            },
            event_patterns={
                "run-ended": {"event_pattern": '{"source": "aws.s3"}'},
            },
        ),
        "g_tags_count": call(
            "g-tags-count",
            tags={**{f"t{i}": "v" for i in range(46)}, "cost#center": "Smith, J"},
            destination_cidr_blocks=["0.0.0.0/00"],
        ),
        "g_tags": call(
            "g-tags",
            tags={"aws:cloudformation:stack-name": "x", "owner": "y" * 257},
            egress_echo_url="https://echo.example:99999/",
            reaper_schedule_expression="rate(1 minutes)",
        ),
    }


def _bad_combinations(
    vpc: ExistingVpc, other_vpc_subnet: str, other_vpc_table: str
) -> dict[str, dict]:
    """Module calls with valid inputs that do not fit together or with the VPC.

    Apart from the variable errors above: Terraform stops before evaluating
    preconditions when any variable is invalid.
    """
    call = _caller(vpc)
    return {
        "p_neither": call("p-neither", private_route_table_ids=[]),
        "p_both": call("p-both", private_subnet_ids=vpc.private_subnet_ids[:1]),
        "p_ecs_subnets": call("p-ecs-subnets", workload={"type": "ecs_task", "ecs": _ECS_OK}),
        "p_probe_subnets": call("p-probe-subnets", verify_egress=True),
        "p_probe_unmanaged": call(
            "p-probe-unmanaged",
            private_route_table_ids=[],
            private_subnet_ids=vpc.private_subnet_ids[:1],
            verify_egress=True,
            egress_probe_subnet_ids=vpc.private_subnet_ids[2:],
        ),
        "p_inside_vpc": call("p-inside-vpc", destination_cidr_blocks=["10.40.7.0/24"]),
        "p_other_vpc": call(
            "p-other-vpc",
            private_route_table_ids=[],
            private_subnet_ids=[other_vpc_subnet],
        ),
        "p_other_vpc_table": call("p-other-vpc-table", private_route_table_ids=[other_vpc_table]),
        "p_trigger_input": call(
            "p-trigger-input",
            schedules={"nightly": {"schedule_expression": "rate(1 day)", "input": _HOLD_INPUT}},
        ),
    }


# (module call, a phrase of its error message)
_EXPECTED_ERRORS = [
    ("bad_a", "name must be 1-32 letters"),
    ("bad_a", "public_subnet_id must be a subnet ID"),
    ("bad_a", "private_route_table_ids must not list a route table twice"),
    ("bad_a", "written with its network address"),
    ("bad_a", "eip_allocation_id must be an allocation ID"),
    ("bad_a", "workload.lambda_function_arn must be a Lambda function ARN"),
    ("bad_a", "workload.timeout_seconds must be a whole number from 1 to 86400"),
    ("bad_a", "poll_interval_seconds must be a whole number from 1 to 300"),
    ("bad_a", "nat_ready_timeout_seconds must be a whole number from 30 to 3600"),
    ("bad_a", "log_retention_days must be one of"),
    ("bad_a", "powertools_layer_arn must be a layer version ARN"),
    ("bad_a", "Tag keys starting with nat-on-demand: are reserved"),
    ("bad_a", "egress_echo_url must be an http or https URL"),
    ("bad_a", "Every private_subnet_ids entry must be a subnet ID"),
    ("bad_b", "destination_cidr_blocks must not list a CIDR block twice"),
    ("bad_b", "run_timeout_seconds must be a whole number from 30 to 31536000"),
    ("bad_b", "idle_grace_seconds must be a whole number from 0 to 3600"),
    ("bad_b", "reaper_schedule_expression must be a rate expression"),
    ("bad_b", "run_timeout_seconds must be a whole number from 30 to 31536000"),
    ("bad_b", "idle_grace_seconds must be a whole number from 0 to 3600"),
    ("bad_b", "reaper_schedule_expression must be a rate expression"),
    ("bad_c", "written with its network address"),
    ("w_unknown", "workload.type must be one of lambda, ecs_task, state_machine, hold"),
    ("w_lambda", 'workload.lambda_function_arn is required when workload.type = "lambda"'),
    ("w_ecs", 'workload.ecs.cluster_arn is required when workload.type = "ecs_task"'),
    ("w_ecs", 'workload.ecs.task_definition_arn is required when workload.type = "ecs_task"'),
    ("w_ecs_bad", "workload.ecs.cluster_arn must be an ECS cluster ARN"),
    ("w_ecs_bad", "workload.ecs.task_definition_arn must be a task definition ARN with its"),
    ("w_ecs_bad", "workload.ecs.security_group_ids must list at most 5 security group IDs"),
    ("w_ecs_bad", "Every workload.ecs.pass_role_arns entry must be an IAM role ARN"),
    ("w_ecs_bad", "workload.ecs.platform_version must be LATEST"),
    ("w_sm", 'workload.state_machine_arn is required when workload.type = "state_machine"'),
    ("w_hold", 'workload.hold_seconds is required when workload.type = "hold"'),
    ("w_hold_long", "workload.hold_seconds must be a whole number from 1 to workload.timeout"),
    ("w_mixed", "workload sets a field of another type"),
    ("t_schedules", "Every schedules key must be 1-31 letters"),
    ("t_schedules", "Every schedules schedule_expression must be cron("),
    ("t_schedules", "Every schedules schedule_expression_timezone must be an IANA time zone"),
    ("t_schedules", "Every schedules flexible_time_window_minutes must be a whole number"),
    ("t_schedules", "Every schedules input must be a JSON object with only the keys"),
    ("t_events", "Every event_patterns event_pattern must be a non-empty JSON object"),
    ("t_events", "Every event_patterns input must be a JSON object with only the keys"),
    ("t_events", "Every event_patterns event_pattern field must hold an array"),
    ("t_reserved", "The schedules key reaper is reserved"),
    ("t_reserved", "The event_patterns key run-ended is reserved"),
    ("t_reserved", "Every schedules input run_label must be a string of 1-80"),
    ("t_reserved", "Every schedules input hold_seconds must be a whole number from 1 to 86400"),
    ("t_reserved", "Every schedules schedule_expression must be cron("),
    ("t_reserved", "Every event_patterns event_pattern field must hold an array"),
    ("g_tags", "Tag keys starting with aws: are reserved by AWS"),
    ("g_tags_count", "tags must hold at most 46 tags"),
    ("g_tags_count", "Every tags key and value may hold only letters, digits, spaces"),
    ("g_tags_count", "a plain prefix length"),
    ("g_tags", "Every tags key must be 1-128 characters and every value a string of at most 256"),
    ("g_tags", "egress_echo_url's port must be from 1 to 65535"),
    ("g_tags", "reaper_schedule_expression must be a rate expression"),
    ("p_neither", "Set private_subnet_ids or private_route_table_ids: the module must know"),
    ("p_both", "Set private_subnet_ids or private_route_table_ids, not both"),
    ("p_ecs_subnets", 'workload.ecs.subnet_ids is required when workload.type = "ecs_task"'),
    ("p_probe_subnets", "egress_probe_subnet_ids is required when verify_egress = true"),
    ("p_probe_unmanaged", "The egress probe's subnets must use the managed route tables"),
    ("p_inside_vpc", "destination_cidr_blocks must not be the VPC's CIDR or inside it"),
    ("p_other_vpc", "the NAT Gateway can only serve its own VPC"),
    ("p_trigger_input", "schedules.nightly.input: hold_seconds applies only to workload type hold"),
]


def _errors_by_module(stderr: str) -> dict[str, str]:
    """Each module call's error text, from `terraform plan` output."""
    found: dict[str, str] = {}
    for block in stderr.split("Error: ")[1:]:
        module = re.search(r"module\.(\w+)", block)
        if module is not None:
            flat = " ".join(block.split())
            found[module.group(1)] = found.get(module.group(1), "") + flat
    return found


def _plan_error(aws: LocalAws, modules: dict[str, dict], name: str) -> str:
    root = _BAD_INPUTS_ROOT.with_name(name)
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.tf.json").write_text(
        json.dumps({"provider": {"aws": {"region": "us-east-1"}}, "module": modules})
    )
    terraform = Terraform(root, name=f"test-{name}", extra_env=aws.environment())
    terraform.init()
    return terraform.plan_error()


def test_every_bad_input_is_named_at_plan_time(local_aws: LocalAws):
    vpc = create_existing_vpc(local_aws, "tfbad")
    ec2 = local_aws.client("ec2")
    other_vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    other_subnet = ec2.create_subnet(VpcId=other_vpc, CidrBlock="10.41.1.0/24")["Subnet"]

    variable_stderr = _plan_error(local_aws, _bad_inputs(vpc), "bad-inputs-root")
    other_table = ec2.create_route_table(VpcId=other_vpc)["RouteTable"]["RouteTableId"]
    combination_stderr = _plan_error(
        local_aws,
        _bad_combinations(vpc, other_subnet["SubnetId"], other_table),
        "bad-combinations-root",
    )

    # Variable errors name their module call; condition errors name only the
    # resource, but each combination trips exactly one condition.
    errors = _errors_by_module(variable_stderr)
    combinations = " ".join(combination_stderr.split())
    missing = [
        (module, phrase)
        for module, phrase in _EXPECTED_ERRORS
        if phrase not in (combinations if module.startswith("p_") else errors.get(module, ""))
    ]
    assert missing == [], variable_stderr + combination_stderr
    assert f"Route table {other_table} is in {other_vpc}" in combinations, combination_stderr
