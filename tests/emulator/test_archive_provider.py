"""The hashicorp/archive stand-in: archiving rules in-process, then end to end with Terraform."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from tf.iface import ReadDataContext
from tf.types import Unknown
from tf.utils import Diagnostics

from emulator.archive_provider import (
    ArchiveError,
    ArchiveRequest,
    ExcludeMatcher,
    archive_file_schema,
    build_archive,
    config_problems,
    parse_file_mode,
)
from emulator.archive_provider.archiver import CONTENT_DATE_TIME, FILE_DATE_TIME
from emulator.archive_provider.provider import ArchiveFileDataSource, ArchiveProvider
from emulator.terraform_cli import (
    ARCHIVE_PROVIDER,
    AWS_PROVIDER,
    LAUNCHER_SCRIPT,
    archive_package_dir,
    build_plugin_mirror,
    package_hash,
    provider_env,
    terraform_env,
    write_cli_config,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_ATTRIBUTES = {a.name for a in archive_file_schema().attributes} | {"source"}


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def _write(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


# ----------------------------------------------------------------------------- archiving rules


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("notes.txt", "notes.txt", True),
        ("notes.txt", "sub/notes.txt", False),
        ("*.pyc", "a.pyc", True),
        ("*.pyc", "pkg/a.pyc", False),
        ("**/*.pyc", "a.pyc", True),
        ("**/*.pyc", "pkg/deep/a.pyc", True),
        ("**/__pycache__", "pkg/__pycache__", True),
        ("pkg/**", "pkg", True),
        ("pkg/**", "pkg/x/y", True),
        ("pkg/**", "pkgs/x", False),
        ("*.{py,txt}", "a.txt", True),
        ("*.{py,txt}", "a.md", False),
        ("[!a]?.txt", "bc.txt", True),
        ("[!a]?.txt", "ab.txt", False),
        ("[a-c]*", "cat", True),
        ("\\*", "*", True),
        ("\\*", "x", False),
        ("*", ".", True),
    ],
)
def test_excludes_follow_doublestar_path_match(pattern: str, path: str, expected: bool) -> None:
    assert ExcludeMatcher([pattern]).matches(path) is expected


@pytest.mark.parametrize("pattern", ["[abc", "{a,b", "a\\", "[]", "[z-a]"])
def test_malformed_exclude_patterns_are_errors(pattern: str, tmp_path: Path) -> None:
    _write(tmp_path / "src", {"a.txt": "a"})
    request = ArchiveRequest(str(tmp_path / "o.zip"), str(tmp_path / "src"), excludes=[pattern])
    with pytest.raises(ArchiveError, match="syntax error in pattern"):
        build_archive(request)
    problems = config_problems(_config(source_dir="src", excludes=[pattern]))
    assert [p.summary for p in problems] == ["Invalid excludes pattern"]


def test_directory_walk_matches_the_real_provider(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _write(src, {"a/b.txt": "b", "a.txt": "a", "b/c.txt": "c", "z.txt": "z"})
    _write(tmp_path / "linked", {"l.txt": "l"})
    (src / "b" / "link").symlink_to(tmp_path / "linked")
    (src / "b" / "d.txt").write_text("d")
    out = tmp_path / "out.zip"

    build_archive(ArchiveRequest(str(out), str(src)))
    # Go's filepath.Walk order: per-directory lexical, so "a/b.txt" precedes "a.txt".
    assert _names(out) == ["a/b.txt", "a.txt", "b/c.txt", "b/d.txt", "b/link/l.txt", "z.txt"]

    build_archive(ArchiveRequest(str(out), str(src), exclude_symlink_directories=True))
    # The provider answers SkipDir for the symlink, which also drops its later siblings.
    assert _names(out) == ["a/b.txt", "a.txt", "b/c.txt", "b/d.txt", "z.txt"]

    build_archive(ArchiveRequest(str(out), str(src), excludes=["b", "*.txt"]))
    assert _names(out) == ["a/b.txt"]

    with pytest.raises(ArchiveError, match="would be empty"):
        build_archive(ArchiveRequest(str(out), str(src), excludes=["**/*.txt"]))
    with pytest.raises(ArchiveError, match="could not archive missing directory"):
        build_archive(ArchiveRequest(str(out), str(tmp_path / "nope")))


def test_zip_headers_are_fixed_and_output_is_deterministic(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _write(src, {"run.sh": "#!/bin/sh\n", "lib/x.py": "x = 1\n"})
    (src / "run.sh").chmod(0o700)
    first, second = tmp_path / "one.zip", tmp_path / "two.zip"

    sums = build_archive(ArchiveRequest(str(first), str(src)))
    for path in (src / "run.sh", src / "lib" / "x.py"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    build_archive(ArchiveRequest(str(second), str(src)))

    data = first.read_bytes()
    assert data == second.read_bytes()
    assert sums.sha1 == hashlib.sha1(data).hexdigest()
    assert sums.base64sha256 == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert sums.size == len(data)
    with zipfile.ZipFile(first) as archive:
        for info in archive.infolist():
            assert info.date_time == FILE_DATE_TIME
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.external_attr >> 16 == stat.S_IFREG | 0o644

    build_archive(
        ArchiveRequest(str(first), source_file=str(src / "run.sh"), output_file_mode="0500")
    )
    with zipfile.ZipFile(first) as archive:
        (info,) = archive.infolist()
        assert (info.filename, info.external_attr >> 16) == ("run.sh", stat.S_IFREG | 0o500)
        assert info.external_attr & 0x01  # MS-DOS read-only, as Go sets without owner write

    build_archive(ArchiveRequest(str(first), sources={"b.txt": "b", "a.txt": "a"}))
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == ["a.txt", "b.txt"]
        assert archive.read("b.txt") == b"b"
        assert archive.infolist()[0].date_time == CONTENT_DATE_TIME


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0644", 0o644), ("0o755", 0o755), ("420", 0o644), ("0x1ff", 0o777), ("0", 0)],
)
def test_output_file_mode_parses_like_go(text: str, expected: int) -> None:
    assert parse_file_mode(text) == expected


@pytest.mark.parametrize("text", ["", " 0644", "-1", "+1", "08", "rw-r--r--", "0x100000000"])
def test_bad_output_file_modes_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="error parsing output_file_mode value"):
        parse_file_mode(text)


def _config(**values: Any) -> dict[str, Any]:
    config: dict[str, Any] = dict.fromkeys(SCHEMA_ATTRIBUTES)
    config.update(type="zip", output_path="out.zip", source=[])
    config.update(values)
    return config


@pytest.mark.parametrize(
    ("values", "summaries"),
    [
        ({"source_dir": "src"}, []),
        ({"source": [{"content": "x", "filename": "x"}]}, []),
        ({"source_content": "x", "source_content_filename": "x"}, []),
        ({"type": "tar", "source_dir": "src"}, ["Unsupported archive type"]),
        ({"source_dir": "src", "source_file": "f"}, ["Conflicting archive sources"]),
        ({}, ["Missing archive source"]),
        ({"source_content": "x"}, ["Missing source_content_filename"]),
        ({"source_file": "f", "excludes": ["x"]}, ["Conflicting excludes"]),
        ({"source_dir": "src", "output_file_mode": "rw"}, ["Invalid output_file_mode"]),
        # Unknown values are only judged once Terraform knows them.
        ({"type": Unknown, "source_dir": Unknown}, []),
        ({"source": Unknown}, []),
    ],
)
def test_config_problems(values: dict[str, Any], summaries: list[str]) -> None:
    assert [p.summary for p in config_problems(_config(**values))] == summaries


def test_data_source_reports_errors_as_diagnostics(tmp_path: Path) -> None:
    source = ArchiveFileDataSource(ArchiveProvider())
    diags = Diagnostics()
    config = _config(source_dir=str(tmp_path / "missing"), output_path=str(tmp_path / "o.zip"))
    assert source.read(_read_ctx(diags), config) is None
    (error,) = diags.diagnostics
    assert error.summary == "Archive creation error"
    assert "could not archive missing directory" in (error.detail or "")

    diags = Diagnostics()
    config = _config(source_file=str(Path(__file__)), output_path=str(tmp_path / "f.zip"))
    state = source.read(_read_ctx(diags), config)
    assert not diags.diagnostics
    assert state is not None
    assert set(state) == SCHEMA_ATTRIBUTES
    assert state["id"] == state["output_sha"]
    assert state["source_dir"] is None
    assert state["source"] == []


def _read_ctx(diags: Diagnostics) -> ReadDataContext:
    return ReadDataContext(diags, "archive_file")


# ----------------------------------------------------------------------------- CLI wiring


def test_launcher_is_machine_independent(tmp_path: Path) -> None:
    build_a, build_b = tmp_path / "a", tmp_path / "elsewhere" / "b"
    assert build_plugin_mirror(build_a) == build_a / "tf-mirror"
    build_plugin_mirror(build_b)
    package_a, package_b = archive_package_dir(build_a), archive_package_dir(build_b)
    assert package_a == (
        build_a / "tf-mirror/registry.terraform.io/hashicorp/archive/2.7.1/linux_amd64"
    )
    launcher = package_a / "terraform-provider-archive_v2.7.1"
    assert launcher.read_text() == LAUNCHER_SCRIPT
    assert os.access(launcher, os.X_OK)
    assert str(tmp_path) not in LAUNCHER_SCRIPT
    assert str(REPO_ROOT) not in LAUNCHER_SCRIPT
    assert package_hash(package_a) == package_hash(package_b)


def test_cli_config_uses_only_local_mirrors(tmp_path: Path) -> None:
    aws = tmp_path / "aws-mirror"
    text = write_cli_config(tmp_path / "build", aws).read_text()
    archive_mirror = (tmp_path / "build" / "tf-mirror").resolve()
    assert f'path    = "{aws}"\n    include = ["{AWS_PROVIDER}"]' in text
    assert f'path    = "{archive_mirror}"\n    include = ["{ARCHIVE_PROVIDER}"]' in text
    assert f'exclude = ["{AWS_PROVIDER}", "{ARCHIVE_PROVIDER}"]' in text
    assert "disable_checkpoint = true" in text


def test_provider_env_points_at_this_checkout(tmp_path: Path) -> None:
    env = provider_env(REPO_ROOT, tmp_path)
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(REPO_ROOT / "tests")
    assert Path(env["NAT_ON_DEMAND_PYTHON"]).exists()
    assert Path(env["NAT_ON_DEMAND_TF_PROVIDER_CACHE"]).is_relative_to(tmp_path.resolve())


# ----------------------------------------------------------------------------- with Terraform

MAIN_TF = """
terraform {
  required_providers {
    archive = { source = "hashicorp/archive", version = "~> 2.4" }
  }
}

data "archive_file" "dir" {
  type        = "zip"
  source_dir  = "${path.module}/src"
  excludes    = ["**/__pycache__", "**/*.pyc", "notes.txt"]
  output_path = "${path.module}/build/dir.zip"
}

data "archive_file" "file" {
  type             = "zip"
  source_file      = "${path.module}/src/handler.py"
  output_file_mode = "0755"
  output_path      = "${path.module}/build/file.zip"
}

data "archive_file" "content" {
  type                    = "zip"
  source_content          = "hello from terraform\\n"
  source_content_filename = "greeting.txt"
  output_path             = "${path.module}/build/content.zip"
}

data "archive_file" "blocks" {
  type        = "zip"
  output_path = "${path.module}/build/blocks.zip"
  source {
    content  = "second"
    filename = "b.txt"
  }
  source {
    content  = "first"
    filename = "a.txt"
  }
}

resource "archive_file" "legacy" {
  type                    = "zip"
  source_content          = "legacy"
  source_content_filename = "legacy.txt"
  output_path             = "${path.module}/build/legacy.zip"
}

output "archives" {
  value = {
    dir     = data.archive_file.dir
    file    = data.archive_file.file
    content = data.archive_file.content
    blocks  = data.archive_file.blocks
    legacy  = archive_file.legacy
  }
}
"""

BAD_TF = """
data "archive_file" "tar" {
  type                    = "tar"
  source_content          = "x"
  source_content_filename = "x.txt"
  output_path             = "${path.module}/x.tar"
}

data "archive_file" "two_sources" {
  type        = "zip"
  source_file = "${path.module}/main.tf"
  source_dir  = "${path.module}"
  output_path = "${path.module}/y.zip"
}
"""

SOURCES = {
    "handler.py": "def handler(event, context):\n    return event\n",
    "notes.txt": "not shipped\n",
    "nat/__init__.py": "",
    "nat/core.py": "VALUE = 1\n",
    "nat/stale.pyc": "junk",
    "nat/__pycache__/core.cpython-311.pyc": "junk",
    "nat.json": "{}\n",
}
EXPECTED_ENTRIES = {
    "dir": ["handler.py", "nat/__init__.py", "nat/core.py", "nat.json"],
    "file": ["handler.py"],
    "content": ["greeting.txt"],
    "blocks": ["a.txt", "b.txt"],
    "legacy": ["legacy.txt"],
}


class Terraform:
    """Runs the terraform CLI in one working directory with an isolated environment."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["terraform", *args, "-no-color"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"terraform {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result


@pytest.fixture(scope="module")
def tf_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if shutil.which("terraform") is None:
        pytest.skip("terraform CLI not installed")
    root = tmp_path_factory.mktemp("archive-tf")
    home = root / "home"
    home.mkdir()
    env = {**os.environ, **terraform_env(REPO_ROOT, root / "build"), "HOME": str(home)}
    for inherited in ("TF_LOG", "TF_DATA_DIR", "TF_PLUGIN_CACHE_DIR"):
        env.pop(inherited, None)
    yield env
    leftovers = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert leftovers == [], "Terraform or the provider wrote into HOME"


def _lock_hash(workdir: Path) -> str:
    text = (workdir / ".terraform.lock.hcl").read_text()
    block = re.search(rf'provider "{re.escape(ARCHIVE_PROVIDER)}" \{{(.*?)\n\}}', text, re.S)
    assert block is not None, text
    hashes = re.findall(r'"(h1:[^"]+)"', block.group(1))
    assert len(hashes) == 1, text
    return str(hashes[0])


def _check_outputs(workdir: Path, archives: dict[str, dict[str, Any]]) -> None:
    assert set(archives) == set(EXPECTED_ENTRIES)
    for name, entries in EXPECTED_ENTRIES.items():
        out = archives[name]
        assert set(out) == SCHEMA_ATTRIBUTES, name
        path = workdir / "build" / f"{name}.zip"
        assert _names(path) == entries, name
        data = path.read_bytes()
        sha256, sha512 = hashlib.sha256(data).digest(), hashlib.sha512(data).digest()
        assert out["output_size"] == len(data)
        assert out["output_md5"] == hashlib.md5(data).hexdigest()
        assert out["output_sha"] == out["id"] == hashlib.sha1(data).hexdigest()
        assert out["output_sha256"] == sha256.hex()
        assert out["output_base64sha256"] == base64.b64encode(sha256).decode()
        assert out["output_sha512"] == sha512.hex()
        assert out["output_base64sha512"] == base64.b64encode(sha512).decode()

    directory = archives["dir"]
    assert directory["source_file"] is None
    assert directory["output_file_mode"] is None
    assert directory["exclude_symlink_directories"] is None
    assert directory["source"] == []
    assert sorted(directory["excludes"]) == ["**/*.pyc", "**/__pycache__", "notes.txt"]
    assert sorted(b["filename"] for b in archives["blocks"]["source"]) == ["a.txt", "b.txt"]
    with zipfile.ZipFile(workdir / "build" / "file.zip") as archive:
        assert archive.infolist()[0].external_attr >> 16 == stat.S_IFREG | 0o755
    with zipfile.ZipFile(workdir / "build" / "content.zip") as archive:
        assert archive.read("greeting.txt") == b"hello from terraform\n"


@pytest.mark.terraform
def test_terraform_builds_archives_with_the_stand_in(
    tmp_path: Path, tf_env: dict[str, str]
) -> None:
    _write(tmp_path / "src", SOURCES)
    (tmp_path / "main.tf").write_text(MAIN_TF)
    terraform = Terraform(tmp_path, tf_env)

    terraform.run("init")
    build_dir = Path(tf_env["TF_CLI_CONFIG_FILE"]).parent
    lock_hash = _lock_hash(tmp_path)
    assert lock_hash == package_hash(archive_package_dir(build_dir))
    # A mirror generated anywhere else (another checkout, venv or CI runner) hashes the same.
    build_plugin_mirror(tmp_path / "other")
    assert lock_hash == package_hash(archive_package_dir(tmp_path / "other"))

    terraform.run("apply", "-auto-approve")
    archives = json.loads(terraform.run("output", "-json", "archives").stdout)
    _check_outputs(tmp_path, archives)
    first = {name: (tmp_path / "build" / f"{name}.zip").read_bytes() for name in EXPECTED_ENTRIES}

    for path in (tmp_path / "src").rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    terraform.run("apply", "-auto-approve")
    second = {name: (tmp_path / "build" / f"{name}.zip").read_bytes() for name in EXPECTED_ENTRIES}
    assert second == first
    assert json.loads(terraform.run("output", "-json", "archives").stdout) == archives

    plan = terraform.run("plan", "-detailed-exitcode", check=False)
    assert plan.returncode == 0, plan.stdout + plan.stderr


@pytest.mark.terraform
def test_terraform_reports_bad_archive_configs(tmp_path: Path, tf_env: dict[str, str]) -> None:
    (tmp_path / "main.tf").write_text(BAD_TF)
    terraform = Terraform(tmp_path, tf_env)
    terraform.run("init")

    result = terraform.run("validate", check=False)
    assert result.returncode == 1
    message = " ".join(result.stderr.split())  # Terraform wraps long details
    assert "Error: Unsupported archive type" in message
    assert 'archive type not supported: "tar"' in message
    assert "Error: Conflicting archive sources" in message
    assert "Got: source_dir, source_file." in message
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob("*.tar"))
