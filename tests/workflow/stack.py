"""The examples/complete stack, applied once per session by pytest-terraform.

Test modules import `complete` from here. pytest-terraform's fixture factory
must run after pytest is configured (during collection, not in a conftest),
and only once per Terraform directory, so it lives in this one module.
"""

from collections import defaultdict

from pytest_terraform import terraform, tf

# Under xdist, pytest-terraform 0.7.0 applies a session stack in one worker
# and hands the others its recorded state (and that path calls a method
# TerraformTestApi lacks). Here every worker has its own local AWS, so a stack
# made in one worker would not exist in another: each applies its own.
terraform.scope_class_map = defaultdict(lambda: tf.TerraformFixture)

terraform("complete", scope="session")
