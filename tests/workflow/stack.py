"""The examples/complete stack, applied once per session by pytest-terraform.

Test modules import `complete` from here. pytest-terraform's fixture factory
must run after pytest is configured (during collection, not in a conftest),
and only once per Terraform directory, so it lives in this one module.
"""

from pytest_terraform import terraform

terraform("complete", scope="session")
