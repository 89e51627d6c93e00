"""The NAT Gateway of one module instance: find, create, describe, delete.

Nothing here waits: a NAT Gateway takes minutes to become available, and the
state machine, not a billed Lambda, does the waiting between describes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from nat_on_demand import aws
from nat_on_demand.config import TAG_GENERATION, TAG_INSTANCE, TAG_LEASE, Config

PENDING = "pending"
AVAILABLE = "available"
DELETING = "deleting"
DELETED = "deleted"
FAILED = "failed"

# States in which a NAT Gateway is (or is about to be) billed.
LIVE_STATES = (PENDING, AVAILABLE)


@dataclass(frozen=True)
class NatGateway:
    id: str
    state: str
    public_ip: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    # Epoch seconds; NAT Gateway hours are billed from here, each started hour in full.
    created_at: float | None = None

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    @classmethod
    def from_api(cls, data: Any) -> NatGateway:
        addresses = data.get("NatGatewayAddresses") or [{}]
        created = data.get("CreateTime")
        return cls(
            id=data["NatGatewayId"],
            state=data["State"],
            public_ip=addresses[0].get("PublicIp"),
            failure_code=data.get("FailureCode"),
            failure_message=data.get("FailureMessage"),
            created_at=created.timestamp() if created is not None else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return {"nat_gateway_id": self.id, "state": self.state, "public_ip": self.public_ip}


def client_token(config: Config, generation: int) -> str:
    """The idempotency token for the NAT Gateway of one lease generation.

    Every attempt to create the NAT Gateway of a generation, a retried Lambda
    or two runs starting together, sends the same token, and EC2 answers all
    of them with the same NAT Gateway. EC2 accepts at most 64 ASCII characters.
    """
    seed = f"{config.instance}|{config.lease_id}|{generation}"
    return hashlib.sha256(seed.encode()).hexdigest()[:64]


def describe(nat_gateway_id: str) -> NatGateway | None:
    """The NAT Gateway, or None when EC2 does not know it (or not yet)."""
    try:
        response = aws.ec2().describe_nat_gateways(NatGatewayIds=[nat_gateway_id])
    except ClientError as error:
        # Right after CreateNatGateway, Describe can answer NotFound for a few
        # seconds (EC2 is eventually consistent); the caller decides.
        if aws.error_code(error) in ("NatGatewayNotFound", "InvalidNatGatewayID.NotFound"):
            return None
        raise aws.to_domain_error(error, f"DescribeNatGateways {nat_gateway_id}") from error
    found = response.get("NatGateways", [])
    return NatGateway.from_api(found[0]) if found else None


def find_owned(config: Config, states: Iterable[str] | None = None) -> list[NatGateway]:
    """NAT Gateways this module instance created for its slot, by their tags."""
    filters = [
        {"Name": f"tag:{TAG_INSTANCE}", "Values": [config.instance]},
        {"Name": f"tag:{TAG_LEASE}", "Values": [config.lease_id]},
    ]
    if states is not None:
        filters.append({"Name": "state", "Values": list(states)})
    paginator = aws.ec2().get_paginator("describe_nat_gateways")
    with aws.calling("DescribeNatGateways by tag"):
        return [
            NatGateway.from_api(item)
            # EC2 and botocore name this parameter Filter; mypy-boto3's stubs say Filters.
            for item in aws.page(paginator.paginate(Filter=filters), "NatGateways")  # type: ignore[call-arg]
        ]


def create(config: Config, generation: int) -> NatGateway:
    """Create (or, for a repeated token, get back) the NAT Gateway of `generation`.

    Every parameter, tags included, must be the same for every caller of a
    generation: EC2 answers a reused token with different parameters with
    IdempotentParameterMismatch. So no tag names the run that created it.
    """
    tags = {
        **config.nat_tags,
        "Name": config.instance,
        TAG_INSTANCE: config.instance,
        TAG_LEASE: config.lease_id,
        TAG_GENERATION: str(generation),
    }
    with aws.calling(f"CreateNatGateway in {config.public_subnet_id}"):
        response = aws.ec2().create_nat_gateway(
            SubnetId=config.public_subnet_id,
            AllocationId=config.allocation_id,
            ConnectivityType="public",
            ClientToken=client_token(config, generation),
            TagSpecifications=[
                {
                    "ResourceType": "natgateway",
                    "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
                }
            ],
        )
    return NatGateway.from_api(response["NatGateway"])


def delete(nat_gateway_id: str) -> None:
    """Start deleting the NAT Gateway; already deleting, deleted or unknown counts as done."""
    try:
        aws.ec2().delete_nat_gateway(NatGatewayId=nat_gateway_id)
    except ClientError as error:
        if aws.error_code(error) in ("NatGatewayNotFound", "InvalidNatGatewayID.NotFound"):
            return
        raise aws.to_domain_error(error, f"DeleteNatGateway {nat_gateway_id}") from error
