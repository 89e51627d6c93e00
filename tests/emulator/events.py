"""EventBridge rule targets that moto does not deliver to: Lambda and Step Functions.

On AWS a rule's target receives the matched event, shaped by the target's
Input (a constant), InputPath or InputTransformer: a Lambda function is
invoked asynchronously, a state machine gets a new execution. moto delivers
only to logs, SQS, archives and buses, raises NotImplementedError for the
rest, delivers to DISABLED rules, drops the event's `account` field when no
transformer is set, and inserts string values into an input template
without quotes (invalid JSON). This module closes those gaps for Lambda and
Step Functions targets; other target kinds still go to moto.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from jsonpath_ng.ext import parse as parse_jsonpath
from moto.awslambda.utils import get_backend as lambda_backend
from moto.events.models import Rule
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
            payload = target_input(target, event, self)
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


def target_input(target: dict[str, Any], event: dict[str, Any], rule: Rule) -> Any:
    """What a target receives for `event`: Input, InputPath, InputTransformer, or the event."""
    if target.get("Input") is not None:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        return _path_value(target["InputPath"], event)
    transformer = target.get("InputTransformer")
    if transformer:
        text = _fill_template(transformer, event, rule)
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            # A template that is not JSON is delivered as the text itself.
            return text
    return event


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def _path_value(path: str, event: dict[str, Any]) -> Any:
    matches = parse_jsonpath(path).find(event)
    return matches[0].value if matches else None


def _fill_template(transformer: dict[str, Any], event: dict[str, Any], rule: Rule) -> str:
    """InputTemplate with its <placeholders> filled as EventBridge fills them.

    A placeholder inside quotes gets the value's text; one outside quotes gets
    its JSON (a string value is quoted). Unknown placeholders are left as is.
    """
    values = {
        name: _path_value(path, event)
        for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    values |= {
        "aws.events.event": event,
        "aws.events.event.json": event,
        "aws.events.rule-arn": rule.arn,
        "aws.events.rule-name": rule.name,
        "aws.events.event.ingestion-time": event.get("time"),
    }

    template = str(transformer.get("InputTemplate") or "")
    pieces: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        name = match.group(1)
        if name not in values:
            continue
        before = template[position : match.start()]
        pieces.append(before)
        value = values[name]
        if _inside_string("".join(pieces)):
            text = value if isinstance(value, str) else json.dumps(value)
            pieces.append(json.dumps(text)[1:-1])
        else:
            pieces.append(json.dumps(value))
        position = match.end()
    pieces.append(template[position:])
    return "".join(pieces)


def _inside_string(text: str) -> bool:
    """Whether the end of `text` lies inside a JSON string (an odd count of unescaped quotes)."""
    inside, escaped = False, False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside


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
