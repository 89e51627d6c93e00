"""AWS clients, and the one place where botocore errors become domain errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries.standard import (
    OrRetryChecker,
    RetryContext,
    ThrottledRetryableChecker,
    TransientRetryableChecker,
)

from nat_on_demand.errors import AwsError, NatOnDemandError, TransientAwsError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_stepfunctions import SFNClient

# botocore's standard mode retries throttling (RequestLimitExceeded, ...) and
# 5xx with exponential backoff and jitter. What still fails after that is
# handed to Step Functions, whose Retry on TransientAwsError backs off longer
# than a Lambda should sleep.
_BOTO_CONFIG = BotoConfig(
    retries={"mode": "standard", "total_max_attempts": 5},
    connect_timeout=5,
    read_timeout=20,
)

_TRANSIENT = OrRetryChecker([TransientRetryableChecker(), ThrottledRetryableChecker()])


@cache
def ec2() -> EC2Client:
    """The EC2 client of this execution environment (created on first use)."""
    return boto3.client("ec2", config=_BOTO_CONFIG)


@cache
def dynamodb() -> DynamoDBClient:
    """The DynamoDB client of this execution environment (created on first use)."""
    return boto3.client("dynamodb", config=_BOTO_CONFIG)


@cache
def stepfunctions() -> SFNClient:
    """The Step Functions client of this execution environment (created on first use)."""
    return boto3.client("stepfunctions", config=_BOTO_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests that start a new mock call this)."""
    ec2.cache_clear()
    dynamodb.cache_clear()
    stepfunctions.cache_clear()


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_transient(error: ClientError) -> bool:
    """Throttling and server-side errors, as botocore's standard retry mode classifies them."""
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    context = RetryContext(attempt_number=1, parsed_response=error.response)
    return status >= 500 or bool(_TRANSIENT.is_retryable(context))


def to_domain_error(error: ClientError | BotoCoreError, doing: str) -> NatOnDemandError:
    """Name the failed call and keep AWS's code and message, classified for retry."""
    if isinstance(error, BotoCoreError):
        # Connection resets and read timeouts reach us only after botocore's retries.
        return TransientAwsError(f"{doing}: {error}")
    code = error_code(error)
    message = error.response.get("Error", {}).get("Message", "")
    text = f"{doing}: {code}: {message}"
    return TransientAwsError(text) if is_transient(error) else AwsError(text)


@contextmanager
def calling(doing: str) -> Iterator[None]:
    """Turn any botocore error raised inside into a domain error describing `doing`."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise to_domain_error(error, doing) from error


def page(pages: Any, key: str) -> Iterator[Any]:
    """Items under `key` across every page of a boto3 paginator."""
    for response in pages:
        yield from response.get(key, [])
