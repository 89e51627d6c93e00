"""Calling handlers as Lambda does, and reading what they print."""

from __future__ import annotations

import json
from dataclasses import dataclass

ARN = "arn:aws:states:us-east-1:123456789012:execution:unit:run-1"


@dataclass
class FakeContext:
    """The attributes of a Lambda context that the handlers and Powertools read."""

    function_name: str = "unit-controller"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:unit-controller"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/unit-controller"
    log_stream_name: str = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def metrics_in(output: str) -> dict[str, list[float]]:
    """Metric name -> values, from the EMF lines a handler printed."""
    found: dict[str, list[float]] = {}
    for line in output.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        record = json.loads(line)
        for definition in record["_aws"]["CloudWatchMetrics"]:
            for metric in definition["Metrics"]:
                value = record[metric["Name"]]
                found.setdefault(metric["Name"], []).extend(
                    value if isinstance(value, list) else [value]
                )
    return found
