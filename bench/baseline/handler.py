"""The baseline for `make bench`: a NAT Gateway on demand as the simple published designs do it.

Not part of the module. One Lambda function with three handlers:

- create_nat_gateway_and_routes: create the NAT Gateway, block on botocore's
  `nat_gateway_available` waiter (billed while it waits), then route each
  private subnet's route table to it, one DescribeRouteTables per subnet;
- check_nat_gateway: describe it once (the state machine calls it after a
  fixed Wait);
- delete_routes_and_nat_gateway: delete each subnet's route (again one
  describe per subnet), delete the NAT Gateway and block on the
  `nat_gateway_deleted` waiter.

The waiters keep their botocore model (15 s delay, 40 attempts); the bench
scales the delay by BASELINE_WAITER_DELAY_SECONDS together with the local AWS's
NAT Gateway timings, through WaiterConfig as a user would.
"""

import json
import os

import boto3

DESTINATION = "0.0.0.0/0"


def _ec2():
    return boto3.client("ec2")


def _waiter_config():
    return {
        "Delay": float(os.environ["BASELINE_WAITER_DELAY_SECONDS"]),
        "MaxAttempts": int(os.environ["BASELINE_WAITER_MAX_ATTEMPTS"]),
    }


def _private_subnet_ids():
    return json.loads(os.environ["BASELINE_PRIVATE_SUBNET_IDS"])


def route_table_of(ec2, subnet_id):
    """The route table explicitly associated with `subnet_id`."""
    found = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )["RouteTables"]
    return found[0]["RouteTableId"]


def add_routes(ec2, subnet_ids, nat_gateway_id):
    for subnet_id in subnet_ids:
        ec2.create_route(
            RouteTableId=route_table_of(ec2, subnet_id),
            DestinationCidrBlock=DESTINATION,
            NatGatewayId=nat_gateway_id,
        )


def delete_routes(ec2, subnet_ids):
    for subnet_id in subnet_ids:
        ec2.delete_route(
            RouteTableId=route_table_of(ec2, subnet_id), DestinationCidrBlock=DESTINATION
        )


def create_nat_gateway(ec2):
    response = ec2.create_nat_gateway(
        SubnetId=os.environ["BASELINE_PUBLIC_SUBNET_ID"],
        AllocationId=os.environ["BASELINE_ALLOCATION_ID"],
        TagSpecifications=[
            {
                "ResourceType": "natgateway",
                "Tags": [{"Key": "bench:design", "Value": os.environ["BASELINE_NAME"]}],
            }
        ],
    )
    return response["NatGateway"]["NatGatewayId"]


def delete_nat_gateway(ec2, nat_gateway_id):
    ec2.delete_nat_gateway(NatGatewayId=nat_gateway_id)
    ec2.get_waiter("nat_gateway_deleted").wait(
        NatGatewayIds=[nat_gateway_id], WaiterConfig=_waiter_config()
    )


def create_nat_gateway_and_routes(event, context):
    ec2 = _ec2()
    nat_gateway_id = create_nat_gateway(ec2)
    ec2.get_waiter("nat_gateway_available").wait(
        NatGatewayIds=[nat_gateway_id], WaiterConfig=_waiter_config()
    )
    add_routes(ec2, _private_subnet_ids(), nat_gateway_id)
    return {"nat_gateway_id": nat_gateway_id}


def check_nat_gateway(event, context):
    found = _ec2().describe_nat_gateways(NatGatewayIds=[event["nat_gateway_id"]])["NatGateways"]
    return {"state": found[0]["State"] if found else "missing"}


def delete_routes_and_nat_gateway(event, context):
    nat_gateway_id = (event.get("nat") or {}).get("nat_gateway_id")
    if nat_gateway_id is None:
        # Creating it failed: nothing was created.
        return {"deleted": None}
    ec2 = _ec2()
    delete_routes(ec2, _private_subnet_ids())
    delete_nat_gateway(ec2, nat_gateway_id)
    return {"deleted": nat_gateway_id}
