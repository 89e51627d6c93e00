"""The reaper: started by EventBridge when a run ends without cleanup, and on a schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from nat_on_demand import aws, events, observability, reaper
from nat_on_demand import config as configuration
from nat_on_demand.errors import ConfigurationError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = observability.metrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@observability.traced
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = events.parse_reaper_event(event)
    config = configuration.load()
    if config.state_machine_arn is None:
        raise ConfigurationError("environment variable NAT_ON_DEMAND_STATE_MACHINE_ARN is not set")
    logger.append_keys(trigger=request["trigger"], nat_instance=config.instance)
    if "execution_arn" in request:
        logger.append_keys(execution_arn=request["execution_arn"])

    def status_of(execution_arn: str) -> str | None:
        # The event's own status is authoritative for the execution it names.
        if execution_arn == request.get("execution_arn"):
            return str(request["status"])
        return execution_status(execution_arn)

    sweep = reaper.reap(config, status_of, name=f"reaper:{context.aws_request_id}")
    # Every clean-up means a run did not clean up after itself (an idle grace
    # ending is not one); an unheld NAT Gateway is billed for nobody (an idle
    # grace included, up to its end).
    metrics.add_metric(observability.REAPER_CLEANUPS, observability.COUNT, sweep.cleaned_up)
    for uptime in sweep.uptimes:
        metrics.add_metric(observability.NAT_GATEWAY_UPTIME, observability.SECONDS, uptime)
    metrics.add_metric(
        observability.UNHELD_NAT_GATEWAY, observability.SECONDS, sweep.unheld_seconds
    )
    if sweep.cleaned_up:
        logger.warning("Reaper cleaned up", extra=sweep.as_dict())
    elif sweep.grace_ended:
        logger.info("Reaper ended an idle grace", extra=sweep.as_dict())
    else:
        logger.info("Reaper found nothing to clean")
    return {"trigger": request["trigger"], **sweep.as_dict()}


def execution_status(execution_arn: str) -> str | None:
    """RUNNING, SUCCEEDED, ...; None when Step Functions no longer knows the execution."""
    try:
        described = aws.stepfunctions().describe_execution(executionArn=execution_arn)
    except ClientError as error:
        # InvalidArn: no execution can have that ARN, so none is running.
        if aws.error_code(error) in ("ExecutionDoesNotExist", "InvalidArn"):
            return None
        raise aws.to_domain_error(error, f"DescribeExecution {execution_arn}") from error
    return str(described["status"])
