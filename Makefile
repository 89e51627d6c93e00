# nat-on-demand: packaging, checks, tests and the demo, all against a local AWS.
# Nothing needs installing by hand: the first target that needs Python creates
# .venv and installs the pinned dependencies from pyproject.toml.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BUILD  := build
STAMP  := $(VENV)/.installed
CHECKOV_VENV := $(BUILD)/checkov-venv
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

# The aws provider comes from a filesystem mirror when one is here; with
# registry access, leave TF_PLUGIN_MIRROR empty and Terraform downloads it.
TF_PLUGIN_MIRROR ?= $(if $(wildcard /opt/tf-plugins),/opt/tf-plugins,)
export TF_PLUGIN_MIRROR
# Generated into build/ by `terraform-config`; never the user's ~/.terraformrc.
export TF_CLI_CONFIG_FILE := $(CURDIR)/$(BUILD)/terraform.rc
export CHECKPOINT_DISABLE := 1
EMULATOR := PYTHONPATH=$(CURDIR)/tests $(PY) -m emulator
# Developer tools outside the module and its tests: README tables, cost estimate.
TOOLS    := PYTHONPATH=$(CURDIR)/tools $(PY) -m

EXAMPLES := $(sort $(dir $(wildcard examples/*/main.tf)))
# Workers per pytest run. The workflow and Terraform tests mostly wait (on
# simulated NAT Gateway transitions and on Terraform), so they get more
# workers than cores, and run beside the fast tests.
PYTEST_WORKERS ?= 2
SLOW_WORKERS ?= 4

.PHONY: help venv checkov package terraform-config fmt lint docs docs-check cost validate plan unit slow test demo bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade 'pip>=25.1'
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --group dev
	touch $@

$(CHECKOV_STAMP): pyproject.toml
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade 'pip>=25.1'
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check --group security
	touch $@

checkov: $(CHECKOV_STAMP) ## Security scan of the module and examples; a skipped check says why beside it
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml

venv: $(STAMP) ## Create .venv with the pinned tools (automatic for every other target)

terraform-config: $(STAMP) ## Write the provider mirror and Terraform CLI config into build/
	@$(EMULATOR) terraform-config >/dev/null

package: $(STAMP) ## Build the Lambda zip as the module does (build/nat-on-demand-lambda.zip)
	@$(EMULATOR) package

fmt: $(STAMP) ## Format HCL and Python in place
	terraform fmt -recursive .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lint: docs-check validate checkov ## terraform fmt/validate, README tables in sync, ruff, mypy
	terraform fmt -check -recursive .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

docs: $(STAMP) ## Regenerate the README's Inputs and Outputs tables from variables.tf and outputs.tf
	@$(TOOLS) tfdocs write

docs-check: $(STAMP) ## Fail if the README's Inputs and Outputs tables differ from the module
	@$(TOOLS) tfdocs check

cost: $(STAMP) ## Monthly cost, on-demand vs always-on NAT Gateways (ARGS="--help" lists options)
	@$(TOOLS) natcost $(ARGS)

validate: terraform-config ## terraform validate the module and every example
	@$(EMULATOR) validate . $(EXAMPLES)

plan: terraform-config ## Plan examples/complete against a fresh local AWS
	@$(EMULATOR) plan examples/complete

unit: $(STAMP) ## Only the fast tests: domain code on moto, the emulator itself, docs and cost tools
	$(PY) -m pytest tests/unit tests/emulator tests/tools -n $(PYTEST_WORKERS)

slow: terraform-config ## Only the workflow and Terraform tests: examples applied on the local AWS
	$(PY) -m pytest tests/workflow tests/terraform -n $(SLOW_WORKERS) --dist loadgroup

# The two pytest runs must be separate processes (the fast tests reset moto's
# in-process state); they run side by side, each one's output printed whole
# when it ends.
test: lint ## The whole suite: lint, then the fast and the slow tests side by side
	$(MAKE) -j2 --output-sync=target unit slow

demo: terraform-config ## Apply examples/complete on the local AWS, run it, check, destroy
	@$(EMULATOR) demo

bench: terraform-config ## Runs measured against a waiter-in-Lambda baseline, ~7 min (ARGS="--help" lists options)
	@PYTHONPATH=$(CURDIR)/tests:$(CURDIR)/lambda:$(CURDIR) $(PY) -m bench $(ARGS)

clean: ## Remove build output and Terraform working files (keeps .venv)
	rm -rf $(BUILD) examples/*/.terraform examples/*/.terraform.lock.hcl examples/*/tf_resources.json
