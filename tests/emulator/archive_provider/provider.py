"""The `archive` provider: `archive_file` data source (and the deprecated resource) on `tf`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tf import types
from tf.blocks import SetNestedBlock
from tf.iface import (
    Config,
    CreateContext,
    DataSource,
    DeleteContext,
    PlanContext,
    Provider,
    ReadContext,
    ReadDataContext,
    Resource,
    State,
    UpdateContext,
    UpgradeContext,
)
from tf.schema import Attribute, Block, Schema
from tf.types import Unknown
from tf.utils import Diagnostics

from emulator.archive_provider.archiver import (
    ArchiveError,
    ArchiveRequest,
    ExcludeMatcher,
    PatternError,
    build_archive,
    parse_file_mode,
)

PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/archive"
SUPPORTED_TYPES = ("zip",)

_ONE_SOURCE = (
    "One and only one of `source`, `source_content_filename` (with `source_content`), "
    "`source_file`, or `source_dir` must be specified."
)
# Input groups of which exactly one may be used; source_content goes with its filename.
_SOURCE_GROUPS: dict[str, tuple[str, ...]] = {
    "source_dir": ("source_dir",),
    "source_file": ("source_file",),
    "source_content": ("source_content", "source_content_filename"),
    "source": ("source",),
}
COMPUTED_ATTRIBUTES = (
    "id",
    "output_size",
    "output_md5",
    "output_sha",
    "output_sha256",
    "output_base64sha256",
    "output_sha512",
    "output_base64sha512",
)


def archive_file_schema(*, resource: bool = False) -> Schema:
    """The v2.x `archive_file` schema; the resource variant replaces on input changes."""
    replace = True if resource else None

    def optional(name: str, kind: types.TfType, description: str) -> Attribute:
        return Attribute(name, kind, description, optional=True, requires_replace=replace)

    def computed(name: str, kind: types.TfType, description: str) -> Attribute:
        return Attribute(name, kind, description, computed=True)

    source_block = Block(
        attributes=[
            Attribute(
                "content",
                types.String(),
                "Add this content to the archive with `filename` as the filename.",
                required=True,
            ),
            Attribute(
                "filename",
                types.String(),
                "Set this as the filename when declaring a `source`.",
                required=True,
            ),
        ],
        description="Specifies attributes of a single source file to include into the "
        f"archive. {_ONE_SOURCE}",
    )
    return Schema(
        description="Generates an archive from content, a file, or directory of files.",
        attributes=[
            computed("id", types.String(), "The sha1 checksum hash of the output."),
            Attribute(
                "type",
                types.String(),
                "The type of archive to generate. NOTE: only `zip` is supported here.",
                required=True,
                requires_replace=replace,
            ),
            optional(
                "source_content",
                types.String(),
                "Add only this content to the archive "
                f"with `source_content_filename` as the filename. {_ONE_SOURCE}",
            ),
            optional(
                "source_content_filename",
                types.String(),
                f"Set this as the filename when using `source_content`. {_ONE_SOURCE}",
            ),
            optional(
                "source_file", types.String(), f"Package this file into the archive. {_ONE_SOURCE}"
            ),
            optional(
                "source_dir",
                types.String(),
                f"Package entire contents of this directory into the archive. {_ONE_SOURCE}",
            ),
            optional(
                "excludes",
                types.Set(types.String()),
                "Specify files/directories to "
                "ignore when reading the `source_dir`. Supports glob file matching "
                "patterns including doublestar/globstar (`**`) patterns.",
            ),
            Attribute(
                "exclude_symlink_directories",
                types.Bool(),
                "Boolean flag indicating whether symbolically linked directories should be "
                "excluded during the creation of the archive. Defaults to `false`.",
                optional=True,
            ),
            Attribute(
                "output_path",
                types.String(),
                "The output of the archive file.",
                required=True,
                requires_replace=replace,
            ),
            computed("output_size", types.Number(), "The byte size of the output archive file."),
            optional(
                "output_file_mode",
                types.String(),
                "String that specifies the octal file "
                'mode for all archived files. For example: `"0666"`.',
            ),
            computed("output_md5", types.String(), "MD5 of output file"),
            computed("output_sha", types.String(), "SHA1 checksum of output file"),
            computed("output_sha256", types.String(), "SHA256 checksum of output file"),
            computed(
                "output_base64sha256",
                types.String(),
                "Base64 Encoded SHA256 checksum of output file",
            ),
            computed("output_sha512", types.String(), "SHA512 checksum of output file"),
            computed(
                "output_base64sha512",
                types.String(),
                "Base64 Encoded SHA512 checksum of output file",
            ),
        ],
        block_types=[SetNestedBlock("source", source_block)],
    )


# ----------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class Problem:
    """A configuration error, reported as a Terraform diagnostic."""

    summary: str
    detail: str
    attribute: str | None = None

    def report(self, diags: Diagnostics) -> None:
        path = [self.attribute] if self.attribute else None
        diags.add_error(self.summary, self.detail, path=path)


def _state_of(value: Any) -> str:
    """Classify a config value as "unset", "unknown" or "set"."""
    if value is Unknown:
        return "unknown"
    if value is None or value == []:
        return "unset"
    return "set"


def config_problems(config: Mapping[str, Any]) -> list[Problem]:
    """Check an `archive_file` config; unknown values are given the benefit of the doubt."""
    problems: list[Problem] = []
    kind = config.get("type")
    if isinstance(kind, str) and kind not in SUPPORTED_TYPES:
        supported = ", ".join(f'"{name}"' for name in SUPPORTED_TYPES)
        problems.append(
            Problem(
                "Unsupported archive type",
                f'archive type not supported: "{kind}". This local stand-in for '
                f"hashicorp/archive only builds {supported}.",
                "type",
            )
        )

    groups = {
        group: {_state_of(config.get(name)) for name in names}
        for group, names in _SOURCE_GROUPS.items()
    }
    used = [group for group, states in groups.items() if "set" in states]
    undecided = any("unknown" in states for states in groups.values())
    if len(used) > 1:
        problems.append(
            Problem(
                "Conflicting archive sources",
                f"{_ONE_SOURCE} Got: {', '.join(used)}.",
                used[1],
            )
        )
    elif not used and not undecided:
        problems.append(Problem("Missing archive source", _ONE_SOURCE))
    if (
        _state_of(config.get("source_content")) == "set"
        and _state_of(config.get("source_content_filename")) == "unset"
    ):
        problems.append(
            Problem(
                "Missing source_content_filename",
                "`source_content` needs `source_content_filename` to name the archived file.",
                "source_content_filename",
            )
        )

    excludes = config.get("excludes")
    if _state_of(excludes) == "set":
        others = [g for g in ("source_file", "source_content") if "set" in groups[g]]
        if others:
            problems.append(
                Problem(
                    "Conflicting excludes",
                    f"`excludes` only applies to `source_dir`; it conflicts with {others[0]}.",
                    "excludes",
                )
            )
        try:
            ExcludeMatcher(p for p in excludes or () if isinstance(p, str))
        except PatternError as exc:
            problems.append(Problem("Invalid excludes pattern", str(exc), "excludes"))

    mode = config.get("output_file_mode")
    if isinstance(mode, str) and mode:
        try:
            parse_file_mode(mode)
        except ValueError as exc:
            problems.append(Problem("Invalid output_file_mode", str(exc), "output_file_mode"))
    return problems


# ----------------------------------------------------------------------------- building


def _request_from(values: Mapping[str, Any]) -> ArchiveRequest:
    blocks = values.get("source") or []
    return ArchiveRequest(
        output_path=values["output_path"],
        source_dir=values.get("source_dir"),
        source_file=values.get("source_file"),
        source_content=values.get("source_content"),
        source_content_filename=values.get("source_content_filename"),
        sources={block["filename"]: block["content"] for block in blocks} or None,
        excludes=tuple(values.get("excludes") or ()),
        exclude_symlink_directories=bool(values.get("exclude_symlink_directories")),
        output_file_mode=values.get("output_file_mode"),
    )


_ALL_ATTRIBUTES = tuple(a.name for a in archive_file_schema().attributes)


def archive_state(diags: Diagnostics, values: Mapping[str, Any]) -> State | None:
    """Build the archive for `values`; return the full state, or None after reporting errors."""
    problems = config_problems(values)
    for problem in problems:
        problem.report(diags)
    if problems:
        return None
    try:
        sums = build_archive(_request_from(values))
    except (ArchiveError, ValueError, OSError) as exc:
        diags.add_error("Archive creation error", f"error creating archive: {exc}")
        return None
    state: State = {name: values.get(name) for name in _ALL_ATTRIBUTES}
    state["source"] = list(values.get("source") or [])
    state.update(
        id=sums.sha1,
        output_size=sums.size,
        output_md5=sums.md5,
        output_sha=sums.sha1,
        output_sha256=sums.sha256,
        output_base64sha256=sums.base64sha256,
        output_sha512=sums.sha512,
        output_base64sha512=sums.base64sha512,
    )
    return state


def _guarded(diags: Diagnostics, action: str, values: Mapping[str, Any]) -> State | None:
    # An exception escaping into `tf` becomes an opaque gRPC error; report it instead.
    try:
        return archive_state(diags, values)
    except Exception as exc:
        diags.add_error(f"archive_file {action} failed", f"{type(exc).__name__}: {exc}")
        return None


def _validate(diags: Diagnostics, config: Config) -> None:
    try:
        for problem in config_problems(config):
            problem.report(diags)
    except Exception as exc:
        diags.add_error("archive_file validation failed", f"{type(exc).__name__}: {exc}")


# ----------------------------------------------------------------------------- tf plumbing


class ArchiveFileDataSource(DataSource):
    """`data "archive_file"`: builds the zip whenever Terraform reads it."""

    def __init__(self, provider: ArchiveProvider) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "file"

    @classmethod
    def get_schema(cls) -> Schema:
        return archive_file_schema()

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        _validate(diags, config)

    def read(self, ctx: ReadDataContext, config: Config) -> State | None:
        return _guarded(ctx.diagnostics, "read", config)


class ArchiveFileResource(Resource):
    """Deprecated `resource "archive_file"`: rebuilt on create, refresh and update."""

    def __init__(self, provider: ArchiveProvider) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "file"

    @classmethod
    def get_schema(cls) -> Schema:
        return archive_file_schema(resource=True)

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        super().validate(diags, type_name, config)
        _validate(diags, config)

    def plan(self, ctx: PlanContext, current: State | None, planned: State) -> State | None:
        changed = set(ctx.changed_fields) - set(COMPUTED_ATTRIBUTES)
        blocks_changed = current is not None and _block_key(current) != _block_key(planned)
        if changed or blocks_changed:
            planned.update(dict.fromkeys(COMPUTED_ATTRIBUTES, Unknown))
        return planned

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        return _guarded(ctx.diagnostics, "create", planned)

    def read(self, ctx: ReadContext, current: State) -> State | None:
        # Like the real resource, refresh rebuilds the archive and its checksums.
        return _guarded(ctx.diagnostics, "read", current)

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        return _guarded(ctx.diagnostics, "update", planned)

    def delete(self, ctx: DeleteContext, current: State) -> None:
        # The real resource leaves the zip on disk as well.
        return None

    def upgrade(self, ctx: UpgradeContext, version: int, old: State) -> State | None:
        # tf's default adds a warning to every plan; schema version 0 needs no upgrade.
        return old


def _block_key(state: Mapping[str, Any]) -> list[tuple[str, str]]:
    blocks = state.get("source") or []
    return sorted((b.get("filename") or "", b.get("content") or "") for b in blocks)


class ArchiveProvider(Provider):
    """hashicorp/archive stand-in: no provider configuration, one data source, one resource."""

    def get_model_prefix(self) -> str:
        return "archive_"

    def full_name(self) -> str:
        return PROVIDER_ADDRESS

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return Schema(version=0)

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        return None

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        return None

    def get_data_sources(self) -> list[type[DataSource]]:
        return [ArchiveFileDataSource]

    def get_resources(self) -> list[type[Resource]]:
        return [ArchiveFileResource]
