"""Step Functions on the local AWS: where moto's ASL interpreter differs from AWS.

Each patch below names the AWS behaviour it reproduces. They apply to moto's
parser backend (`execute_state_machine`), which is the only one the local AWS
uses. `install()` is idempotent.

- ValidateStateMachineDefinition and ListStateMachineVersions, which the
  Terraform aws provider calls at plan and after create (moto has neither).
- CreateStateMachine/UpdateStateMachine refuse a definition whose transitions
  point nowhere (moto's parser accepts them and fails at run time).
- An execution started without a name gets a UUID (moto names it "None").
- A definite JSONPath such as `$.a[0].b` yields the value, not `[value]`.
- `$$.Execution.StartTime` is an ISO 8601 string (moto puts a datetime there,
  which then breaks DescribeExecution).
- StopExecution answers with its stopDate, and works right after
  StartExecution; DescribeExecution/ListExecutions give every ended execution
  a stopDate, and DescribeExecution's output is always JSON text.
- "Step Functions Execution Status Change" events reach EventBridge's default
  bus for RUNNING, SUCCEEDED, FAILED, TIMED_OUT and ABORTED.
- States.ALL in a Retry or Catch does not match States.DataLimitExceeded or
  States.Runtime (moto's matches every error); naming them does.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
import logging
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, cast

from jsonpath_ng.ext.parser import parse as parse_json_path
from jsonpath_ng.jsonpath import Child, Fields, Index, JSONPath, Root, This
from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.events.models import events_backends
from moto.stepfunctions.exceptions import InvalidToken, ValidationException
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.eval.evaluation_details import ExecutionDetails
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException
from moto.stepfunctions.parser.asl.static_analyser.express_static_analyser import (
    ExpressStaticAnalyser,
)
from moto.stepfunctions.parser.asl.static_analyser.static_analyser import StaticAnalyser
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.backend.execution import (
    BaseExecutionWorkerCommunication,
    Execution,
)
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

LOG = logging.getLogger(__name__)

_installed = threading.Event()
_install_lock = threading.Lock()


def install() -> None:
    """Apply every Step Functions fidelity patch once."""
    with _install_lock:
        if _installed.is_set():
            return
        _installed.set()
        StepFunctionResponse.validate_state_machine_definition = (  # type: ignore[attr-defined]
            _validate_state_machine_definition
        )
        StepFunctionResponse.list_state_machine_versions = (  # type: ignore[attr-defined]
            _list_state_machine_versions
        )
        _wrap(StepFunctionsParserBackend, "_validate_definition", _check_definition, static=True)
        _wrap(StepFunctionsParserBackend, "start_execution", _start_execution)
        _wrap(Execution, "get_start_execution_details", _start_execution_details)
        _wrap(Execution, "start", _start_and_announce)
        _wrap(Execution, "stop", _stop_when_started)
        _wrap(BaseExecutionWorkerCommunication, "terminated", _terminated_and_announce)
        _wrap(StepFunctionResponse, "describe_execution", _describe_execution)
        _wrap(StepFunctionResponse, "list_executions", _list_executions)
        _install_json_path()
        _allow_state_errors_in_fail_states()
        _states_all_spares_terminal_errors()


# AWS: "States.ALL ... cannot catch the States.DataLimitExceeded terminal error
# and Runtime error types" (Step Functions developer guide, error names).
_NOT_MATCHED_BY_STATES_ALL = frozenset({"States.DataLimitExceeded", "States.Runtime"})


def _states_all_spares_terminal_errors() -> None:
    """States.ALL matches every error except States.DataLimitExceeded and States.Runtime."""
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )

    def eval_body(original: Callable[..., None], self: Any, env: Any) -> None:
        error_name = env.stack[-1]
        spared = (
            isinstance(error_name, StatesErrorName)
            and error_name.error_name in _NOT_MATCHED_BY_STATES_ALL
            and error_name.error_name not in {e.error_name for e in self.error_names}
        )
        if not spared:
            original(self, env)
            return
        env.stack.pop()
        env.stack.append(False)

    _wrap(ErrorEqualsDecl, "_eval_body", eval_body)


def _allow_state_errors_in_fail_states() -> None:
    """A Fail state may end a run with a States.* error taken from ErrorPath.

    AWS lets a Fail state rethrow a caught error as it was (ErrorPath
    "$.error.Error" holding "States.Timeout"); moto builds a custom error name
    from it, which rejects the States. prefix, and the run ends States.Runtime.
    """
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
    from moto.stepfunctions.parser.asl.component.state.fail import state_fail

    class _AnyErrorName(ErrorName):
        def __init__(self, error_name: str | None) -> None:
            super().__init__(error_name=error_name)

    state_fail.CustomErrorName = _AnyErrorName  # type: ignore[attr-defined,misc]


def _wrap(owner: type, name: str, wrapper: Callable[..., Any], static: bool = False) -> None:
    """Replace `owner.name` by `wrapper(original, *args)`."""
    original = owner.__dict__[name]
    if static:
        inner = original.__func__

        def static_patched(*args: Any, **kwargs: Any) -> Any:
            return wrapper(inner, *args, **kwargs)

        setattr(owner, name, staticmethod(static_patched))
        return

    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        return wrapper(original, self, *args, **kwargs)

    setattr(owner, name, patched)


# --- ValidateStateMachineDefinition -----------------------------------------

Diagnostic = dict[str, str]

_TYPES = ("STANDARD", "EXPRESS")
_SEVERITIES = ("ERROR", "WARNING")
# API model: maxResults 0..100; 0 means the default, 100.
_MAX_DIAGNOSTICS = 100


def _diagnostic(code: str, message: str, location: str | None = None) -> Diagnostic:
    diagnostic = {"severity": "ERROR", "code": code, "message": message}
    if location is not None:
        diagnostic["location"] = location
    return diagnostic


def _enum_error(field: str, value: object, allowed: tuple[str, ...]) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
    )


def definition_diagnostics(definition: str, sm_type: str = "STANDARD") -> list[Diagnostic]:
    """What AWS's validator finds wrong with `definition` (empty when valid).

    The codes are the documented ones (API reference,
    ValidateStateMachineDefinitionDiagnostic); AWS says not to rely on the
    wording of messages, so ours are moto's parser errors or our own.
    """
    if not definition.strip():
        return [_diagnostic("MISSING_DESCRIPTION", "Received a null or empty workflow input.")]
    try:
        document = json.loads(definition)
    except ValueError as error:
        return [_diagnostic("INVALID_JSON_DESCRIPTION", f"Invalid JSON: {error}")]
    analyser = ExpressStaticAnalyser() if sm_type == "EXPRESS" else StaticAnalyser()
    try:
        # Parses with moto's ASL grammar and builds the program, as
        # CreateStateMachine would; the Express analyser also rejects
        # activities and .sync/.waitForTaskToken integrations.
        analyser.analyse(definition)
    except ASLParserException as error:
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", "; ".join(error.errors) or repr(error))]
    except Exception as error:  # moto's preprocessor raises plain ValueErrors
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", str(error))]
    return _flow_diagnostics(document, "")


def _flow_diagnostics(scope: Any, pointer: str) -> list[Diagnostic]:
    """Transitions that point nowhere, states that neither go on nor end.

    AWS refuses these at create time (MISSING_TRANSITION_TARGET,
    MISSING_END_STATE); moto's parser accepts them and fails at run time.
    Parallel branches and Map processors are scopes of their own.
    """
    states = scope.get("States") if isinstance(scope, dict) else None
    if not isinstance(states, dict):
        return []
    found: list[Diagnostic] = []
    names = set(states)
    start_at = scope.get("StartAt")
    if start_at not in names:
        found.append(
            _diagnostic(
                "MISSING_TRANSITION_TARGET",
                f"Missing 'Next' target: {start_at}",
                f"{pointer}/StartAt",
            )
        )
    terminal = False
    for name, state in states.items():
        where = f"{pointer}/States/{name}"
        kind = state.get("Type")
        for target, location in _transitions(state, where):
            if target not in names:
                found.append(
                    _diagnostic(
                        "MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {target}", location
                    )
                )
        ends = kind in ("Succeed", "Fail") or state.get("End") is True
        terminal = terminal or ends
        if kind != "Choice" and not ends and "Next" not in state:
            found.append(
                _diagnostic(
                    "SCHEMA_VALIDATION_FAILED",
                    "A state other than Choice, Succeed or Fail needs 'Next' or 'End': true",
                    where,
                )
            )
        for index, branch in enumerate(state.get("Branches") or []):
            found.extend(_flow_diagnostics(branch, f"{where}/Branches/{index}"))
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                found.extend(_flow_diagnostics(state[key], f"{where}/{key}"))
    if not terminal:
        found.append(
            _diagnostic("MISSING_END_STATE", "Workflow has no terminal state", pointer or "/")
        )
    return found


def _transitions(state: dict[str, Any], where: str) -> list[tuple[Any, str]]:
    """Every state name `state` may go to, with its location in the definition."""
    targets = [(state.get("Next"), f"{where}/Next")] if "Next" in state else []
    if state.get("Type") == "Choice":
        for index, rule in enumerate(state.get("Choices") or []):
            targets.append((rule.get("Next"), f"{where}/Choices/{index}/Next"))
        if "Default" in state:
            targets.append((state["Default"], f"{where}/Default"))
    for index, catcher in enumerate(state.get("Catch") or []):
        targets.append((catcher.get("Next"), f"{where}/Catch/{index}/Next"))
    return targets


def _validate_state_machine_definition(self: StepFunctionResponse) -> ActionResult:
    """AWS ValidateStateMachineDefinition: result OK/FAIL with diagnostics, never an error."""
    definition = self._get_param("definition") or ""
    sm_type = self._get_param("type") or "STANDARD"
    severity = self._get_param("severity") or "ERROR"
    max_results = self._get_int_param("maxResults") or _MAX_DIAGNOSTICS
    if sm_type not in _TYPES:
        raise _enum_error("type", sm_type, _TYPES)
    if severity not in _SEVERITIES:
        raise _enum_error("severity", severity, _SEVERITIES)
    if not 0 < max_results <= _MAX_DIAGNOSTICS:
        raise ValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to "
            f"satisfy constraint: Member must have value between 0 and {_MAX_DIAGNOSTICS}"
        )
    found = definition_diagnostics(definition, sm_type)
    # severity ERROR returns ERROR diagnostics only, WARNING returns both; the
    # result is FAIL whenever there is an ERROR, whatever is returned.
    shown = [d for d in found if severity == "WARNING" or d["severity"] == "ERROR"]
    failed = any(d["severity"] == "ERROR" for d in found)
    return ActionResult(
        {
            "result": "FAIL" if failed else "OK",
            "diagnostics": shown[:max_results],
            "truncated": len(shown) > max_results,
        }
    )


def _check_definition(_moto_check: Callable[..., None], definition: str) -> None:
    """CreateStateMachine/UpdateStateMachine refuse what the validator fails.

    Same parse as moto's own check, plus the flow checks; and the error comes
    back with AWS's code, InvalidDefinition (moto's has an empty code).
    """
    found = definition_diagnostics(definition)
    if found:
        first = found[0]
        raise AWSError(
            f"Invalid State Machine Definition: '{first['code']}: {first['message']}"
            f" at {first.get('location', '/')}'",
            exception_type="InvalidDefinition",
        )


# --- ListStateMachineVersions -------------------------------------------------

# API model: maxResults 0..1000; 0 means the default, 100.
_DEFAULT_PAGE = 100
_MAX_PAGE = 1000


def _page_token(arn: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([arn, offset]).encode()).decode()


def _page_offset(arn: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        token_arn, offset = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError as error:
        raise InvalidToken(token) from error
    if token_arn != arn or not isinstance(offset, int) or offset < 0:
        raise InvalidToken(token)
    return offset


def _list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
    """AWS ListStateMachineVersions: newest first, paginated.

    The API model lists no StateMachineDoesNotExist for this action, so an
    unknown (well-formed) ARN has no versions.
    """
    arn = self._get_param("stateMachineArn")
    max_results = self._get_int_param("maxResults") or _DEFAULT_PAGE
    if not 0 < max_results <= _MAX_PAGE:
        raise ValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to "
            f"satisfy constraint: Member must have value between 0 and {_MAX_PAGE}"
        )
    backend = self.stepfunction_backend
    backend._validate_machine_arn(arn)
    offset = _page_offset(arn, self._get_param("nextToken"))
    machine = next((sm for sm in backend.state_machines if sm.arn == arn), None)
    versions = sorted(
        machine.versions.values() if machine else [],
        key=lambda version: (version.creation_date, version.version),
        reverse=True,
    )
    page = versions[offset : offset + max_results]
    result: dict[str, Any] = {
        "stateMachineVersions": [
            {"stateMachineVersionArn": version.arn, "creationDate": version.creation_date}
            for version in page
        ]
    }
    if offset + max_results < len(versions):
        result["nextToken"] = _page_token(arn, offset + max_results)
    return ActionResult(result)


# --- Execution names, context object, StopExecution ---------------------------


def _start_execution(
    original: Callable[..., Execution],
    backend: StepFunctionsParserBackend,
    state_machine_arn: str,
    name: str | None = None,
    *args: Any,
    **kwargs: Any,
) -> Execution:
    """AWS names an unnamed execution with a UUID; a given name is checked as on AWS."""
    if name is None:
        name = str(uuid.uuid4())
    else:
        backend._validate_name(name)
    return original(backend, state_machine_arn, name, *args, **kwargs)


def _iso8601(moment: datetime.datetime) -> str:
    """AWS's timestamp form in the context object: 2019-03-26T20:14:13.192Z."""
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _start_execution_details(
    original: Callable[[Execution], ExecutionDetails], execution: Execution
) -> ExecutionDetails:
    """$$.Execution.StartTime is an ISO 8601 string on AWS, not a datetime."""
    details = original(execution)
    start_time: object = details.start_time  # moto annotates str, passes a datetime
    if isinstance(start_time, datetime.datetime):
        details = ExecutionDetails(
            arn=details.arn,
            name=details.name,
            role_arn=details.role_arn,
            inpt=details.inpt,
            start_time=_iso8601(start_time),
        )
    return details


def _stop_when_started(
    original: Callable[..., None],
    execution: Execution,
    stop_date: datetime.datetime,
    error: str | None,
    cause: str | None,
) -> None:
    """StopExecution right after StartExecution aborts it, and reports its stopDate.

    moto's worker thread builds its environment a moment after StartExecution
    returns: a stop before then crashes (no environment) or is lost (program
    not yet running). AWS's StopExecution also always returns stopDate.
    """
    deadline = time.monotonic() + 5.0
    while execution.exec_status == ExecutionStatus.RUNNING and time.monotonic() < deadline:
        worker = execution.exec_worker
        env = worker.env if worker is not None else None
        if env is not None and env.is_running():
            break
        time.sleep(0.01)
    original(execution, stop_date, error, cause)
    if execution.stop_date is None:
        execution.stop_date = datetime.datetime.now(tz=datetime.UTC)


def _ended(execution: Execution) -> bool:
    return execution.exec_status not in (None, ExecutionStatus.RUNNING)


def _describe_execution(
    original: Callable[[StepFunctionResponse], ActionResult], response: StepFunctionResponse
) -> ActionResult:
    """DescribeExecution: output is JSON text, and every ended execution has a stopDate.

    moto returns a string output as is (`yes`, where AWS returns `"yes"`) and
    leaves stopDate out for TIMED_OUT.
    """
    result = original(response)
    described = cast(dict[str, Any], result.result)
    # The parser backend's executions, whatever the base class annotates.
    execution: object = response.stepfunction_backend.describe_execution(described["executionArn"])
    if isinstance(execution, Execution):
        if execution.exec_status == ExecutionStatus.SUCCEEDED:
            described["output"] = json.dumps(execution.output, separators=(",", ":"))
        if _ended(execution) and execution.stop_date is not None:
            described["stopDate"] = execution.stop_date
    return result


def _list_executions(
    original: Callable[[StepFunctionResponse], ActionResult], response: StepFunctionResponse
) -> ActionResult:
    """ListExecutions: every ended execution has a stopDate (moto omits it for TIMED_OUT)."""
    result = original(response)
    backend = response.stepfunction_backend
    for item in cast(dict[str, Any], result.result)["executions"]:
        if "stopDate" not in item and item["status"] != ExecutionStatus.RUNNING:
            execution = backend.describe_execution(item["executionArn"])
            if execution.stop_date is not None:
                item["stopDate"] = execution.stop_date
    return result


# --- JSONPath -----------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _is_definite(path: str) -> bool:
    """A path of single names and single indexes only (Jayway's "definite" path).

    AWS evaluates JSONPath with Jayway: a definite path yields the one value it
    selects; wildcards, slices, unions, filters and deep scans yield a list.
    """

    def definite(node: JSONPath) -> bool:
        if isinstance(node, Root | This):
            return True
        if isinstance(node, Child):
            return definite(node.left) and definite(node.right)
        if isinstance(node, Fields):
            return len(node.fields) == 1 and node.fields[0] != "*"
        if isinstance(node, Index):
            return len(node.indices) == 1
        return False

    try:
        return definite(parse_json_path(path))
    except Exception:  # a path moto cannot parse: leave it to moto's own error
        return False


def _install_json_path() -> None:
    original: Callable[[str, Any], Any] = json_path.extract_json

    def extract_json(path: str, data: Any) -> Any:
        # moto wraps a definite path through an index (`$.a[0].b`) in a list.
        if _is_definite(path):
            matches = parse_json_path(path).find(data)
            if not matches:
                raise json_path.NoSuchJsonPathError(json_path=path, data=data)
            return matches[0].value
        return original(path, data)

    # moto's modules import the function by name: rebind it everywhere.
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("moto.stepfunctions.parser") and (
            getattr(module, "extract_json", None) is original
        ):
            module.extract_json = extract_json  # type: ignore[attr-defined]


# --- "Step Functions Execution Status Change" events --------------------------


def _epoch_millis(moment: datetime.datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def _status_change_detail(execution: Execution, status: str) -> dict[str, Any]:
    """The event's detail: DescribeExecution's fields, dates in epoch milliseconds.

    Shape from the Step Functions developer guide ("EventBridge (CloudWatch
    Events) for Step Functions execution status changes"); absent values are
    null, as in its examples.
    """
    machine = execution.state_machine
    succeeded = status == ExecutionStatus.SUCCEEDED
    ended = status != ExecutionStatus.RUNNING
    return {
        "executionArn": execution.exec_arn,
        "stateMachineArn": getattr(machine, "source_arn", None) or machine.arn,
        "name": execution.name,
        "status": status,
        "startDate": _epoch_millis(execution.start_date),
        "stopDate": _epoch_millis(execution.stop_date) if ended else None,
        "input": execution.execution_input,
        "output": json.dumps(execution.output, separators=(",", ":")) if succeeded else None,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if succeeded else None,
        "error": execution.error if ended else None,
        "cause": execution.cause if ended else None,
    }


class _StatusEvents:
    """Delivers status change events to EventBridge, in order, off the caller's thread.

    AWS delivers these events asynchronously (best effort): StartExecution
    and the execution itself never wait for EventBridge targets.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, str, dict[str, Any]]] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def put(self, execution: Execution, status: str) -> None:
        # Express workflows send no status change events to EventBridge.
        if getattr(execution.state_machine, "type", "STANDARD") == "EXPRESS":
            return
        detail = _status_change_detail(execution, ExecutionStatus(status).value)
        self._queue.put((execution.account_id, execution.region_name, detail))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._deliver_forever, name="sfn-status-events", daemon=True
                )
                self._thread.start()

    def drain(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _deliver_forever(self) -> None:
        while True:
            account_id, region, detail = self._queue.get()
            try:
                # put_events on the default bus: rules and targets match as
                # for any other event.
                events_backends[account_id][region].put_events(
                    [
                        {
                            "Source": "aws.states",
                            "DetailType": "Step Functions Execution Status Change",
                            "Detail": json.dumps(detail),
                            "Resources": [detail["executionArn"]],
                            "Time": time.time(),
                        }
                    ]
                )
            except Exception:  # a target moto cannot deliver to must not stop the others
                LOG.exception("could not deliver a Step Functions status change event")
            finally:
                self._queue.task_done()


_status_events = _StatusEvents()


def drain_status_events(timeout: float = 5.0) -> bool:
    """Wait until every status change event so far went to EventBridge (for tests)."""
    return _status_events.drain(timeout)


def _start_and_announce(original: Callable[[Execution], None], execution: Execution) -> None:
    if execution.exec_worker is None:
        _status_events.put(execution, ExecutionStatus.RUNNING)
    original(execution)


def _terminated_and_announce(
    original: Callable[[BaseExecutionWorkerCommunication], None],
    comm: BaseExecutionWorkerCommunication,
) -> None:
    execution = comm.execution
    stopped_at = execution.stop_date
    original(comm)
    worker = execution.exec_worker
    program_state = worker.env.program_state() if worker and worker.env else None
    if isinstance(program_state, ProgramStopped) and stopped_at is not None:
        # Keep the stopDate StopExecution answered with.
        execution.stop_date = stopped_at
    if execution.exec_status is not None:
        _status_events.put(execution, execution.exec_status)
