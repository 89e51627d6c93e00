"""Local stand-in for the hashicorp/archive Terraform provider, built on the `tf` package.

Run it with ``python -m emulator.archive_provider``; Terraform finds it through the plugin
mirror that ``emulator.terraform_cli.build_plugin_mirror`` writes.
"""

from emulator.archive_provider.archiver import (
    ArchiveError,
    ArchiveRequest,
    Checksums,
    ExcludeMatcher,
    build_archive,
    parse_file_mode,
)
from emulator.archive_provider.provider import (
    PROVIDER_ADDRESS,
    ArchiveFileDataSource,
    ArchiveFileResource,
    ArchiveProvider,
    archive_file_schema,
    config_problems,
)

__all__ = [
    "PROVIDER_ADDRESS",
    "ArchiveError",
    "ArchiveFileDataSource",
    "ArchiveFileResource",
    "ArchiveProvider",
    "ArchiveRequest",
    "Checksums",
    "ExcludeMatcher",
    "archive_file_schema",
    "build_archive",
    "config_problems",
    "parse_file_mode",
]
