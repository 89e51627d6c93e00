"""The egress probe: runs in the private subnets, checks the internet sees the Elastic IP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from nat_on_demand import egress, events, observability
from nat_on_demand.config import ProbeConfig
from nat_on_demand.errors import EgressCheckFailed

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@logger.inject_lambda_context(clear_state=True)
@observability.traced
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = events.parse_probe_event(event)
    config = ProbeConfig.from_environment()
    logger.append_keys(
        execution_arn=request["execution_arn"],
        nat_gateway_id=request["nat_gateway_id"],
        echo_url=config.echo_url,
        expected_ip=config.expected_ip,
    )
    try:
        seen = egress.check(config.echo_url, config.expected_ip, config.timeout_seconds)
    except EgressCheckFailed as failed:
        # The state machine retries; each failed attempt is one line.
        logger.warning("Egress check failed", extra={"reason": str(failed)})
        raise
    logger.info("Egress verified", extra={"seen_ip": seen})
    return {"seen_ip": seen, "expected_ip": config.expected_ip, "echo_url": config.echo_url}
