"""Lambda invocations on the local AWS run the deployed zip the way AWS's python runtime does.

Every function here is made from a zip the test builds from small handler
modules, so what runs is the zip, never the repository's source.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator import lambda_bootstrap, lambda_runtime
from emulator.server import ACCOUNT_ID, REGION, LocalAws

ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-runtime-test"
POWERTOOLS_LAYER = (
    "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:27"
)
REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: (?P<duration>\d+\.\d\d) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB\t"
    r"Max Memory Used: \d+ MB\t(?:Init Duration: (?P<init>\d+\.\d\d) ms\t)?"
    r"(?:Status: (?P<status>\w+)\t)?(?:Error Type: (?P<error>[\w.]+)\t)?\n$"
)

# One module per behaviour; each test zips the ones it needs.
COUNTER = """
import time

COUNT = 0


def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"count": COUNT, "version": "VERSION"}
"""

INTROSPECT = """
import importlib.util
import os
import sys


def handler(event, context):
    names = [
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION", "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "_HANDLER", "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "GREETING", "_X_AMZN_TRACE_ID", "PYTHONPATH",
    ]
    return {
        "event": event,
        "env": {name: os.environ.get(name) for name in names},
        "sys_path": sys.path,
        "cwd": os.getcwd(),
        "file": __file__,
        "repo_visible": [
            name for name in ("nat_on_demand", "emulator")
            if importlib.util.find_spec(name) is not None
        ],
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
    }
"""

SDK = """
import boto3


def handler(event, context):
    vpcs = boto3.client("ec2").describe_vpcs(VpcIds=[event["vpc_id"]])["Vpcs"]
    return {"cidr": vpcs[0]["CidrBlock"]}
"""

FAILING = """
import decimal
import os
import sys
import time


class NatGatewayFailed(Exception):
    pass


def handler(event, context):
    action = event["action"]
    if action == "raise":
        raise NatGatewayFailed("nat-0123 ended failed: Gateway.NotAttached")
    if action == "sleep":
        time.sleep(event["seconds"])
    if action == "exit":
        sys.exit(3)
    if action == "_exit0":
        os._exit(0)
    if action == "set":
        return {1, 2}
    if action == "decimal":
        return {"n": decimal.Decimal("2"), "x": decimal.Decimal("0.5")}
    return "ok"
"""

LOGGING = """
import logging
import sys

from aws_lambda_powertools import Logger

print("cold start print")
logger = Logger(service="nat-on-demand")
logging.getLogger().setLevel(logging.INFO)


@logger.inject_lambda_context
def handler(event, context):
    print("hello from print", event["n"])
    sys.stderr.write("to stderr\\n")
    logging.getLogger("domain").info("std logging line")
    logger.info("powertools line", extra={"n": event["n"]})
    try:
        raise RuntimeError("first\\nsecond")
    except RuntimeError:
        logging.getLogger("domain").exception("caught")
    return {"n": event["n"]}
"""

SIDE_EFFECT = """
from pathlib import Path


def handler(event, context):
    Path(event["path"]).write_text(context.aws_request_id)
    return None
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        local.client("iam").create_role(
            RoleName="lambda-runtime-test",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
        yield local
    lambda_runtime.shutdown()


@pytest.fixture
def lam(aws: LocalAws) -> Any:
    return aws.client("lambda")


def build_zip(tmp_path: Path, modules: dict[str, str]) -> bytes:
    """Write handler modules to a directory and zip it, as archive_file would."""
    source = tmp_path / f"src-{uuid.uuid4().hex[:8]}"
    for name, text in modules.items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    archive = source.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(source.rglob("*")):
            zf.write(path, path.relative_to(source).as_posix())
    return archive.read_bytes()


def create(lam: Any, code: bytes, handler: str = "app.handler", **kwargs: Any) -> str:
    name = f"fn-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler=handler,
        Code={"ZipFile": code},
        **kwargs,
    )
    return name


def invoke(lam: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}), **kwargs)
    raw = response["Payload"].read()
    return response, json.loads(raw) if raw else None


def records_of(name: str) -> list[lambda_runtime.InvocationRecord]:
    return [record for record in lambda_runtime.invocations() if record.function_name == name]


def log_messages(aws: LocalAws, name: str) -> list[str]:
    logs = aws.client("logs")
    group = f"/aws/lambda/{name}"
    messages: list[str] = []
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    for stream in streams:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])
        messages += [event["message"] for event in events["events"]]
    return messages


def test_bootstrap_and_runtime_agree_on_the_log_protocol() -> None:
    assert lambda_bootstrap.SENTINEL == lambda_runtime._SENTINEL + b"\n"
    assert lambda_bootstrap.EVENT_NEWLINE == lambda_runtime._EVENT_NEWLINE


def test_handler_runs_from_the_zip_with_lambdas_environment_and_context(
    aws: LocalAws, lam: Any, tmp_path: Path
) -> None:
    name = create(
        lam,
        build_zip(tmp_path, {"pkg/__init__.py": "", "pkg/app.py": INTROSPECT}),
        handler="pkg.app.handler",
        MemorySize=256,
        Timeout=7,
        Environment={"Variables": {"GREETING": "hi"}},
    )
    response, body = invoke(lam, name, {"answer": 42})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert body["event"] == {"answer": 42}
    env = body["env"]
    root = env["LAMBDA_TASK_ROOT"]
    # /var/task first; the repository is not on the path, its packages not importable.
    assert body["sys_path"][0] == root == body["cwd"]
    assert body["file"] == str(Path(root) / "pkg" / "app.py")
    assert body["repo_visible"] == []
    repo = Path(__file__).resolve().parents[2]
    for entry in body["sys_path"]:
        # Only the interpreter's own directories (stdlib, site-packages) besides the code.
        assert entry == root or not entry.startswith(str(repo)) or entry.startswith(sys.prefix)
    assert env["PYTHONPATH"] is None
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert re.fullmatch(
        r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["_HANDLER"] == "pkg.app.handler"
    assert env["AWS_ENDPOINT_URL"] == aws.endpoint_url
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] and env["AWS_SESSION_TOKEN"]
    assert env["GREETING"] == "hi"
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-") and "Sampled=0" in env["_X_AMZN_TRACE_ID"]
    context = body["context"]
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    assert context["function_name"] == name
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == arn
    assert context["memory_limit_in_mb"] == "256"  # a string, as on AWS
    assert context["aws_request_id"] == response["ResponseMetadata"]["RequestId"]
    assert context["log_group_name"] == env["AWS_LAMBDA_LOG_GROUP_NAME"]
    assert context["log_stream_name"] == env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert 6000 < context["remaining_ms"] <= 7000


def test_handler_sdk_calls_reach_the_local_aws(aws: LocalAws, lam: Any, tmp_path: Path) -> None:
    vpc = aws.client("ec2").create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]
    name = create(lam, build_zip(tmp_path, {"app.py": SDK}), Timeout=30)

    response, body = invoke(lam, name, {"vpc_id": vpc["VpcId"]})

    assert "FunctionError" not in response, body
    assert body == {"cidr": "10.42.0.0/16"}


def test_environment_stays_warm_until_code_or_configuration_changes(
    lam: Any, tmp_path: Path
) -> None:
    name = create(lam, build_zip(tmp_path, {"app.py": COUNTER}))

    assert [invoke(lam, name)[1]["count"] for _ in range(3)] == [1, 2, 3]
    first = records_of(name)
    assert [record.cold_start for record in first] == [True, False, False]
    assert first[0].init_duration_ms is not None and first[1].init_duration_ms is None

    lam.update_function_code(
        FunctionName=name, ZipFile=build_zip(tmp_path, {"app.py": COUNTER.replace("VERSION", "2")})
    )
    assert invoke(lam, name)[1] == {"count": 1, "version": "2"}
    assert invoke(lam, name)[1]["count"] == 2

    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"CHANGED": "yes"}}
    )
    assert invoke(lam, name)[1]["count"] == 1
    # A change that leaves the environment variables alone still starts afresh.
    lam.update_function_configuration(FunctionName=name, Description="new description")
    assert invoke(lam, name)[1]["count"] == 1
    # cold, warm, warm; new code: cold, warm; new environment: cold; new description: cold.
    colds = [True, False, False, True, False, True, True]
    assert [r.cold_start for r in records_of(name)] == colds


def test_timeout_kills_the_environment_and_fails_like_aws(
    aws: LocalAws, lam: Any, tmp_path: Path
) -> None:
    name = create(lam, build_zip(tmp_path, {"app.py": FAILING}), Timeout=1)
    invoke(lam, name, {"action": "noop"})

    started = time.monotonic()
    response, body = invoke(lam, name, {"action": "sleep", "seconds": 30})
    elapsed = time.monotonic() - started

    assert 1.0 <= elapsed < 3.0
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    request_id = response["ResponseMetadata"]["RequestId"]
    assert body == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds",
    }
    # The next invocation gets a fresh environment and works.
    response, body = invoke(lam, name, {"action": "noop"})
    assert "FunctionError" not in response and body == "ok"
    records = records_of(name)
    assert [(r.cold_start, r.error_type) for r in records] == [
        (True, None),
        (False, "Sandbox.Timedout"),
        (True, None),
    ]
    assert records[1].duration_ms == 1000.0 and records[1].billed_ms == 1000
    messages = log_messages(aws, name)
    assert any(
        re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
            + request_id
            + r" Task timed out after 1\.00 seconds\n",
            message,
        )
        for message in messages
    )
    report = next(
        REPORT.match(m) for m in messages if m.startswith(f"REPORT RequestId: {request_id}")
    )
    assert report and report["status"] == "timeout"


def test_unhandled_exception_returns_the_runtimes_error_and_stays_warm(
    lam: Any, tmp_path: Path
) -> None:
    name = create(lam, build_zip(tmp_path, {"app.py": FAILING}))

    response, body = invoke(lam, name, {"action": "raise"})

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert set(body) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert body["errorType"] == "NatGatewayFailed"
    assert body["errorMessage"] == "nat-0123 ended failed: Gateway.NotAttached"
    assert body["requestId"] == response["ResponseMetadata"]["RequestId"]
    # Only the function's frames, formatted like traceback.format_list.
    assert len(body["stackTrace"]) == 1
    assert re.fullmatch(
        r'  File ".*/app\.py", line \d+, in handler\n    raise NatGatewayFailed\(.*\)\n',
        body["stackTrace"][0],
    )
    invoke(lam, name, {"action": "noop"})
    assert [r.cold_start for r in records_of(name)] == [True, False]
    assert records_of(name)[0].error_type == "NatGatewayFailed"


@pytest.mark.parametrize(
    "case",
    [
        (
            {"app.py": "import not_a_module\n"},
            "app.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'app': No module named 'not_a_module'",
        ),
        (
            {"app.py": "X = 1\n"},
            "app.nope",
            "Runtime.HandlerNotFound",
            "Handler 'nope' missing on module 'app'",
        ),
        (
            {"app.py": "X = 1\n"},
            "missing.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'missing': No module named 'missing'",
        ),
        (
            {"app.py": "X = 1\n"},
            "handler",
            "Runtime.MalformedHandlerName",
            "Bad handler 'handler': not enough values to unpack (expected 2, got 1)",
        ),
    ],
)
def test_init_errors_have_the_runtimes_error_types(
    aws: LocalAws, lam: Any, tmp_path: Path, case: tuple[dict[str, str], str, str, str]
) -> None:
    modules, handler, error_type, message = case
    name = create(lam, build_zip(tmp_path, modules), handler=handler)

    response, body = invoke(lam, name)

    assert response["FunctionError"] == "Unhandled"
    assert body == {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": "",
        "stackTrace": [],
    }
    messages = log_messages(aws, name)
    assert any(m.startswith(f"[ERROR] {error_type}: {message}") for m in messages)
    assert any(m.startswith("INIT_REPORT") and f"Error Type: {error_type}" in m for m in messages)
    report = REPORT.match(messages[-1])
    assert report and report["status"] == "error" and report["error"] == error_type


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("exit", "Runtime exited with error: exit status 3"),
        ("_exit0", "Runtime exited without providing a reason"),
    ],
)
def test_a_dying_runtime_is_an_exit_error(
    lam: Any, tmp_path: Path, action: str, reason: str
) -> None:
    name = create(lam, build_zip(tmp_path, {"app.py": FAILING}))

    response, body = invoke(lam, name, {"action": action})

    request_id = response["ResponseMetadata"]["RequestId"]
    assert response["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: {reason}",
    }
    assert invoke(lam, name, {"action": "noop"})[1] == "ok"
    assert [r.cold_start for r in records_of(name)] == [True, True]


def test_results_must_be_json_serialisable(lam: Any, tmp_path: Path) -> None:
    name = create(lam, build_zip(tmp_path, {"app.py": FAILING}))

    response, body = invoke(lam, name, {"action": "set"})

    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.MarshalError"
    assert (
        body["errorMessage"]
        == "Unable to marshal response: Object of type set is not JSON serializable"
    )
    # Decimals (DynamoDB numbers) are written as numbers, as the runtime does.
    assert invoke(lam, name, {"action": "decimal"})[1] == {"n": 2, "x": 0.5}


def test_output_goes_to_the_functions_log_group_framed_like_aws(
    aws: LocalAws, lam: Any, tmp_path: Path
) -> None:
    name = create(lam, build_zip(tmp_path, {"app.py": LOGGING}), Layers=[POWERTOOLS_LAYER])
    logs = aws.client("logs")
    # A group that already exists (Terraform makes it, with retention) is kept.
    logs.create_log_group(logGroupName=f"/aws/lambda/{name}")
    logs.put_retention_policy(logGroupName=f"/aws/lambda/{name}", retentionInDays=7)

    first, _ = invoke(lam, name, {"n": 1})
    second, _ = invoke(lam, name, {"n": 2}, LogType="Tail")

    messages = log_messages(aws, name)
    ids = [r["ResponseMetadata"]["RequestId"] for r in (first, second)]
    starts = [i for i, m in enumerate(messages) if m.startswith("START RequestId:")]
    assert [messages[i] for i in starts] == [
        f"START RequestId: {i} Version: $LATEST\n" for i in ids
    ]
    assert messages[0].startswith("INIT_START Runtime Version: python:3.12")
    assert "cold start print\n" in messages[: starts[0]]
    one = messages[starts[0] : starts[1]]
    assert "hello from print 1\n" in one
    assert "to stderr\n" in one
    assert any(
        m.startswith("[INFO]\t") and m.endswith(f"\t{ids[0]}\tstd logging line\n") for m in one
    )
    powertools = [json.loads(m) for m in one if m.startswith("{")]
    assert powertools[0]["message"] == "powertools line"
    assert powertools[0]["function_request_id"] == ids[0]
    assert powertools[0]["function_name"] == name
    assert powertools[0]["cold_start"] is True
    # A logged traceback stays one event, as with AWS's framed log sink.
    caught = next(m for m in one if "\tcaught" in m)
    assert "Traceback (most recent call last):" in caught and "first\nsecond" in caught
    assert one[-2] == f"END RequestId: {ids[0]}\n"
    cold = REPORT.match(one[-1])
    assert cold and cold["id"] == ids[0] and cold["memory"] == "128" and cold["init"]
    assert int(cold["billed"]) == math.ceil(float(cold["duration"]) + float(cold["init"]))
    warm = REPORT.match(messages[-1])
    assert warm and warm["id"] == ids[1] and warm["init"] is None
    assert int(warm["billed"]) == math.ceil(float(warm["duration"]))
    group = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    assert [g.get("retentionInDays") for g in group] == [7]
    # LogType=Tail: the last 4 KB of this invocation's log.
    tail = base64.b64decode(second["LogResult"]).decode()
    assert "LogResult" not in first
    assert tail.startswith(f"START RequestId: {ids[1]}") and tail.endswith(messages[-1])
    assert len(tail.encode()) <= 4096


def test_event_invocations_return_at_once_and_run_in_the_background(
    lam: Any, tmp_path: Path
) -> None:
    name = create(lam, build_zip(tmp_path, {"app.py": SIDE_EFFECT}))
    marker = tmp_path / "event.txt"
    legacy = tmp_path / "invoke-async.txt"
    dry = tmp_path / "dry-run.txt"

    response = lam.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps({"path": str(marker)})
    )
    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    legacy_response = lam.invoke_async(
        FunctionName=name, InvokeArgs=json.dumps({"path": str(legacy)})
    )
    assert legacy_response["Status"] == 202
    dry_response = lam.invoke(
        FunctionName=name, InvocationType="DryRun", Payload=json.dumps({"path": str(dry)})
    )
    assert dry_response["StatusCode"] == 204

    deadline = time.monotonic() + 10
    while not (marker.exists() and legacy.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text() == response["ResponseMetadata"]["RequestId"]
    assert legacy.exists()
    assert not dry.exists()
    assert all(r.invocation_type == "Event" for r in records_of(name))


def test_wait_until_idle_waits_for_an_invocation_nobody_waits_for(lam: Any, tmp_path: Path) -> None:
    name = create(lam, build_zip(tmp_path, {"app.py": COUNTER}))
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"sleep": 1.5}))
    deadline = time.monotonic() + 10
    while not lambda_runtime._pool.busy(name) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert not lambda_runtime.wait_until_idle(name, timeout=0.2)
    assert lambda_runtime.wait_until_idle(name, timeout=10)
    assert [r.invocation_type for r in records_of(name)] == ["Event"]


def test_concurrent_invocations_run_in_parallel_environments(
    aws: LocalAws, lam: Any, tmp_path: Path
) -> None:
    name = create(lam, build_zip(tmp_path, {"app.py": COUNTER}))
    results: list[Any] = []

    def call() -> None:
        results.append(invoke(lam, name, {"sleep": 1})[1])

    threads = [threading.Thread(target=call) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    assert elapsed < 1.7
    # Two environments, each on its first invocation, each with its own log stream.
    assert [r["count"] for r in results] == [1, 1]
    streams = aws.client("logs").describe_log_streams(logGroupName=f"/aws/lambda/{name}")
    assert len(streams["logStreams"]) == 2
    # Both stay warm: the next two concurrent calls start nothing new.
    results.clear()
    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["count"] for r in results) == [2, 2]


def test_public_layers_of_other_accounts_are_accepted(lam: Any, tmp_path: Path) -> None:
    code = build_zip(tmp_path, {"app.py": LOGGING})
    name = create(lam, code, Layers=[POWERTOOLS_LAYER])

    config = lam.get_function(FunctionName=name)["Configuration"]
    # What the aws provider reads back (Layers[].Arn): the ARN as given.
    assert config["Layers"] == [{"Arn": POWERTOOLS_LAYER, "CodeSize": 0}]
    other = POWERTOOLS_LAYER.replace(":27", ":28")
    lam.update_function_configuration(FunctionName=name, Layers=[other])
    assert lam.get_function(FunctionName=name)["Configuration"]["Layers"] == [
        {"Arn": other, "CodeSize": 0}
    ]
    # The layer's content is the interpreter's site-packages: Powertools imports.
    assert invoke(lam, name, {"n": 3})[1] == {"n": 3}
    # A layer of the caller's own account must still exist.
    with pytest.raises(ClientError) as error:
        create(lam, code, Layers=[f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:nope:1"])
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_vpc_config_reports_the_vpc_of_its_subnets(aws: LocalAws, lam: Any, tmp_path: Path) -> None:
    ec2 = aws.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    group_id = ec2.create_security_group(GroupName="probe", Description="probe", VpcId=vpc_id)[
        "GroupId"
    ]
    name = create(
        lam,
        build_zip(tmp_path, {"app.py": COUNTER}),
        VpcConfig={"SubnetIds": [subnet_id], "SecurityGroupIds": [group_id]},
    )

    config = lam.get_function(FunctionName=name)["Configuration"]["VpcConfig"]

    assert config["VpcId"] == vpc_id
    assert config["SubnetIds"] == [subnet_id]


def test_step_functions_catch_matches_the_functions_error_type(
    aws: LocalAws, lam: Any, tmp_path: Path
) -> None:
    name = create(lam, build_zip(tmp_path, {"app.py": FAILING}))
    definition = {
        "StartAt": "Acquire",
        "States": {
            "Acquire": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": name, "Payload": {"action": "raise"}},
                "Catch": [
                    {"ErrorEquals": ["NatGatewayFailed"], "ResultPath": "$.error", "Next": "Caught"}
                ],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    sfn = aws.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"sm-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/sfn",
    )["stateMachineArn"]

    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    deadline = time.monotonic() + 20
    while (result := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)

    assert result["status"] == "SUCCEEDED", result
    error = json.loads(result["output"])["error"]
    assert error["Error"] == "NatGatewayFailed"
    assert json.loads(error["Cause"])["errorMessage"].startswith("nat-0123 ended failed")


def test_workers_stop_with_the_server_and_on_shutdown(
    aws: LocalAws, lam: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second server in this process; MOTO_PORT goes back to the first one after.
    monkeypatch.setenv("MOTO_PORT", os.environ["MOTO_PORT"])
    code = build_zip(tmp_path, {"app.py": COUNTER})
    with LocalAws() as other:
        name = create(other.client("lambda"), code)
        invoke(other.client("lambda"), name)
        pids = _worker_pids(other.endpoint_url)
        assert len(pids) == 1
    assert _worker_pids(other.endpoint_url) == []
    assert not _alive(pids[0])

    monkeypatch.setenv("MOTO_PORT", str(aws.port))
    name = create(lam, code)
    invoke(lam, name)
    pids = _worker_pids(aws.endpoint_url)
    assert pids and lambda_runtime.live_workers() >= 1
    lambda_runtime.shutdown()
    assert lambda_runtime.live_workers() == 0
    assert not any(_alive(pid) for pid in pids)
    # Still usable afterwards: the next invocation starts a new environment.
    assert invoke(lam, name)[1]["count"] == 1


def _worker_pids(endpoint_url: str) -> list[int]:
    pool = lambda_runtime._pool
    with pool._lock:
        workers = [w for ws in pool._idle.values() for w in ws] + list(pool._busy)
    return [
        w.proc.pid
        for w in workers
        if w.proc is not None and w.alive and w.spec.endpoint_url == endpoint_url
    ]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent's wait() is missing.
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


def test_a_failed_event_goes_to_the_dead_letter_queue_and_the_config_round_trips(
    aws: LocalAws, lam: Any, tmp_path: Path
) -> None:
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    name = create(
        lam,
        build_zip(tmp_path, {"app.py": FAILING}),
        DeadLetterConfig={"TargetArn": queue_arn},
    )
    assert lam.get_function(FunctionName=name)["Configuration"]["DeadLetterConfig"] == {
        "TargetArn": queue_arn
    }

    # A synchronous failure is the caller's to handle: nothing is dead-lettered.
    invoke(lam, name, {"action": "raise"})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"action": "raise"}))
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 15
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MessageAttributeNames=["All"], WaitTimeSeconds=1
        ).get("Messages", [])
    assert len(messages) == 1
    assert json.loads(messages[0]["Body"]) == {"action": "raise"}
    attributes = messages[0]["MessageAttributes"]
    assert attributes["ErrorMessage"]["StringValue"].startswith("nat-0123 ended failed")
    assert attributes["RequestID"]["StringValue"]

    # An empty TargetArn removes it, as on AWS.
    lam.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": ""})
    assert "DeadLetterConfig" not in lam.get_function(FunctionName=name)["Configuration"]
