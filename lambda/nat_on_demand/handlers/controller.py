"""The controller: one function for every step of a run, chosen by the event's `action`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import single_metric

from nat_on_demand import config as configuration
from nat_on_demand import events, nat, observability, routes, steps, workloads
from nat_on_demand.config import Config
from nat_on_demand.errors import WorkloadFailed

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = observability.metrics()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@observability.traced
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = events.parse_controller_event(event)
    config = configuration.load()
    events.check_execution_of(request["execution_arn"], config.state_machine_arn)
    logger.append_keys(
        step=request["action"],
        execution_arn=request["execution_arn"],
        nat_instance=config.instance,
    )
    if request.get("nat_gateway_id"):
        logger.append_keys(nat_gateway_id=request["nat_gateway_id"])
    result: dict[str, Any] = _ACTIONS[request["action"]](config, request)
    return result


def _acquire(config: Config, request: dict[str, Any]) -> dict[str, Any]:
    # Validated before anything is written: a malformed start creates nothing.
    run_input = events.parse_run_input(request["execution_input"])
    if "run_label" in run_input:
        logger.append_keys(run_label=run_input["run_label"])
    workload_settings = workloads.run_settings(config, run_input)
    deadline = time.time() + config.ready_timeout_seconds
    status = steps.acquire(config, request["execution_arn"])
    if status.created:
        metrics.add_metric(observability.NAT_GATEWAY_CREATED, observability.COUNT, 1)
    elif status.state in nat.LIVE_STATES:
        metrics.add_metric(observability.NAT_GATEWAY_REUSED, observability.COUNT, 1)
    workload_input = run_input.pop("workload_input")
    return {
        "run": {
            **run_input,
            **workload_settings,
            "poll_interval_seconds": config.poll_interval_seconds,
            "workload_timeout_seconds": config.workload_timeout_seconds,
        },
        # The workload's result replaces this (ResultPath $.workload), so the
        # run's data never holds the input and the output side by side: their
        # sum could pass Step Functions' 256 KiB (States.DataLimitExceeded).
        "workload": workloads.state_input(config, workload_input),
        "nat": status.as_dict(deadline),
    }


def _poll(config: Config, request: dict[str, Any]) -> dict[str, Any]:
    status = steps.poll(
        config, request["execution_arn"], request["nat_gateway_id"], request["deadline"]
    )
    if status.created:
        metrics.add_metric(observability.NAT_GATEWAY_CREATED, observability.COUNT, 1)
    return status.as_dict(request["deadline"])


def _attach_routes(config: Config, request: dict[str, Any]) -> dict[str, Any]:
    changes = steps.attach_routes(config, request["execution_arn"], request["nat_gateway_id"])
    changed = sum(1 for change in changes if change.action != routes.KEPT)
    metrics.add_metric(observability.ROUTES_CHANGED, observability.COUNT, changed)
    return {
        "route_table_ids": list(config.route_table_ids),
        "changes": [change.as_dict() for change in changes],
    }


def _check_workload(config: Config, request: dict[str, Any]) -> dict[str, Any]:
    try:
        outcome = workloads.check(config.workload_type, request["workload"])
    except WorkloadFailed as failed:
        logger.error("Workload failed", extra={"reason": str(failed)})
        raise
    logger.info("Workload succeeded", extra={"outcome": outcome})
    return outcome


def _release(config: Config, request: dict[str, Any]) -> dict[str, Any]:
    result = steps.release(config, request["execution_arn"])
    metrics.add_metric(observability.ROUTES_CHANGED, observability.COUNT, len(result.route_changes))
    if result.uptime_seconds is not None:
        metrics.add_metric(
            observability.NAT_GATEWAY_UPTIME, observability.SECONDS, result.uptime_seconds
        )
    if "error" in request:
        # Failures by cause: the error is a dimension of its own metric only.
        with single_metric(
            name=observability.RUN_FAILED,
            unit=observability.COUNT,
            value=1,
            namespace=metrics.namespace,
            default_dimensions=metrics.default_dimensions,
        ) as failed:
            failed.add_dimension("service", config.instance)
            failed.add_dimension("ErrorType", request["error"])
    return result.as_dict()


_ACTIONS = {
    "acquire": _acquire,
    "poll": _poll,
    "attach_routes": _attach_routes,
    "check_workload": _check_workload,
    "release": _release,
}
