"""What the handlers share for logs, metrics and traces (Powertools).

Logs are JSON lines from Powertools' Logger. Metrics are CloudWatch embedded
metric format (EMF) lines, in the namespace POWERTOOLS_METRICS_NAMESPACE with
the instance name as the `service` dimension. Traces are X-Ray, and only when
the module turns tracing on: Powertools' Tracer imports the X-Ray SDK when it
is created, which costs about 0.4 s of every cold start even with tracing
disabled, so it is created only when asked for.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

Handler = TypeVar("Handler", bound=Callable[..., Any])

DEFAULT_NAMESPACE = "NatOnDemand"

# Metric names; one concept, one word, as in the README.
NAT_GATEWAY_CREATED = "NatGatewayCreated"
NAT_GATEWAY_REUSED = "NatGatewayReused"
NAT_GATEWAY_UPTIME = "NatGatewayUptimeSeconds"
ROUTES_CHANGED = "RoutesChanged"
RUN_FAILED = "RunFailed"
REAPER_CLEANUPS = "ReaperCleanups"
UNHELD_NAT_GATEWAY = "UnheldNatGatewaySeconds"

COUNT = MetricUnit.Count
SECONDS = MetricUnit.Seconds

# Most poll steps have nothing to count; Powertools would say so in every log.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def metrics() -> Metrics:
    """The handler's metrics, flushed by its `log_metrics` decorator."""
    return Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_NAMESPACE))


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").lower() != "true"


def traced(handler: Handler) -> Handler:
    """`handler` with an X-Ray subsegment per invocation, when tracing is on."""
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer  # noqa: PLC0415 (only when on: see above)

    return Tracer().capture_lambda_handler(handler)  # type: ignore[return-value]
