"""Injected faults reach every caller as the AWS errors they imitate."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator import faults
from emulator.server import LocalAws

# One attempt, no retries: the test sees exactly what the emulator answered.
_ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        yield local


@pytest.fixture(autouse=True)
def _clear_faults() -> Iterator[None]:
    yield
    faults.clear()


def test_throttling_within_botocore_retries_is_invisible(aws: LocalAws):
    fault = faults.throttle("ec2", "DescribeVpcs", times=2)
    client = aws.client("ec2", config=Config(retries={"mode": "standard", "max_attempts": 5}))

    client.describe_vpcs()

    assert fault.hits == 2


def test_throttling_past_retries_is_a_503_request_limit_exceeded(aws: LocalAws):
    faults.throttle("ec2", "DescribeVpcs", times=10)
    client = aws.client("ec2", config=Config(retries={"mode": "standard", "total_max_attempts": 2}))

    with pytest.raises(ClientError) as raised:
        client.describe_vpcs()

    assert raised.value.response["Error"]["Code"] == "RequestLimitExceeded"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_a_fault_stops_after_its_count(aws: LocalAws):
    fault = faults.inject(
        faults.Fault("ec2", "DescribeSubnets", "UnauthorizedOperation", "no", times=1)
    )
    client = aws.client("ec2", config=_ONE_ATTEMPT)

    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        client.describe_subnets()
    client.describe_subnets()

    assert fault.hits == 1


def test_a_hanging_call_does_not_hold_up_other_calls(aws: LocalAws):
    faults.inject(
        faults.Fault("ec2", "DescribeAddresses", "InternalError", "gone", 500, hang_seconds=2)
    )
    client = aws.client("ec2", config=_ONE_ATTEMPT)
    errors: list[str] = []

    def hang() -> None:
        try:
            client.describe_addresses()
        except ClientError as error:
            errors.append(error.response["Error"]["Code"])

    thread = threading.Thread(target=hang)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    aws.client("ec2").describe_vpcs()
    other_call = time.monotonic() - started
    thread.join()

    assert errors == ["InternalError"]
    assert other_call < 1.5, "another EC2 call waited for the hanging one"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("f.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def test_lambda_invoke_faults_match_function_and_action(aws: LocalAws):
    role = aws.client("iam").create_role(RoleName="faulty", AssumeRolePolicyDocument="{}")
    aws.client("lambda").create_function(
        FunctionName="faulty",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="f.handler",
        Code={"ZipFile": _zip()},
    )
    fault = faults.inject(
        faults.Fault(
            "lambda",
            "Invoke",
            "ServiceException",
            "Lambda is down",
            500,
            times=float("inf"),
            when=faults.invoking("faulty", action="release"),
        )
    )
    client = aws.client("lambda", config=_ONE_ATTEMPT)

    ok = client.invoke(FunctionName="faulty", Payload=json.dumps({"action": "acquire"}))
    with pytest.raises(ClientError) as raised:
        client.invoke(FunctionName="faulty", Payload=json.dumps({"action": "release"}))

    assert json.loads(ok["Payload"].read()) == {"action": "acquire"}
    assert raised.value.response["Error"]["Code"] == "ServiceException"
    assert fault.hits == 1


def test_skip_and_every_choose_which_calls_fail(aws: LocalAws):
    fault = faults.inject(
        faults.Fault("ec2", "DescribeRegions", "InternalError", "x", 500, times=10, skip=1, every=2)
    )
    client = aws.client("ec2", config=_ONE_ATTEMPT)
    outcomes = []
    for _ in range(6):
        try:
            client.describe_regions()
            outcomes.append("ok")
        except ClientError:
            outcomes.append("fail")

    assert outcomes == ["ok", "fail", "ok", "fail", "ok", "fail"]
    assert (fault.seen, fault.hits) == (6, 3)


def test_from_lambda_tells_function_calls_from_test_calls(aws: LocalAws):
    role = aws.client("iam").create_role(RoleName="caller", AssumeRolePolicyDocument="{}")
    source = (
        "import boto3\n"
        "def handler(e, c):\n"
        "    return len(boto3.client('ec2').describe_vpcs()['Vpcs'])\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("caller.py", source)
    aws.client("lambda").create_function(
        FunctionName="caller",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="caller.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    fault = faults.inject(
        faults.Fault(
            "ec2",
            "DescribeVpcs",
            "UnauthorizedOperation",
            "no",
            times=float("inf"),
            when=faults.from_lambda,
        )
    )

    aws.client("ec2").describe_vpcs()
    result = aws.client("lambda").invoke(FunctionName="caller", Payload=b"{}")

    assert result.get("FunctionError") == "Unhandled"
    assert "UnauthorizedOperation" in result["Payload"].read().decode()
    assert fault.hits == 1
