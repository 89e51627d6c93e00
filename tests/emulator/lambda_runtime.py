"""Lambda invocations that really run the deployed zip, as AWS's python runtime does.

moto runs a function only inside Docker, which this machine lacks. `install()`
replaces that path for Zip functions:

- the deployed zip (moto keeps its bytes on `LambdaFunction.code_bytes`) is
  unzipped once per (function, code sha256) into a work directory (/var/task);
- the handler runs in a Python worker process (`lambda_bootstrap.py`) whose
  path is that directory, then the interpreter's site-packages (boto3 and
  Powertools stand in for the runtime's and the layer's); never the repository;
- workers stay warm, one invocation at a time each, and are reused for the
  same code and configuration, like execution environments;
- timeouts, unhandled exceptions, init errors and crashes come back in the
  payload shapes and FunctionError AWS uses, so Step Functions Retry/Catch
  match on the same error names;
- the function's output goes to /aws/lambda/<name> framed by START/END/REPORT.

It also makes CreateFunction/UpdateFunctionConfiguration accept public layers
of other accounts, and reports the real VPC of a function's subnets.

Public API: `install()`, `shutdown()`, `invocations()`, `take_invocations()`,
`InvocationRecord`. Environment: LOCAL_AWS_LAMBDA_WORKDIR (where zips are
unzipped; default a private temporary directory removed at shutdown).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import io
import json
import logging
import math
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto import settings as moto_settings
from moto.awslambda.exceptions import LambdaClientError, UnknownLayerVersionException
from moto.awslambda.models import LambdaBackend, LambdaFunction, lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.awslambda.utils import make_function_arn
from moto.core.responses import BaseResponse
from moto.ec2.models import ec2_backends
from moto.logs.models import logs_backends
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.sqs.models import sqs_backends

_log = logging.getLogger(__name__)
_BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
# Must equal lambda_bootstrap.SENTINEL / EVENT_NEWLINE (not imported: the
# bootstrap is a script run by another interpreter; a test checks they agree).
_SENTINEL = b"\x00local-aws:end-of-phase\x00"
_EVENT_NEWLINE = "\x1e"

# What the emulated runtime claims to be; the interpreter is sys.executable.
EXECUTION_ENV = "AWS_Lambda_python3.12"
_RUNTIME_VERSION = "python:3.12.local-aws"
# AWS: the INIT phase of an on-demand function may take 10 s; past that it is
# retried inside the invocation under the function's timeout.
INIT_TIMEOUT_SECONDS = 10.0
# AWS recycles idle execution environments after some minutes.
IDLE_SECONDS = 600.0
# AWS returns the last 4 KB of the invocation's log with LogType=Tail.
_LOG_TAIL_BYTES = 4096
# How long to wait for log lines to drain after a phase ends or a worker dies.
_LOG_DRAIN_SECONDS = 2.0


def access_key_of(function_name: str) -> str:
    """The access key id a function's calls are signed with.

    On AWS each function signs with temporary credentials of its own role, so
    calls can be told apart by caller; here each function gets a fixed key of
    AWS's shape (ASIA + 16 characters) derived from its name.
    """
    digest = base64.b32encode(hashlib.sha1(function_name.encode()).digest()).decode()
    return "ASIA" + digest[:16]


def _credentials_of(function_name: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": access_key_of(function_name),
        "AWS_SECRET_ACCESS_KEY": "local-aws-lambda-secret-access-key",
        "AWS_SESSION_TOKEN": "local-aws-lambda-session-token",
    }


_LAYER_VERSION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"layer:(?P<name>[a-zA-Z0-9_-]+):(?P<version>[0-9]+)$"
)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class InvocationRecord:
    """One invocation, as the benchmark needs it.

    `billed_ms` is what AWS bills: the duration rounded up to the next ms, plus
    the INIT phase on a cold start (AWS bills INIT for on-demand Zip functions
    on managed runtimes since August 2025; its REPORT line shows the sum).
    """

    function_name: str
    request_id: str
    invocation_type: str
    duration_ms: float
    billed_ms: int
    cold_start: bool
    init_duration_ms: float | None
    error_type: str | None
    memory_size_mb: int
    max_memory_used_mb: int


_records: list[InvocationRecord] = []
_records_lock = threading.Lock()


def invocations() -> list[InvocationRecord]:
    """Every invocation recorded since the last `take_invocations()`."""
    with _records_lock:
        return list(_records)


def take_invocations() -> list[InvocationRecord]:
    """Read and clear the invocation records."""
    with _records_lock:
        taken = list(_records)
        _records.clear()
        return taken


# --------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class _FunctionSpec:
    """A function's code and configuration, copied when the invocation arrives."""

    account_id: str
    region: str
    name: str
    arn: str
    base_arn: str
    version: str
    handler: str
    timeout: float
    memory_mb: int
    variables: tuple[tuple[str, str], ...]
    code: bytes = field(repr=False)
    code_sha256: str
    endpoint_url: str
    # DeadLetterConfig.TargetArn ("" without one): where failed events go.
    dead_letter_arn: str = ""

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"

    @property
    def key(self) -> tuple[Any, ...]:
        """Workers are reused only for exactly this code and configuration."""
        return (
            self.arn,
            self.code_sha256,
            self.handler,
            self.timeout,
            self.memory_mb,
            self.variables,
            self.endpoint_url,
        )

    def environment(self, task_root: Path, log_stream: str) -> dict[str, str]:
        # Not the test process's environment: only what a Lambda sandbox has.
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            # The handler's SDK calls go back to the local AWS.
            "AWS_ENDPOINT_URL": self.endpoint_url,
            # Loopback only: nothing listens there, and nothing may be sent off
            # this machine (traces are unsampled anyway, Sampled=0).
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        }
        env.update(dict(self.variables))
        # Reserved variables: AWS rejects functions that set them, and the
        # platform's values always win.
        env.update(
            {
                "_HANDLER": self.handler,
                "AWS_EXECUTION_ENV": EXECUTION_ENV,
                "AWS_LAMBDA_FUNCTION_NAME": self.name,
                "AWS_LAMBDA_FUNCTION_VERSION": self.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": self.log_group,
                "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "LAMBDA_TASK_ROOT": str(task_root),
                **_credentials_of(self.name),
            }
        )
        return env


def _spec_of(fn: LambdaFunction) -> _FunctionSpec:
    return _FunctionSpec(
        account_id=fn.account_id,
        region=fn.region,
        name=fn.function_name,
        arn=fn.function_arn,
        base_arn=make_function_arn(fn.region, fn.account_id, fn.function_name),
        version=str(fn.version),
        handler=fn.handler or "",
        timeout=float(fn.timeout),
        memory_mb=int(fn.memory_size),
        variables=tuple(sorted((str(k), str(v)) for k, v in (fn.environment_vars or {}).items())),
        code=fn.code_bytes,
        code_sha256=fn.code_digest,
        endpoint_url=f"http://127.0.0.1:{moto_settings.moto_server_port()}",
        dead_letter_arn=str((getattr(fn, "dead_letter_config", None) or {}).get("TargetArn") or ""),
    )


# --------------------------------------------------------------------------- task roots


class _WorkDir:
    """Where deployed zips are unzipped: LOCAL_AWS_LAMBDA_WORKDIR, or a private
    temporary directory that shutdown() removes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._private = False

    def task_root(self, spec: _FunctionSpec) -> Path:
        """The unzipped code of this function and sha256, made once (like /var/task)."""
        with self._lock:
            if self._path is None:
                configured = os.environ.get("LOCAL_AWS_LAMBDA_WORKDIR")
                self._private = not configured
                self._path = (
                    Path(configured)
                    if configured
                    else Path(tempfile.mkdtemp(prefix="local-aws-lambda-"))
                )
                self._path.mkdir(parents=True, exist_ok=True)
            root = self._path / f"{spec.name}-{spec.code_sha256}"
            if not root.is_dir():
                # Unzip beside it and rename, so a half-written tree is never used.
                staging = Path(tempfile.mkdtemp(prefix=".unzip-", dir=self._path))
                with zipfile.ZipFile(io.BytesIO(spec.code)) as archive:
                    archive.extractall(staging)
                staging.rename(root)
            return root

    def remove(self) -> None:
        with self._lock:
            if self._path is not None and self._private:
                shutil.rmtree(self._path, ignore_errors=True)
            self._path, self._private = None, False


_workdir = _WorkDir()


# --------------------------------------------------------------------------- workers


@dataclass(frozen=True)
class _LogLine:
    timestamp_ms: int
    message: str


def _now_ms() -> int:
    return int(time.time() * 1000)


class _LogReader(threading.Thread):
    """Reads a worker's stdout+stderr and splits it into the phases it marks."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True, name=f"lambda-log-{fd}")
        self._fd = fd
        self._cond = threading.Condition()
        self._current: list[_LogLine] = []
        self._phases: list[list[_LogLine]] = []
        self._eof = False

    def run(self) -> None:
        buffer = bytearray()
        try:
            while chunk := os.read(self._fd, 65536):
                buffer += chunk
                while (end := buffer.find(b"\n")) >= 0:
                    self._line(bytes(buffer[:end]))
                    del buffer[: end + 1]
        except OSError:
            pass
        finally:
            if buffer:
                self._line(bytes(buffer), terminated=False)
            os.close(self._fd)
            with self._cond:
                self._eof = True
                self._cond.notify_all()

    def _line(self, raw: bytes, terminated: bool = True) -> None:
        ended = raw.endswith(_SENTINEL)
        if ended:
            raw = raw[: -len(_SENTINEL)]
            terminated = False
        with self._cond:
            if raw or not ended:
                # CloudWatch keeps the newline a line ended with, as Lambda sends it.
                text = raw.decode("utf-8", "replace").replace(_EVENT_NEWLINE, "\n")
                self._current.append(_LogLine(_now_ms(), text + ("\n" if terminated else "")))
            if ended:
                self._phases.append(self._current)
                self._current = []
                self._cond.notify_all()

    def take_phase(self) -> list[_LogLine]:
        """The lines of the phase whose end the worker just reported."""
        with self._cond:
            self._cond.wait_for(lambda: self._phases or self._eof, _LOG_DRAIN_SECONDS)
            if self._phases:
                return self._phases.pop(0)
            lines, self._current = self._current, []
            return lines

    def take_pending(self) -> list[_LogLine]:
        """Lines written between invocations (background threads): logged with the next."""
        with self._cond:
            lines = [line for phase in self._phases for line in phase] + self._current
            self._phases, self._current = [], []
            return lines

    def take_rest(self) -> list[_LogLine]:
        """Everything left once the worker is gone."""
        with self._cond:
            self._cond.wait_for(lambda: self._eof, _LOG_DRAIN_SECONDS)
        return self.take_pending()


class _WorkerDied(Exception):
    pass


class _Worker:
    """One warm execution environment: a bootstrap process and its pipes."""

    def __init__(self, spec: _FunctionSpec) -> None:
        self.spec = spec
        self.key = spec.key
        now = datetime.now(UTC)
        self.log_stream = f"{now:%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}"
        self.retired = False
        self.idle_since = time.monotonic()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: _LogReader | None = None
        self.max_memory_mb = 0
        self._requests_fd = -1
        self._responses_fd = -1
        self._responses = bytearray()
        self._lock = threading.Lock()

    def start(self) -> None:
        task_root = _workdir.task_root(self.spec)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        log_r, log_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                # -I: no PYTHONPATH, no user site, no script or working directory
                # on sys.path (the handler must import from its zip, not the repo);
                # -u: output reaches the log as written; -B: /var/task is read-only.
                [sys.executable, "-I", "-u", "-B", str(_BOOTSTRAP), str(req_r), str(resp_w)],
                stdin=subprocess.DEVNULL,
                stdout=log_w,
                stderr=log_w,
                cwd=task_root,
                env=self.spec.environment(task_root, self.log_stream),
                pass_fds=(req_r, resp_w),
                # Its own process group, so a timeout also ends what the handler started.
                start_new_session=True,
            )
        except BaseException:
            for fd in (req_w, resp_r, log_r):
                os.close(fd)
            raise
        finally:
            for fd in (req_r, resp_w, log_w):
                os.close(fd)
        self._requests_fd = req_w
        self._responses_fd = resp_r
        self.log = _LogReader(log_r)
        self.log.start()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode("utf-8") + b"\n"
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._requests_fd, view) :]
        except OSError as error:
            raise _WorkerDied from error

    def receive(self, deadline: float) -> dict[str, Any]:
        """The worker's next message; TimeoutError past `deadline` (monotonic)."""
        poller = select.poll()
        poller.register(self._responses_fd, select.POLLIN)
        while (end := self._responses.find(b"\n")) < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise TimeoutError
            chunk = os.read(self._responses_fd, 1 << 20)
            if not chunk:
                raise _WorkerDied
            self._responses += chunk
        line = bytes(self._responses[:end])
        del self._responses[: end + 1]
        message: dict[str, Any] = json.loads(line)
        self._sample_memory()
        return message

    def _sample_memory(self) -> None:
        # Peak resident memory of the environment, like REPORT's Max Memory Used.
        if self.proc is None:
            return
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_mb = math.ceil(int(line.split()[1]) / 1024)
                    self.max_memory_mb = max(self.max_memory_mb, peak_mb)

    def exit_reason(self) -> str:
        """How the process ended, in the words of Lambda's Runtime.ExitError."""
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=_LOG_DRAIN_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.wait()
        if code == 0:
            return "Runtime exited without providing a reason"
        if code < 0:
            name = signal.strsignal(-code) or f"signal {-code}"
            return f"Runtime exited with error: signal: {name.lower()}"
        return f"Runtime exited with error: exit status {code}"

    def kill(self) -> None:
        with self._lock:
            self._sample_memory()
            if self.proc is not None and self.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=5)

    def close(self) -> None:
        """Stop the environment and release its pipes (idempotent)."""
        self.kill()
        with self._lock:
            for fd in (self._requests_fd, self._responses_fd):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self._requests_fd = self._responses_fd = -1
        if self.log is not None:
            self.log.join(timeout=_LOG_DRAIN_SECONDS)


class _Pool:
    """Warm workers by function code and configuration; one invocation per worker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[tuple[Any, ...], list[_Worker]] = {}
        self._busy: set[_Worker] = set()

    def acquire(self, spec: _FunctionSpec) -> tuple[_Worker, bool]:
        """A warm worker for `spec` (False), or a new, not yet started one (True)."""
        stale: list[_Worker] = []
        with self._lock:
            now = time.monotonic()
            for key, workers in list(self._idle.items()):
                keep = [w for w in workers if w.alive and now - w.idle_since < IDLE_SECONDS]
                stale += [w for w in workers if w not in keep]
                if keep:
                    self._idle[key] = keep
                else:
                    del self._idle[key]
            idle = self._idle.get(spec.key)
            worker = idle.pop() if idle else None
            cold = worker is None
            if worker is None:
                # Registered before it starts so that retire() sees it too.
                worker = _Worker(spec)
            self._busy.add(worker)
        for old in stale:
            old.close()
        return worker, cold

    def release(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            reusable = worker.alive and not worker.retired
            if reusable:
                worker.idle_since = time.monotonic()
                self._idle.setdefault(worker.key, []).append(worker)
        if not reusable:
            worker.close()

    def retire(self, match: Callable[[_Worker], bool]) -> None:
        """Stop idle matching workers now and busy ones when their invocation ends."""
        victims: list[_Worker] = []
        with self._lock:
            for key, workers in list(self._idle.items()):
                victims += [w for w in workers if match(w)]
                keep = [w for w in workers if not match(w)]
                if keep:
                    self._idle[key] = keep
                else:
                    del self._idle[key]
            for worker in self._busy:
                if match(worker):
                    worker.retired = True
        for worker in victims:
            worker.close()

    def stop_all(self) -> None:
        """Kill every worker; busy invocations then end with Runtime.ExitError."""
        with self._lock:
            busy = list(self._busy)
        self.retire(lambda _worker: True)
        for worker in busy:
            worker.kill()

    def busy(self, function_name: str) -> int:
        with self._lock:
            return sum(1 for worker in self._busy if worker.spec.name == function_name)


_pool = _Pool()


def wait_until_idle(function_name: str, timeout: float) -> bool:
    """Wait until no invocation of `function_name` is running; False if one still is.

    On AWS an invocation runs to its end (or its timeout) even when the caller
    stopped waiting: a Step Functions task that timed out, an execution that
    was stopped. Tests that judge what such a straggler left behind wait here.
    """
    deadline = time.monotonic() + timeout
    while _pool.busy(function_name):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


# --------------------------------------------------------------------------- invocation


@dataclass
class _Outcome:
    payload: bytes
    error_type: str | None = None
    status: str | None = None  # REPORT's Status: timeout | error
    logs: list[_LogLine] = field(default_factory=list)


def _platform(message: str) -> _LogLine:
    return _LogLine(_now_ms(), message + "\n")


def _error_payload(error: dict[str, Any]) -> bytes:
    return json.dumps(error).encode("utf-8")


def _run(
    worker: _Worker, cold: bool, spec: _FunctionSpec, request_id: str, payload: bytes
) -> tuple[_Outcome, float, float | None]:
    """Run one invocation on `worker`: (outcome, duration ms, init duration ms)."""
    logs: list[_LogLine] = []
    init_ms: float | None = None
    if cold:
        logs.append(_platform(f"INIT_START Runtime Version: {_RUNTIME_VERSION}"))
        started = time.monotonic()
        worker.start()
        assert worker.log is not None
        try:
            message = worker.receive(started + INIT_TIMEOUT_SECONDS + spec.timeout)
        except (TimeoutError, _WorkerDied) as error:
            # As when AWS re-runs a failed INIT inside the invocation: the time
            # counts as the invocation's Duration, with no Init Duration.
            elapsed = (time.monotonic() - started) * 1000
            return _failed_init(worker, spec, request_id, logs, error), elapsed, None
        init_ms = (time.monotonic() - started) * 1000
        logs += worker.log.take_phase()
        if message["type"] == "init_error":
            error_type = message["error"]["errorType"]
            logs.append(
                _platform(
                    f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\t"
                    f"Status: error\tError Type: {error_type}"
                )
            )
            # The environment is discarded; the next invocation initialises again.
            worker.retired = True
            outcome = _Outcome(_error_payload(message["error"]), error_type, "error", logs)
            return _framed(outcome, request_id, spec), init_ms, None
    assert worker.log is not None
    logs += worker.log.take_pending()
    logs.append(_platform(f"START RequestId: {request_id} Version: {spec.version}"))
    started = time.monotonic()
    deadline_ms = _now_ms() + int(spec.timeout * 1000)
    try:
        worker.send(
            {
                "request_id": request_id,
                "event": payload.decode("utf-8"),
                "deadline_ms": deadline_ms,
                "invoked_function_arn": spec.arn,
                "trace_id": _trace_id(),
            }
        )
        message = worker.receive(started + spec.timeout)
    except TimeoutError:
        outcome = _timed_out(worker, spec, request_id, logs)
        return _framed(outcome, request_id, spec), spec.timeout * 1000, init_ms
    except _WorkerDied:
        duration = (time.monotonic() - started) * 1000
        outcome = _exit_error(worker, request_id, logs)
        return _framed(outcome, request_id, spec), duration, init_ms
    duration = (time.monotonic() - started) * 1000
    logs += worker.log.take_phase()
    if message["type"] == "error":
        outcome = _Outcome(_error_payload(message["error"]), message["error"]["errorType"])
    elif "payload_hex" in message:
        outcome = _Outcome(bytes.fromhex(message["payload_hex"]))
    else:
        outcome = _Outcome(message["payload"].encode("utf-8"))
    outcome.logs = logs
    return _framed(outcome, request_id, spec), duration, init_ms


def _failed_init(
    worker: _Worker, spec: _FunctionSpec, request_id: str, logs: list[_LogLine], error: Exception
) -> _Outcome:
    logs.append(_platform(f"START RequestId: {request_id} Version: {spec.version}"))
    if isinstance(error, TimeoutError):
        return _framed(_timed_out(worker, spec, request_id, logs), request_id, spec)
    return _framed(_exit_error(worker, request_id, logs), request_id, spec)


def _timed_out(
    worker: _Worker, spec: _FunctionSpec, request_id: str, logs: list[_LogLine]
) -> _Outcome:
    # Lambda stops the whole sandbox; the next invocation gets a new one.
    worker.kill()
    assert worker.log is not None
    logs += worker.log.take_rest()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    logs.append(_platform(f"{stamp} {request_id} Task timed out after {spec.timeout:.2f} seconds"))
    error = {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
        f"{spec.timeout:.2f} seconds",
    }
    return _Outcome(_error_payload(error), "Sandbox.Timedout", "timeout", logs)


def _exit_error(worker: _Worker, request_id: str, logs: list[_LogLine]) -> _Outcome:
    reason = worker.exit_reason()
    assert worker.log is not None
    logs += worker.log.take_rest()
    logs.append(_platform(f"RequestId: {request_id} Error: {reason}"))
    logs.append(_platform("Runtime.ExitError"))
    error = {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: {reason}",
    }
    return _Outcome(_error_payload(error), "Runtime.ExitError", "error", logs)


def _framed(outcome: _Outcome, request_id: str, spec: _FunctionSpec) -> _Outcome:
    # START is added by _run (or here when init failed); END always here.
    if not any(line.message.startswith("START RequestId:") for line in outcome.logs):
        outcome.logs.append(_platform(f"START RequestId: {request_id} Version: {spec.version}"))
    outcome.logs.append(_platform(f"END RequestId: {request_id}"))
    return outcome


def _trace_id() -> str:
    # What Lambda sets in _X_AMZN_TRACE_ID for a PassThrough function: unsampled.
    return (
        f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
        f"Parent={uuid.uuid4().hex[:16]};Sampled=0"
    )


def _report(
    *,
    request_id: str,
    spec: _FunctionSpec,
    duration_ms: float,
    init_ms: float | None,
    max_memory_mb: int,
    outcome: _Outcome,
) -> tuple[_LogLine, int]:
    billed = math.ceil(duration_ms + (init_ms or 0.0))
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed} ms",
        f"Memory Size: {spec.memory_mb} MB",
        f"Max Memory Used: {max_memory_mb} MB",
    ]
    if init_ms is not None:
        parts.append(f"Init Duration: {init_ms:.2f} ms")
    if outcome.status is not None:
        parts.append(f"Status: {outcome.status}")
        if outcome.status == "error" and outcome.error_type:
            parts.append(f"Error Type: {outcome.error_type}")
    # AWS ends REPORT with a tab before the newline.
    return _platform("\t".join(parts) + "\t"), billed


_logs_lock = threading.Lock()


def _put_logs(spec: _FunctionSpec, stream: str, lines: list[_LogLine]) -> None:
    backend = logs_backends[spec.account_id][spec.region]
    events = []
    last = 0
    for line in lines:
        # PutLogEvents wants chronological order; lines come from two threads.
        last = max(last, line.timestamp_ms)
        events.append({"timestamp": last, "message": line.message})
    with _logs_lock:
        # Lambda creates its log group only if it is missing, and its stream.
        backend.ensure_log_group(spec.log_group)
        backend.ensure_log_stream(spec.log_group, stream)
        backend.put_log_events(spec.log_group, stream, events)


@dataclass
class _Result:
    payload: bytes
    function_error: str | None
    log_text: str


def _invoke(spec: _FunctionSpec, payload: bytes, invocation_type: str, request_id: str) -> _Result:
    worker, cold = _pool.acquire(spec)
    try:
        try:
            outcome, duration_ms, init_ms = _run(worker, cold, spec, request_id, payload)
        except Exception:
            # A bug here must not leave a half-used worker in the pool.
            worker.retired = True
            raise
        if outcome.status is not None:
            # Timed out or crashed: the environment is gone, the next call is cold.
            worker.retired = True
            worker.kill()
    finally:
        _pool.release(worker)
    report, billed = _report(
        request_id=request_id,
        spec=spec,
        duration_ms=duration_ms,
        init_ms=init_ms,
        max_memory_mb=worker.max_memory_mb,
        outcome=outcome,
    )
    outcome.logs.append(report)
    _put_logs(spec, worker.log_stream, outcome.logs)
    with _records_lock:
        _records.append(
            InvocationRecord(
                function_name=spec.name,
                request_id=request_id,
                invocation_type=invocation_type,
                duration_ms=round(duration_ms, 2),
                billed_ms=billed,
                cold_start=cold,
                init_duration_ms=None if init_ms is None else round(init_ms, 2),
                error_type=outcome.error_type,
                memory_size_mb=spec.memory_mb,
                max_memory_used_mb=worker.max_memory_mb,
            )
        )
    return _Result(
        outcome.payload,
        None if outcome.error_type is None else "Unhandled",
        "".join(line.message for line in outcome.logs),
    )


def _invoke_in_background(spec: _FunctionSpec, payload: bytes, request_id: str) -> None:
    """InvocationType=Event: accepted at once, run on a thread of its own.

    AWS would retry a failed event twice (after about 1 and 2 minutes) before
    it gives up; here it gives up at once: the error is logged, recorded, and
    the event goes to the function's dead-letter queue when it has one.
    """

    def run() -> None:
        try:
            result = _invoke(spec, payload, "Event", request_id)
            if result.function_error and spec.dead_letter_arn:
                _dead_letter(spec, payload, request_id, result)
        except Exception:
            # Nobody waits for this answer: say what broke instead of losing it.
            _log.exception("local AWS: event invocation %s of %s failed", request_id, spec.name)

    threading.Thread(target=run, daemon=True, name=f"lambda-event-{spec.name}").start()


def _dead_letter(spec: _FunctionSpec, payload: bytes, request_id: str, result: _Result) -> None:
    """AWS sends the event that failed every attempt to the DeadLetterConfig
    target, the event as the body, with RequestID, ErrorCode and ErrorMessage
    attributes. Only SQS targets are delivered here; an SNS one is logged."""
    arn = spec.dead_letter_arn.split(":")
    if len(arn) != 6 or arn[2] != "sqs":
        _log.warning("local AWS: dead-letter target %s is not delivered", spec.dead_letter_arn)
        return
    try:
        message = json.loads(result.payload).get("errorMessage", "")
    except (ValueError, AttributeError):
        message = ""
    attributes = {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": str(message) or "Unhandled"},
    }
    sqs_backends[arn[4]][arn[3]].send_message(arn[5], payload.decode("utf-8"), attributes)


# --------------------------------------------------------------------------- moto patches


class _Originals:
    """moto's own methods, for what this runtime leaves to moto (Image functions)."""

    installed = False
    invoke: Callable[..., Any] | None = None
    invoke_async: Callable[..., Any] | None = None


class _InvalidRequestContent(LambdaClientError):
    code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(
            "InvalidRequestContentException",
            f"Could not parse request body into json: Could not parse payload into json: {detail}",
        )


def _runs_here(fn: LambdaFunction) -> bool:
    return fn.package_type == "Zip" and bool(getattr(fn, "code_bytes", b""))


def _event_bytes(body: str | bytes | None) -> bytes:
    data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    if not data.strip():
        # An invocation without a payload gets the event {}.
        return b"{}"
    try:
        json.loads(data)
    except ValueError as error:
        raise _InvalidRequestContent(str(error)) from None
    return data


def _function_invoke(
    self: LambdaFunction, body: str, request_headers: Any, response_headers: dict[str, str]
) -> str | bytes:
    assert _Originals.invoke is not None
    if not _runs_here(self):
        return _Originals.invoke(self, body, request_headers, response_headers)  # type: ignore[no-any-return]
    invocation_type = request_headers.get("x-amz-invocation-type") or "RequestResponse"
    payload = _event_bytes(body)
    response_headers["x-amz-executed-version"] = str(self.version)
    if invocation_type == "DryRun":
        return b""
    spec = _spec_of(self)
    # AWS answers with the invocation's request id (context.aws_request_id).
    request_id = str(uuid.uuid4())
    response_headers[_REQUEST_ID_HEADER] = request_id
    if invocation_type == "Event":
        _invoke_in_background(spec, payload, request_id)
        return b""
    result = _invoke(spec, payload, invocation_type, request_id)
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    if (request_headers.get("x-amz-log-type") or "") == "Tail":
        tail = result.log_text.encode("utf-8")[-_LOG_TAIL_BYTES:]
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
    return result.payload


_REQUEST_ID_HEADER = "x-amzn-requestid"


def _enrich_lambda_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
    """moto gives every response a random request id; an invocation keeps its own."""
    request_id = headers.pop(_REQUEST_ID_HEADER, None)
    headers, body = BaseResponse._enrich_response(headers, body)
    if request_id:
        headers[_REQUEST_ID_HEADER] = request_id
    return headers, body


def _response_invoke_async(self: LambdaResponse) -> Any:
    """The deprecated InvokeAsync API: moto runs it synchronously; AWS queues it."""
    assert _Originals.invoke_async is not None
    from urllib.parse import unquote

    index = -3 if self.path.endswith("/") else -2
    fn = self.backend.get_function(unquote(self.path.rsplit("/", 3)[index]), None)
    if not _runs_here(fn):
        return _Originals.invoke_async(self)
    _invoke_in_background(_spec_of(fn), _event_bytes(self.body), str(uuid.uuid4()))
    return 202, {"status": "202"}, json.dumps({"Status": 202})


def _get_layers_data(self: LambdaFunction, layer_version_arns: list[str]) -> list[dict[str, Any]]:
    """moto looks every layer up in the caller's account; AWS also allows public
    layers of other accounts (Powertools' own). Those are accepted with the size
    moto knows, else 0: their content comes from the interpreter's site-packages.
    """
    layers: list[dict[str, Any]] = []
    own = lambda_backends[self.account_id][self.region]
    for arn in layer_version_arns:
        match = _LAYER_VERSION_ARN.match(arn)
        if match is None:
            raise UnknownLayerVersionException(layer_version_arns)
        if match["account"] == self.account_id:
            # moto matches by name and version only, so check the account first.
            version = own.layers_versions_by_arn(arn)
            if version is None:
                raise UnknownLayerVersionException(layer_version_arns)
            layers.append({"Arn": version.arn, "CodeSize": version.code_size})
            continue
        other = lambda_backends[match["account"]][match["region"]].layers_versions_by_arn(arn)
        layers.append({"Arn": arn, "CodeSize": other.code_size if other else 0})
    return layers


def _vpc_config(self: LambdaFunction) -> dict[str, Any] | None:
    """VpcConfig with the VPC of the function's subnets, not moto's 'vpc-123abc'."""
    if not self._vpc_config:
        return None
    config = dict(self._vpc_config)
    vpc_id = ""
    ec2 = ec2_backends[self.account_id][self.region]
    for subnet_id in config.get("SubnetIds") or []:
        with contextlib.suppress(Exception):
            vpc_id = ec2.get_subnet(subnet_id).vpc_id
            break
    if not vpc_id and config.get("SubnetIds") and config.get("SecurityGroupIds"):
        # Subnets the local EC2 doesn't know: keep what moto reported before.
        vpc_id = "vpc-123abc"
    # AWS reports an empty VpcId for a function without subnets.
    config["VpcId"] = vpc_id
    return config


def _with_dead_letter_config(init: Callable[..., Any]) -> Callable[..., Any]:
    """moto drops DeadLetterConfig; AWS keeps it and returns it in GetFunction."""

    def wrapper(
        self: LambdaFunction, account_id: str, spec: dict[str, Any], *a: Any, **k: Any
    ) -> Any:
        init(self, account_id, spec, *a, **k)
        self.dead_letter_config = _dead_letter_config(spec.get("DeadLetterConfig"))

    return wrapper


def _dead_letter_config(value: Any) -> dict[str, str] | None:
    # An empty TargetArn removes the configuration.
    target = str((value or {}).get("TargetArn") or "")
    return {"TargetArn": target} if target else None


def _updating_dead_letter_config(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: LambdaFunction, config_updates: dict[str, Any]) -> Any:
        if "DeadLetterConfig" in config_updates:
            self.dead_letter_config = _dead_letter_config(config_updates["DeadLetterConfig"])
        return method(self, config_updates)

    return wrapper


def _reporting_dead_letter_config(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: LambdaFunction, *args: Any, **kwargs: Any) -> Any:
        config = method(self, *args, **kwargs)
        if getattr(self, "dead_letter_config", None):
            config["DeadLetterConfig"] = dict(self.dead_letter_config)
        return config

    return wrapper


def _retiring_after(method: Callable[..., Any]) -> Callable[..., Any]:
    """A LambdaFunction update: environments of the old code or configuration end."""

    def wrapper(self: LambdaFunction, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        base_arn = make_function_arn(self.region, self.account_id, self.function_name)
        _pool.retire(lambda worker: worker.spec.base_arn == base_arn)
        return result

    return wrapper


def _retiring_on_delete(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: LambdaBackend, function_name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            fn: LambdaFunction | None = self.get_function(function_name)
        except Exception:
            fn = None  # the original call reports the error
        result = method(self, function_name, *args, **kwargs)
        if fn is not None:
            base_arn = make_function_arn(fn.region, fn.account_id, fn.function_name)
            _pool.retire(lambda worker: worker.spec.base_arn == base_arn)
        return result

    return wrapper


def _retiring_on_reset(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: LambdaBackend) -> Any:
        account, region = self.account_id, self.region_name
        _pool.retire(
            lambda worker: worker.spec.account_id == account and worker.spec.region == region
        )
        return method(self)

    return wrapper


def _stopping_workers(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: ThreadedMotoServer) -> Any:
        try:
            return method(self)
        finally:
            # Only this server's workers: their AWS_ENDPOINT_URL names its port.
            endpoint = f"http://127.0.0.1:{self._port}"
            _pool.retire(lambda worker: worker.spec.endpoint_url == endpoint)

    return wrapper


_install_lock = threading.Lock()


def install() -> None:
    """Patch moto so Lambda invocations run the deployed code; idempotent."""
    with _install_lock:
        if _Originals.installed:
            return
        _Originals.invoke = LambdaFunction.invoke
        _Originals.invoke_async = LambdaResponse.invoke_async
        LambdaFunction.invoke = _function_invoke  # type: ignore[method-assign]
        LambdaResponse.invoke_async = _response_invoke_async  # type: ignore[method-assign]
        LambdaResponse._enrich_response = staticmethod(_enrich_lambda_response)  # type: ignore[method-assign]
        LambdaFunction._get_layers_data = _get_layers_data  # type: ignore[assignment,method-assign]
        LambdaFunction.vpc_config = property(_vpc_config)  # type: ignore[assignment,method-assign]
        LambdaFunction.__init__ = _with_dead_letter_config(  # type: ignore[method-assign]
            LambdaFunction.__init__
        )
        LambdaFunction.get_configuration = _reporting_dead_letter_config(  # type: ignore[method-assign]
            LambdaFunction.get_configuration
        )
        LambdaFunction.update_configuration = _retiring_after(  # type: ignore[method-assign]
            _updating_dead_letter_config(LambdaFunction.update_configuration)
        )
        LambdaFunction.update_function_code = _retiring_after(  # type: ignore[method-assign]
            LambdaFunction.update_function_code
        )
        LambdaBackend.delete_function = _retiring_on_delete(  # type: ignore[method-assign]
            LambdaBackend.delete_function
        )
        LambdaBackend.reset = _retiring_on_reset(LambdaBackend.reset)  # type: ignore[method-assign]
        ThreadedMotoServer.stop = _stopping_workers(  # type: ignore[method-assign]
            ThreadedMotoServer.stop
        )
        # Workers also end by themselves when this process dies (EOF on their
        # request pipe); at a normal exit they are stopped here.
        atexit.register(shutdown)
        _Originals.installed = True


def shutdown() -> None:
    """Stop every worker (an in-flight invocation fails with Runtime.ExitError) and
    remove the private work directory. The runtime stays installed and usable."""
    _pool.stop_all()
    _workdir.remove()


def live_workers() -> int:
    """How many worker processes are running (for tests and diagnostics)."""
    with _pool._lock:
        workers = [w for ws in _pool._idle.values() for w in ws] + list(_pool._busy)
    return sum(1 for worker in workers if worker.alive)
