"""EventBridge rule targets that moto does not deliver to: Lambda and Step Functions.

On AWS a rule's target receives the matched event, shaped by the target's
Input (a constant), InputPath or InputTransformer: a Lambda function is
invoked asynchronously, a state machine gets a new execution. moto delivers
only to logs, SQS, archives and buses, raises NotImplementedError for the
rest, delivers to DISABLED rules, and drops the event's `account` field
when no transformer is set. This module closes those gaps; other target
kinds still go to moto.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from jsonpath_ng.ext import parse as parse_jsonpath
from moto.awslambda.utils import get_backend as lambda_backend
from moto.events.models import Rule
from moto.events.utils import EventTemplateParser
from moto.stepfunctions.responses import get_backend as stepfunctions_backend

_log = logging.getLogger(__name__)
_originals: dict[str, Any] = {}


def install() -> None:
    """Patch moto's rule delivery; idempotent."""
    if "send_to_targets" in _originals:
        return
    _originals["send_to_targets"] = Rule.send_to_targets
    Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign]


def _send_to_targets(
    self: Rule, original_event: dict[str, Any], transform_input: bool = True
) -> None:
    # A DISABLED rule matches nothing on AWS.
    if self.state != "ENABLED" or not self.event_pattern.matches_event(original_event):
        return
    event = _as_delivered(original_event)
    for target in self.targets:
        service = str(target["Arn"]).split(":")[2]
        if service not in ("lambda", "states"):
            single = _single_target_rule(self, target)
            _originals["send_to_targets"](single, original_event, transform_input)
            continue
        try:
            payload = target_input(target, event)
            if service == "lambda":
                _invoke_function(target["Arn"], payload)
            else:
                _start_execution(target["Arn"], payload)
        except Exception:
            # EventBridge never fails PutEvents because a target failed; AWS
            # would retry and then drop the event (or send it to a DLQ).
            _log.exception("EventBridge could not deliver to %s", target["Arn"])


def _as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as a target receives it: every field, `time` in ISO 8601 UTC."""
    delivered = dict(event)
    moment = delivered.get("time")
    if isinstance(moment, int | float):
        stamp = datetime.fromtimestamp(moment, tz=UTC)
        delivered["time"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return delivered


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What a target receives for `event`: Input, InputPath, InputTransformer, or the event."""
    if target.get("Input") is not None:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        matches = parse_jsonpath(target["InputPath"]).find(event)
        return matches[0].value if matches else None
    transformer = target.get("InputTransformer")
    if transformer:
        # moto's template parser also offers <aws.events.event.ingestion-time>.
        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event={"ingestion-time": event.get("time"), **event},
        )
    return {key: value for key, value in event.items() if key != "ingestion-time"}


def _single_target_rule(rule: Rule, target: dict[str, Any]) -> Rule:
    single = object.__new__(Rule)
    single.__dict__.update(rule.__dict__)
    single.targets = [target]
    return single


def _invoke_function(function_arn: str, payload: Any) -> None:
    parts = function_arn.split(":")
    account, region = parts[4], parts[3]
    lambda_backend(account, region).invoke(
        function_name=function_arn,
        qualifier=None,
        body=json.dumps(payload),
        headers={"x-amz-invocation-type": "Event"},
        response_headers={},
    )


def _start_execution(state_machine_arn: str, payload: Any) -> None:
    parts = state_machine_arn.split(":")
    account, region = parts[4], parts[3]
    stepfunctions_backend(account, region).start_execution(
        state_machine_arn, name=None, execution_input=json.dumps(payload)
    )
