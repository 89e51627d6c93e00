"""What a cold start carries: the Lambda zips' sizes, and the controller's import time.

The import is timed in a fresh Python for each run, from the unzipped module
zip as Lambda's /var/task, with bytecode writing off: /var/task is read-only
on Lambda, so the handler's own modules are compiled on every cold start.
boto3 and Powertools come from this interpreter's site-packages (on Lambda:
the runtime and the Powertools layer), compiled once already, as there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench import figures

CONTROLLER_MODULE = "nat_on_demand.handlers.controller"

_TIMER = """
import sys, time
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
__import__(sys.argv[2])
print(time.perf_counter() - started)
"""


def zip_figures(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    return {
        "path": str(path),
        "bytes": path.stat().st_size,
        "files": len(infos),
        "uncompressed_bytes": sum(info.file_size for info in infos),
    }


def _import_seconds(task_root: Path, module: str, environment: dict[str, str]) -> float:
    output = subprocess.run(
        [sys.executable, "-c", _TIMER, str(task_root), module],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(output.strip().splitlines()[-1])


def import_times(module_zip: Path, runs: int) -> dict[str, Any]:
    """Median/min/max ms to import the controller and boto3 alone, interleaved, and the ratio."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        # As the module configures the controller.
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    controller: list[float] = []
    boto3_alone: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-task-") as task_root:
        with zipfile.ZipFile(module_zip) as archive:
            archive.extractall(task_root)
        for _ in range(runs):
            controller.append(_import_seconds(Path(task_root), CONTROLLER_MODULE, environment))
            boto3_alone.append(_import_seconds(Path(task_root), "boto3", environment))
    controller_ms = figures.summarise(s * 1000 for s in controller)
    boto3_ms = figures.summarise(s * 1000 for s in boto3_alone)
    # Each run's ratio, the two imports of a run being back to back.
    ratios = figures.summarise(c / b for c, b in zip(controller, boto3_alone, strict=True))
    assert controller_ms is not None and boto3_ms is not None and ratios is not None
    return {
        "controller_ms": controller_ms.as_dict(),
        "boto3_ms": boto3_ms.as_dict(),
        "ratio": ratios.as_dict(),
        "python": sys.version.split()[0],
    }
