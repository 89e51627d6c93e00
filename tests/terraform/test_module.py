"""The module's life on the local AWS: apply, no drift, a run, destroy leaves nothing."""

from __future__ import annotations

import json
import os
import re
import time

from emulator.server import LocalAws
from emulator.terraform import EXAMPLES_DIR, REPO_ROOT, Terraform
from terraform.conftest import create_existing_vpc, inventory


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
    variables = {
        "name": "tfmin-nat",
        "public_subnet_id": vpc.public_subnet_id,
        "private_route_table_ids": vpc.private_route_table_ids,
        "workload_lambda_arn": vpc.workload_lambda_arn,
    }
    terraform = Terraform(
        EXAMPLES_DIR / "minimal", name="test-minimal", extra_env=local_aws.environment()
    )
    terraform.init()

    terraform.apply(variables)
    try:
        outputs = terraform.output()
        assert not terraform.plan_has_changes(variables), "a second plan wants changes (drift)"
        created = inventory(local_aws, "tfmin-nat")
        assert created["lambda"] == ["tfmin-nat-controller", "tfmin-nat-reaper"]
        assert created["states"] == ["tfmin-nat"]
        assert created["dynamodb"] == ["tfmin-nat-lease"]
        assert "/aws/lambda/tfmin-nat-controller" in created["logs"]
        assert len(created["eip"]) == len(before["eip"]) + 1

        execution = local_aws.client("stepfunctions").start_execution(
            stateMachineArn=outputs["state_machine_arn"],
            input=json.dumps({"workload_input": {"ping": 1}}),
        )["executionArn"]
        result = _wait(local_aws, execution)
        assert result["status"] == "SUCCEEDED", result
        assert json.loads(result["output"])["workload"]["output"] == {"echo": {"ping": 1}}
    finally:
        # A run leaves its NAT Gateway deleting for a moment; AWS refuses to
        # release the Elastic IP until it is deleted (as the emulator does).
        time.sleep(1)
        terraform.destroy(variables)

    assert terraform.resources() == []
    assert inventory(local_aws, "tfmin-nat") == before


# A root module written under build/, calling the module by a relative path:
# Terraform uses a ./ or ../ source in place, while an absolute path would be
# copied, build/ and all.
_BAD_INPUTS_ROOT = REPO_ROOT / "build" / "terraform" / "bad-inputs-root"


def _module_call(name: str, **overrides: object) -> dict:
    call = {
        "source": os.path.relpath(REPO_ROOT, _BAD_INPUTS_ROOT),
        "name": name,
        "public_subnet_id": "subnet-0123456789abcdef0",
        "private_route_table_ids": ["rtb-0123456789abcdef0"],
        "workload_lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:job",
    }
    call.update(overrides)
    return call


# (module call, variable, a phrase of its error message)
_BAD_INPUTS = {
    "bad_a": _module_call(
        "9 starts with a digit",
        public_subnet_id="subnet-xyz",
        private_route_table_ids=["rtb-0123456789abcdef0", "rtb-0123456789abcdef0"],
        destination_cidr_blocks=["10.0.0.1/8"],
        eip_allocation_id="eip-123",
        workload_lambda_arn="arn:aws:lambda:us-east-1:123:function:job",
        workload_timeout_seconds=0,
        poll_interval_seconds=0.5,
        nat_ready_timeout_seconds=29,
        log_retention_days=2,
        powertools_layer_arn="layer",
        tags={"nat-on-demand:instance": "spoof"},
    ),
    "bad_b": _module_call(
        "ok-name",
        private_route_table_ids=[],
        destination_cidr_blocks=["0.0.0.0/0", "0.0.0.0/0"],
        run_timeout_seconds=10,
        idle_grace_seconds=4000,
        reaper_schedule_expression="cron(0 * * * ? *)",
    ),
    "bad_c": _module_call("ok-name-c", destination_cidr_blocks=["300.1.0.0/16"]),
}

_EXPECTED_ERRORS = [
    ("bad_a", "name must be 1-32 letters"),
    ("bad_a", "public_subnet_id must be a subnet ID"),
    ("bad_a", "private_route_table_ids must not list a route table twice"),
    ("bad_a", "written with its network address"),
    ("bad_a", "eip_allocation_id must be an allocation ID"),
    ("bad_a", "workload_lambda_arn must be a Lambda function ARN"),
    ("bad_a", "workload_timeout_seconds must be a whole number from 1 to 86400"),
    ("bad_a", "poll_interval_seconds must be a whole number from 1 to 300"),
    ("bad_a", "nat_ready_timeout_seconds must be a whole number from 30 to 3600"),
    ("bad_a", "log_retention_days must be one of"),
    ("bad_a", "powertools_layer_arn must be a layer version ARN"),
    ("bad_a", "Tag keys starting with nat-on-demand: are reserved"),
    ("bad_b", "private_route_table_ids must list between 1 and 100"),
    ("bad_b", "destination_cidr_blocks must not list a CIDR block twice"),
    ("bad_b", "run_timeout_seconds must be a whole number from 30 to 31536000"),
    ("bad_b", "idle_grace_seconds must be a whole number from 0 to 3600"),
    ("bad_b", "reaper_schedule_expression must be a rate expression"),
    ("bad_c", "written with its network address"),
]


def _errors_by_module(stderr: str) -> dict[str, str]:
    """Each module call's error text, from `terraform plan` output."""
    found: dict[str, str] = {}
    for block in stderr.split("Error: ")[1:]:
        module = re.search(r"in module\.(\w+):", block)
        if module is not None:
            flat = " ".join(block.split())
            found[module.group(1)] = found.get(module.group(1), "") + flat
    return found


def test_every_bad_input_is_named_at_plan_time(local_aws: LocalAws):
    _BAD_INPUTS_ROOT.mkdir(parents=True, exist_ok=True)
    (_BAD_INPUTS_ROOT / "main.tf.json").write_text(
        json.dumps(
            {
                "provider": {"aws": {"region": "us-east-1"}},
                "module": _BAD_INPUTS,
            }
        )
    )
    terraform = Terraform(
        _BAD_INPUTS_ROOT, name="test-bad-inputs", extra_env=local_aws.environment()
    )
    terraform.init()

    errors = _errors_by_module(terraform.plan_error())

    missing = [(m, phrase) for m, phrase in _EXPECTED_ERRORS if phrase not in errors.get(m, "")]
    assert missing == []
