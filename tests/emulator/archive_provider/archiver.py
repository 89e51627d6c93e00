"""Zip building with the observable behaviour of hashicorp/archive v2.x (its zip archiver)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import stat
import uuid
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

# Go's archive/zip turns the zero time.Time the real provider sets into this DOS date.
FILE_DATE_TIME = (2049, 1, 1, 0, 0, 0)
# zip.Writer.Create (used for source_content and source blocks) leaves the DOS date at zero.
CONTENT_DATE_TIME = (1980, 0, 0, 0, 0, 0)
DEFAULT_FILE_MODE = 0o644

_UNIX_CREATOR = 3
_S_IFREG = 0o100000
_MSDOS_READONLY = 0x01


class ArchiveError(Exception):
    """An archive could not be built; the message is shown to the Terraform user."""


class PatternError(ValueError):
    """An `excludes` pattern is malformed."""


@dataclass(frozen=True)
class Checksums:
    """Size and digests of a finished archive, as exposed by the data source."""

    size: int
    md5: str
    sha1: str
    sha256: str
    base64sha256: str
    sha512: str
    base64sha512: str

    @classmethod
    def of_file(cls, path: Path) -> Checksums:
        data = path.read_bytes()
        sha256 = hashlib.sha256(data).digest()
        sha512 = hashlib.sha512(data).digest()
        return cls(
            size=len(data),
            md5=hashlib.md5(data).hexdigest(),
            sha1=hashlib.sha1(data).hexdigest(),
            sha256=sha256.hex(),
            base64sha256=base64.b64encode(sha256).decode(),
            sha512=sha512.hex(),
            base64sha512=base64.b64encode(sha512).decode(),
        )


@dataclass(frozen=True)
class _Entry:
    name: str
    date_time: tuple[int, int, int, int, int, int]
    source: Path | None = None
    content: bytes = b""

    def data(self) -> bytes:
        return self.source.read_bytes() if self.source is not None else self.content


# ----------------------------------------------------------------------------- file modes


def parse_file_mode(text: str) -> int:
    """Parse `output_file_mode` like Go's strconv.ParseUint(text, 0, 32)."""
    error = ValueError(f"error parsing output_file_mode value: {text}")
    body, base = text, 10
    prefix = text[:2].lower()
    if prefix in ("0x", "0o", "0b"):
        body, base = text[2:], {"x": 16, "o": 8, "b": 2}[prefix[1]]
    elif len(text) > 1 and text.startswith("0"):
        body, base = text[1:], 8
    # int() would also accept signs and surrounding blanks, which Go rejects.
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z_]*", body):
        raise error
    try:
        value = int(body, base)
    except ValueError:
        raise error from None
    if value > 0xFFFFFFFF:
        raise error
    return value


def _external_attr(mode: int) -> int:
    # Same bits Go's FileHeader.SetMode writes for a regular file.
    perm = mode & 0o777
    attr = (_S_IFREG | perm) << 16
    if not perm & 0o200:
        attr |= _MSDOS_READONLY
    return attr


# ----------------------------------------------------------------------------- excludes


def _split_braces(pattern: str) -> list[str]:
    """Expand `{a,b}` alternatives (nestable, `\\` escapes, literal inside `[...]`)."""
    depth, start, in_class, i = 0, -1, False, 0
    commas: list[int] = []
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                head, tail = pattern[:start], pattern[i + 1 :]
                bounds = [start, *commas, i]
                options = [pattern[a + 1 : b] for a, b in pairwise(bounds)]
                return [
                    expanded
                    for option in options
                    for expanded in _split_braces(head + option + tail)
                ]
        elif ch == "," and depth == 1:
            commas.append(i)
        i += 1
    if depth:
        raise PatternError(f"syntax error in pattern: {pattern}")
    return [pattern]


def _class_regex(segment: str, i: int) -> tuple[str, int]:
    """Translate the `[...]` starting at segment[i]; return (regex, index after `]`)."""
    i += 1
    negate = i < len(segment) and segment[i] in "!^"
    if negate:
        i += 1
    items: list[str] = []
    while True:
        if i >= len(segment):
            raise PatternError(f"syntax error in pattern: {segment}")
        if segment[i] == "]" and items:
            i += 1
            break
        lo, i = _class_char(segment, i)
        if i + 1 < len(segment) and segment[i] == "-" and segment[i + 1] != "]":
            hi, i = _class_char(segment, i + 1)
            if hi < lo:
                raise PatternError(f"syntax error in pattern: {segment}")
            items.append(f"{re.escape(lo)}-{re.escape(hi)}")
        else:
            items.append(re.escape(lo))
    return f"[{'^' if negate else ''}{''.join(items)}]", i


def _class_char(segment: str, i: int) -> tuple[str, int]:
    ch = segment[i]
    if ch == "\\":
        if i + 1 >= len(segment):
            raise PatternError(f"syntax error in pattern: {segment}")
        return segment[i + 1], i + 2
    if ch in "-]":
        raise PatternError(f"syntax error in pattern: {segment}")
    return ch, i + 1


def _segment_regex(segment: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "*":
            parts.append(".*")
            while i < len(segment) and segment[i] == "*":
                i += 1
            continue
        if ch == "?":
            parts.append(".")
        elif ch == "[":
            regex, i = _class_regex(segment, i)
            parts.append(regex)
            continue
        elif ch == "\\":
            if i + 1 >= len(segment):
                raise PatternError(f"syntax error in pattern: {segment}")
            i += 1
            parts.append(re.escape(segment[i]))
        else:
            parts.append(re.escape(ch))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


class ExcludeMatcher:
    """doublestar.PathMatch semantics, as used by the provider's `excludes` (v2.4+).

    `*`, `?` and `[...]` stay within one path segment, a whole `**` segment matches zero or
    more segments, and `{a,b}` picks alternatives.
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        self._alternatives: list[list[re.Pattern[str] | None]] = []
        for pattern in patterns:
            if not pattern:
                continue
            for expanded in _split_braces(pattern):
                self._alternatives.append(
                    [None if seg == "**" else _segment_regex(seg) for seg in expanded.split("/")]
                )

    def matches(self, path: str) -> bool:
        names = path.split("/")
        return any(_match_segments(segs, names) for segs in self._alternatives)


def _match_segments(segs: Sequence[re.Pattern[str] | None], names: Sequence[str]) -> bool:
    if not segs:
        return not names
    head = segs[0]
    if head is None:
        return any(_match_segments(segs[1:], names[i:]) for i in range(len(names) + 1))
    return (
        bool(names)
        and head.fullmatch(names[0]) is not None
        and _match_segments(segs[1:], names[1:])
    )


# ----------------------------------------------------------------------------- directory walk


class _SkipDir(Exception):
    """Go's filepath.SkipDir."""


def _go_join(base: str, rel: str) -> str:
    # filepath.Join: empty elements vanish and the result is cleaned.
    return os.path.normpath(f"{base}/{rel}") if base else rel


class _DirCollector:
    """Replays the provider's filepath.Walk callback to list what goes into the zip."""

    def __init__(self, excludes: ExcludeMatcher, exclude_symlink_directories: bool) -> None:
        self._excludes = excludes
        self._skip_symlinked_dirs = exclude_symlink_directories
        self.files: list[tuple[str, Path]] = []

    def walk_tree(self, base: str, top: Path) -> None:
        """filepath.Walk(top, ...): a SkipDir reaching the top ends the walk quietly."""
        try:
            info = top.lstat()
        except OSError as exc:
            raise ArchiveError(f"error encountered during file walk: {exc}") from exc
        with contextlib.suppress(_SkipDir):
            self._walk(base, top, top, info)

    def _walk(self, base: str, top: Path, path: Path, info: os.stat_result) -> None:
        if not stat.S_ISDIR(info.st_mode):
            self._visit(base, top, path, info)
            return
        error: OSError | None = None
        try:
            names = sorted(child.name for child in path.iterdir())
        except OSError as exc:
            names, error = [], exc
        self._visit(base, top, path, info, error)
        for name in names:
            child = path / name
            try:
                child_info = child.lstat()
            except OSError as exc:
                raise ArchiveError(f"error encountered during file walk: {exc}") from exc
            try:
                self._walk(base, top, child, child_info)
            except _SkipDir:
                # Go: SkipDir from a non-directory also skips the rest of its parent directory.
                if not stat.S_ISDIR(child_info.st_mode):
                    raise

    def _visit(
        self,
        base: str,
        top: Path,
        path: Path,
        info: os.stat_result,
        error: OSError | None = None,
    ) -> None:
        if error is not None:
            raise ArchiveError(f"error encountered during file walk: {error}")
        archive_path = _go_join(base, str(path.relative_to(top)))
        excluded = self._excludes.matches(archive_path)
        if stat.S_ISDIR(info.st_mode):
            if excluded:
                raise _SkipDir
            return
        if excluded:
            return
        if stat.S_ISLNK(info.st_mode):
            try:
                real = path.resolve(strict=True)
                real_info = real.stat()
            except OSError as exc:
                raise ArchiveError(str(exc)) from exc
            if stat.S_ISDIR(real_info.st_mode):
                if self._skip_symlinked_dirs:
                    # Faithful to the provider, which returns SkipDir here (see _walk).
                    raise _SkipDir
                self.walk_tree(archive_path, real)
                return
        self.files.append((archive_path, path))


# ----------------------------------------------------------------------------- archive inputs


@dataclass(frozen=True)
class ArchiveRequest:
    """One archive to build; exactly one source is expected to be set."""

    output_path: str
    source_dir: str | None = None
    source_file: str | None = None
    source_content: str | None = None
    source_content_filename: str | None = None
    sources: Mapping[str, str] | None = None
    excludes: Sequence[str] = ()
    exclude_symlink_directories: bool = False
    output_file_mode: str | None = None


def _collect(request: ArchiveRequest) -> list[_Entry]:
    if request.source_dir is not None:
        return _collect_dir(request)
    if request.source_file is not None:
        return [_collect_file(request.source_file)]
    if request.source_content_filename is not None:
        content = (request.source_content or "").encode()
        return [_Entry(request.source_content_filename, CONTENT_DATE_TIME, content=content)]
    if request.sources:
        return [
            _Entry(name, CONTENT_DATE_TIME, content=request.sources[name].encode())
            for name in sorted(request.sources)
        ]
    raise ArchiveError("no archive source was given")


def _collect_dir(request: ArchiveRequest) -> list[_Entry]:
    source_dir = request.source_dir or ""
    try:
        info = Path(source_dir).stat()
    except FileNotFoundError:
        raise ArchiveError(
            f"error archiving directory: could not archive missing directory: {source_dir}"
        ) from None
    except OSError as exc:
        raise ArchiveError(f"error archiving directory: {exc}") from exc
    if not stat.S_ISDIR(info.st_mode):
        raise ArchiveError(
            f"error archiving directory: could not archive directory that is a file: {source_dir}"
        )
    try:
        matcher = ExcludeMatcher(request.excludes)
    except PatternError as exc:
        raise ArchiveError(
            f"error archiving directory: error checking excludes matches: {exc}"
        ) from exc
    collector = _DirCollector(matcher, request.exclude_symlink_directories)
    try:
        collector.walk_tree("", Path(source_dir))
    except ArchiveError as exc:
        raise ArchiveError(f"error archiving directory: {exc}") from exc
    if not collector.files:
        raise ArchiveError(
            "error archiving directory: archive has not been created as it would be empty"
        )
    return [_Entry(name, FILE_DATE_TIME, source=path) for name, path in collector.files]


def _collect_file(source_file: str) -> _Entry:
    try:
        info = Path(source_file).stat()
    except FileNotFoundError:
        raise ArchiveError(
            f"error archiving file: could not archive missing file: {source_file}"
        ) from None
    except OSError as exc:
        raise ArchiveError(f"error archiving file: {exc}") from exc
    if stat.S_ISDIR(info.st_mode):
        raise ArchiveError(f"error archiving file: read {source_file}: is a directory")
    return _Entry(Path(source_file).name, FILE_DATE_TIME, source=Path(source_file))


def _write_zip(entries: Sequence[_Entry], output: Path, mode: int) -> None:
    output.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    # Write next to the target and rename, so readers never see a half-written zip.
    tmp = output.with_name(f".{output.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for entry in entries:
                info = zipfile.ZipInfo(entry.name, date_time=entry.date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = _UNIX_CREATOR
                info.external_attr = _external_attr(mode)
                archive.writestr(info, entry.data())
        tmp.replace(output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def build_archive(request: ArchiveRequest) -> Checksums:
    """Write the zip described by `request` and return its checksums."""
    mode = DEFAULT_FILE_MODE
    if request.output_file_mode:
        mode = parse_file_mode(request.output_file_mode)
    entries = _collect(request)
    names = [entry.name for entry in entries]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ArchiveError(f"duplicate file names in archive: {', '.join(duplicates)}")
    output = Path(request.output_path)
    try:
        _write_zip(entries, output, mode)
    except OSError as exc:
        raise ArchiveError(f"error writing {output}: {exc}") from exc
    return Checksums.of_file(output)
