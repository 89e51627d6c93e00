"""Entry point Terraform runs (through the mirror's launcher): serve the provider over gRPC."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from tf.runner import run_provider

from emulator.archive_provider.provider import ArchiveProvider

# Where `tf` may cache its TLS certificate; see _redirect_cert_cache.
CACHE_DIR_ENV = "NAT_ON_DEMAND_TF_PROVIDER_CACHE"


def _redirect_cert_cache() -> None:
    """Keep tf's certificate cache out of the user's home.

    tf 1.2 stores it under ``Path.home() / ".cache/tf-python-provider"`` with no setting of its
    own, so HOME is pointed elsewhere for this process only (the provider reads nothing else
    from HOME).
    """
    configured = os.environ.get(CACHE_DIR_ENV)
    fallback = Path(tempfile.gettempdir()) / f"nat-on-demand-tf-provider-{os.getuid()}"
    home = Path(configured) if configured else fallback
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ["HOME"] = str(home)


def main(argv: list[str] | None = None) -> None:
    """Start the provider; the go-plugin handshake is the only thing written to stdout."""
    _redirect_cert_cache()
    run_provider(ArchiveProvider(), argv if argv is not None else sys.argv)


if __name__ == "__main__":
    main()
