"""The process one Lambda execution environment runs (the local AWS's python runtime).

`lambda_runtime` starts it as `python -I -u -B lambda_bootstrap.py REQ_FD RESP_FD` with
the function's environment, the unzipped code as working directory, stdout and
stderr on one pipe (the function's log) and two private pipes for invocations.
It does what AWS's runtime interface client (awslambdaric) does: import the
handler once (the INIT phase), then run one invocation at a time, and report
results and errors in the same shapes.

It imports nothing outside the standard library: the handler must see only its
own code and the interpreter's site-packages, as on AWS it sees /var/task, the
layers and the runtime's boto3.
"""

from __future__ import annotations

import contextlib
import decimal
import importlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

# Written to the log pipe (fd 1) before each message on the response pipe, so
# the parent knows which log lines belong to the phase that just ended. Kept in
# step with lambda_runtime (the test suite checks both copies agree).
SENTINEL = b"\x00local-aws:end-of-phase\x00\n"
# Inside one log record, newlines travel as this character so that a traceback
# stays one CloudWatch event, as AWS's framed telemetry log sink keeps it.
EVENT_NEWLINE = "\x1e"

# awslambdaric indents stack traces in its [ERROR] log lines with NO-BREAK SPACE.
_ERROR_LOG_INDENT = "\u00a0"

Handler = Callable[[Any, Any], Any]


class FaultError(Exception):
    """An error the runtime itself raises, with its `Runtime.*` error type."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


class CognitoIdentity:
    """`context.identity`, empty unless a mobile SDK sent one (it never does here)."""

    def __init__(self) -> None:
        self.cognito_identity_id: str | None = None
        self.cognito_identity_pool_id: str | None = None


class LambdaContext:
    """The context object the python runtime passes to the handler."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string on AWS too: awslambdaric copies the environment variable as is.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.client_context = None
        self.identity = CognitoIdentity()
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg: str) -> None:
        _write_log(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class _Invocation:
    """The request id the runtime's log records carry (one invocation at a time)."""

    request_id = ""


def _write_log(message: str) -> None:
    """One log record, straight to fd 1 so it stays in order with print() output."""
    body = message[:-1] if message.endswith("\n") else message
    data = (body.replace("\n", EVENT_NEWLINE) + "\n").encode("utf-8", "replace")
    with contextlib.suppress(OSError):
        os.write(1, data)


class _RuntimeLogHandler(logging.Handler):
    """The root logger handler AWS's python runtime installs."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _write_log(self.format(record))
        except Exception:
            self.handleError(record)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _Invocation.request_id
        return True


def _setup_logging() -> None:
    # Same format and UTC clock as the runtime; the root level stays WARNING
    # (AWS sets it only with advanced logging controls), so logging.info() shows
    # only once the function lowers it, as on AWS.
    logging.Formatter.converter = time.gmtime
    handler = _RuntimeLogHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _get_handler(name: str) -> Handler:
    """Import `module.function` the way awslambdaric does, with its error types."""
    try:
        module_name, function_name = name.rsplit(".", 1)
    except ValueError as error:
        raise FaultError("Runtime.MalformedHandlerName", f"Bad handler '{name}': {error}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise FaultError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from None
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise FaultError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {error}",
            trace,
        ) from None
    try:
        handler: Handler = getattr(module, function_name)
    except AttributeError:
        raise FaultError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None
    return handler


def make_error(
    message: str, error_type: str, stack_trace: list[str] | None, request_id: str | None
) -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


def _fault_result(error: BaseException, request_id: str | None) -> dict[str, Any]:
    # Drop the runtime's own frames, as awslambdaric drops those of its bootstrap.py.
    frames = traceback.extract_tb(error.__traceback__)
    own = Path(__file__).resolve()
    while frames and Path(frames[0].filename).resolve() == own:
        frames.pop(0)
    # As plain tuples, like awslambdaric: no 3.11 column carets in the trace.
    trace = traceback.format_list([(f.filename, f.lineno or 0, f.name, f.line) for f in frames])
    return make_error(str(error), type(error).__name__, trace, request_id)


def _log_error(error: dict[str, Any]) -> None:
    """The `[ERROR] Type: message` record the runtime logs for a failed phase."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            for line in element.splitlines() or [""]:
                stripped = line.lstrip(" ")
                lines.append(_ERROR_LOG_INDENT * (len(line) - len(stripped)) + stripped)
    _write_log("\n".join(lines))


def _default(value: Any) -> Any:
    # awslambdaric (simplejson) writes a Decimal as the number it holds.
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _marshal(result: Any) -> dict[str, Any]:
    if isinstance(result, bytes):
        # Returned as is (content type application/unknown) by the runtime.
        return {"payload_hex": result.hex()}
    try:
        # python3.12's runtime encodes with ensure_ascii=False.
        return {"payload": json.dumps(result, default=_default, ensure_ascii=False)}
    except Exception as error:
        raise FaultError("Runtime.MarshalError", f"Unable to marshal response: {error}") from None


def _send(channel: BinaryIO, message: dict[str, Any]) -> None:
    """End the current phase: flush the function's output, mark the log, then reply."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(OSError):
        os.write(1, SENTINEL)
    channel.write(json.dumps(message).encode("utf-8") + b"\n")
    channel.flush()


def _invoke(handler: Handler, request: dict[str, Any]) -> dict[str, Any]:
    request_id: str = request["request_id"]
    _Invocation.request_id = request_id
    os.environ["_X_AMZN_TRACE_ID"] = request["trace_id"]
    context = LambdaContext(request_id, request["invoked_function_arn"], request["deadline_ms"])
    try:
        event = json.loads(request["event"])
        return {"type": "result", **_marshal(handler(event, context))}
    except FaultError as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, request_id)
    except Exception as exc:
        # BaseException (SystemExit, KeyboardInterrupt) is not caught, as in
        # awslambdaric: the process ends and the platform reports Runtime.ExitError.
        error = _fault_result(exc, request_id)
    _log_error(error)
    return {"type": "error", "error": error}


def main(argv: list[str]) -> int:
    requests = os.fdopen(int(argv[1]), "rb")
    responses = os.fdopen(int(argv[2]), "wb")
    # /var/task first, as on AWS; the interpreter's site-packages stand in for
    # the runtime's boto3 and the layers.
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    _setup_logging()
    error: dict[str, Any] | None = None
    try:
        handler = _get_handler(os.environ.get("_HANDLER", ""))
    except FaultError as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, None)
    except Exception as exc:
        error = _fault_result(exc, None)
    if error is not None:
        _log_error(error)
        _send(responses, {"type": "init_error", "error": error})
        return 1
    _send(responses, {"type": "ready"})
    # The parent closes the request pipe to stop the environment; EOF also ends
    # a worker whose parent died, so none outlives the tests.
    for line in requests:
        _send(responses, _invoke(handler, json.loads(line)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
