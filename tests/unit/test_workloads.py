"""Per-type run input, and how an ECS task or nested execution that ended badly is reported."""

from __future__ import annotations

import dataclasses
import json

import pytest

from nat_on_demand import workloads
from nat_on_demand.config import Config
from nat_on_demand.errors import InvalidRunInput, WorkloadFailed

BASE = Config(
    instance="unit",
    public_subnet_id="subnet-0123456789abcdef0",
    allocation_id="eipalloc-0123456789abcdef0",
    route_table_ids=("rtb-0123456789abcdef0",),
    destination_cidr_blocks=("0.0.0.0/0",),
    lease_table="unit-lease",
    ready_timeout_seconds=600,
    poll_interval_seconds=10,
    workload_timeout_seconds=3600,
)
HOLD = dataclasses.replace(BASE, workload_type="hold", hold_seconds=1800)
ECS = dataclasses.replace(BASE, workload_type="ecs_task", ecs_container_name="job")
TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/jobs/0123456789abcdef"


def _task(*containers: dict, stop_code: str = "EssentialContainerExited") -> dict:
    return {
        "TaskArn": TASK_ARN,
        "LastStatus": "STOPPED",
        "StopCode": stop_code,
        "StoppedReason": "Essential container in task exited",
        "Containers": list(containers),
    }


def test_a_lambda_run_needs_no_extra_settings():
    assert workloads.run_settings(BASE, {"workload_input": {"any": ["json"]}}) == {}


def test_hold_uses_the_module_default_or_the_run_override():
    assert workloads.run_settings(HOLD, {"workload_input": {}}) == {"hold_seconds": 1800}
    assert workloads.run_settings(HOLD, {"workload_input": {}, "hold_seconds": 60}) == {
        "hold_seconds": 60
    }


def test_hold_longer_than_the_workload_timeout_is_refused():
    with pytest.raises(InvalidRunInput, match="hold_seconds must be at most 3600"):
        workloads.run_settings(HOLD, {"workload_input": {}, "hold_seconds": 3601})


def test_hold_seconds_is_refused_for_other_workload_types():
    with pytest.raises(InvalidRunInput, match="hold_seconds applies only to workload type hold"):
        workloads.run_settings(BASE, {"workload_input": {}, "hold_seconds": 60})


def test_hold_refuses_a_workload_input_it_would_ignore():
    with pytest.raises(InvalidRunInput, match="workload_input is not used by workload type hold"):
        workloads.run_settings(HOLD, {"workload_input": {"x": 1}})


def test_ecs_command_and_environment_become_container_overrides():
    settings = workloads.run_settings(
        ECS,
        {
            "workload_input": {
                "command": ["sh", "-c", "exit 0"],
                "environment": {"B": "2", "A": "1"},
            }
        },
    )

    assert settings == {
        "ecs_overrides": {
            "ContainerOverrides": [
                {
                    "Name": "job",
                    "Command": ["sh", "-c", "exit 0"],
                    "Environment": [{"Name": "A", "Value": "1"}, {"Name": "B", "Value": "2"}],
                }
            ]
        }
    }


def test_ecs_without_overrides_sends_empty_overrides():
    assert workloads.run_settings(ECS, {"workload_input": {}}) == {"ecs_overrides": {}}


@pytest.mark.parametrize(
    ("workload_input", "phrase"),
    [
        ({"cmd": ["x"]}, "cmd"),
        ({"command": "exit 1"}, "command must be array"),
        ({"environment": {"A": 1}}, "environment.A must be string"),
        ({"environment": {"1A": "x"}}, "environment"),
        ([], "workload_input"),
        ({"command": ["x" * 9000]}, "too large"),
    ],
)
def test_bad_ecs_workload_input_names_the_field(workload_input: object, phrase: str):
    with pytest.raises(InvalidRunInput, match="execution input: workload_input") as raised:
        workloads.run_settings(ECS, {"workload_input": workload_input})

    assert phrase in str(raised.value)


def test_ecs_overrides_need_a_container_name():
    unnamed = dataclasses.replace(ECS, ecs_container_name=None)

    with pytest.raises(InvalidRunInput, match=r"set workload\.ecs\.container_name"):
        workloads.run_settings(unnamed, {"workload_input": {"command": ["true"]}})


def test_a_task_whose_containers_all_exited_zero_succeeds():
    outcome = workloads.check(
        "ecs_task",
        {"task": _task({"Name": "job", "ExitCode": 0}, {"Name": "sidecar", "ExitCode": 0})},
    )

    assert outcome == {
        "task_arn": TASK_ARN,
        "last_status": "STOPPED",
        "stop_code": "EssentialContainerExited",
        "stopped_reason": "Essential container in task exited",
        "exit_codes": {"job": 0, "sidecar": 0},
    }


def test_a_non_zero_exit_fails_the_workload_with_code_and_reason():
    with pytest.raises(WorkloadFailed) as raised:
        workloads.check("ecs_task", {"task": _task({"Name": "job", "ExitCode": 3})})

    message = str(raised.value)
    assert TASK_ARN in message
    assert "container job exited with code 3" in message
    assert "EssentialContainerExited: Essential container in task exited" in message


def test_a_container_that_never_ran_fails_the_workload():
    task = _task(
        {"Name": "job", "Reason": "CannotPullContainerError: pull access denied"},
        stop_code="TaskFailedToStart",
    )

    with pytest.raises(WorkloadFailed, match=r"never ran\), reason: CannotPullContainerError"):
        workloads.check("ecs_task", {"task": task})


def test_the_task_failed_error_of_runtask_sync_becomes_workload_failed():
    # Step Functions fails runTask.sync with States.TaskFailed, the stopped
    # task as JSON in the cause.
    cause = json.dumps(_task({"Name": "job", "ExitCode": 7}))

    with pytest.raises(WorkloadFailed, match="container job exited with code 7"):
        workloads.check("ecs_task", {"Error": "States.TaskFailed", "Cause": cause})


def test_a_failed_nested_execution_becomes_workload_failed():
    cause = json.dumps(
        {
            "ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:child:run-1",
            "Status": "FAILED",
            "Error": "PartnerDown",
            "Cause": "503 from the partner API",
        }
    )

    with pytest.raises(WorkloadFailed) as raised:
        workloads.check("state_machine", {"Error": "States.TaskFailed", "Cause": cause})

    assert str(raised.value) == (
        "nested execution arn:aws:states:us-east-1:123456789012:execution:child:run-1 "
        "ended FAILED: PartnerDown: 503 from the partner API"
    )


def test_an_unexplained_error_is_still_reported_with_its_name_and_cause():
    with pytest.raises(WorkloadFailed, match=r"ecs_task workload failed: ECS\.Boom: it broke"):
        workloads.check("ecs_task", {"Error": "ECS.Boom", "Cause": "it broke"})
