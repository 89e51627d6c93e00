"""The errors a run can end with.

The class name of each error is what Step Functions sees as the `Error` of a
failed Lambda task (the python runtime reports it as `errorType`), so ASL Retry
and Catch match on these names. Keep them stable: they are part of the
module's interface, documented in the README.
"""

from __future__ import annotations


class NatOnDemandError(Exception):
    """Base class; never raised itself."""

    retryable = False


class InvalidEvent(NatOnDemandError):
    """A handler event does not match its schema (a bug in the caller or the ASL)."""


class InvalidRunInput(NatOnDemandError):
    """The execution input of a run is malformed; nothing was created."""


class ConfigurationError(NatOnDemandError):
    """The function's environment, set by the Terraform module, is incomplete."""


class NatGatewayFailed(NatOnDemandError):
    """AWS reported the NAT Gateway `failed` (FailureCode and FailureMessage in the message)."""

    def __init__(self, nat_gateway_id: str, failure_code: str, failure_message: str) -> None:
        super().__init__(f"NAT Gateway {nat_gateway_id} failed: {failure_code}: {failure_message}")
        self.nat_gateway_id = nat_gateway_id
        self.failure_code = failure_code
        self.failure_message = failure_message


class NatGatewayTimeout(NatOnDemandError):
    """The NAT Gateway did not become available before the readiness deadline."""


class LeaseLost(NatOnDemandError):
    """The run no longer holds the lease (it ended, and was released on its behalf)."""


class RouteConflict(NatOnDemandError):
    """A managed destination is routed to a target this module does not own."""


class TransientAwsError(NatOnDemandError):
    """AWS throttled or failed in a way worth retrying, after botocore's own retries."""

    retryable = True


class AwsError(NatOnDemandError):
    """AWS refused a call in a way retrying will not fix (permissions, bad ids, quotas)."""


class WorkloadFailed(NatOnDemandError):
    """The workload ran and failed: an ECS task exited non-zero, a nested execution failed."""


class EgressCheckFailed(NatOnDemandError):
    """The egress probe could not reach the echo service, or the internet saw another IP."""
