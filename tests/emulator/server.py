"""The local AWS: moto's server, in this process, with the emulator's fidelity fixes.

Terraform's aws provider, boto3 in the tests and the Lambda handlers (run in
subprocesses) all reach it over HTTP at `endpoint_url`. Step Functions
executions really run the state machine's ASL in server threads.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import boto3
from moto.core.config import default_user_config
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from emulator import (
    dispatch,
    ec2,
    ecs,
    events,
    faults,
    lambda_runtime,
    stepfunctions,
    stepfunctions_sync,
)

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def install_fidelity_patches() -> None:
    """Everything that makes moto behave like AWS where this project depends on it."""
    dispatch.install()
    # Each fidelity module adds its install() call below (one line each).
    lambda_runtime.install()
    ec2.install()
    stepfunctions.install()
    events.install()
    ecs.install()
    stepfunctions_sync.install()
    faults.install()
    # Step Functions executions run their ASL instead of returning at once.
    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalAws:
    """A started local AWS; use as a context manager or call start()/stop()."""

    def __init__(self, port: int | None = None, region: str = REGION) -> None:
        self.port = port or _free_port()
        self.region = region
        self._server: ThreadedMotoServer | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalAws:
        # AWS managed policies exist in every account (examples attach
        # AWSLambdaVPCAccessExecutionRole); moto loads them only when asked.
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
        # moto would load ~1,300 public AMIs per EC2 backend; nothing here uses them.
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        # One access-log line per request would drown the demo and test output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto's ASL interpreter logs every failed state at ERROR with its whole
        # definition; a run's own failures are reported by Step Functions.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        install_fidelity_patches()
        # moto's ASL interpreter sends a state machine's SDK calls (Lambda
        # invoke, DynamoDB) to localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for this local AWS."""
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            **_CREDENTIALS,
            **kwargs,
        )

    def environment(self) -> dict[str, str]:
        """Variables that point AWS SDKs and CLIs in a subprocess at this local AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": _CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": _CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }
