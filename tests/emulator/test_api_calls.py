"""The API call recorder counts what reaches the local AWS, by action and by caller."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator import dispatch, lambda_runtime
from emulator.api_calls import ApiCallRecorder, count_by_action
from emulator.server import LocalAws


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        yield local


def test_counts_each_action_of_a_service(aws: LocalAws) -> None:
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    with ApiCallRecorder() as recorder:
        table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        ec2.describe_route_tables(RouteTableIds=[table_id])
        ec2.describe_route_tables(RouteTableIds=[table_id])
        aws.client("sts").get_caller_identity()

    calls = recorder.calls()
    assert count_by_action(calls, "ec2") == {"CreateRouteTable": 1, "DescribeRouteTables": 2}
    assert count_by_action(calls, "sts") == {"GetCallerIdentity": 1}
    assert [c.at for c in calls] == sorted(c.at for c in calls)
    assert [c.wall for c in calls] == sorted(c.wall for c in calls)


def test_counts_calls_that_fail(aws: LocalAws) -> None:
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    with ApiCallRecorder() as recorder, pytest.raises(ClientError, match=r"InvalidRoute\.NotFound"):
        ec2.delete_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0")

    assert count_by_action(recorder.calls(), "ec2") == {"DeleteRoute": 1}


def test_tells_callers_apart_by_access_key(aws: LocalAws) -> None:
    key = lambda_runtime.access_key_of("bench-controller")
    as_function = boto3.client(
        "ec2",
        region_name=aws.region,
        endpoint_url=aws.endpoint_url,
        aws_access_key_id=key,
        aws_secret_access_key="local-aws-lambda-secret-access-key",
    )
    with ApiCallRecorder() as recorder:
        as_function.describe_nat_gateways()
        aws.client("ec2").describe_nat_gateways()
        aws.client("ec2").describe_vpcs()

    calls = recorder.calls()
    assert count_by_action(calls, "ec2", {key}) == {"DescribeNatGateways": 1}
    assert count_by_action(calls, "ec2") == {"DescribeNatGateways": 2, "DescribeVpcs": 1}


def test_take_forgets_and_leaving_stops_recording(aws: LocalAws) -> None:
    ec2 = aws.client("ec2")
    with ApiCallRecorder() as recorder:
        ec2.describe_vpcs()
        assert [call.action for call in recorder.take()] == ["DescribeVpcs"]
        ec2.describe_subnets()
    ec2.describe_vpcs()

    assert [call.action for call in recorder.calls()] == ["DescribeSubnets"]
    assert recorder._hook not in dispatch._hooks
