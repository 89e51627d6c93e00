"""Cost estimator: a month of nat-on-demand runs against always-on NAT Gateways.

`make cost ARGS="..."` or `python -m natcost` with tools/ on the path. Prices
come from pricing/prices.toml; the run model is in natcost.model.
"""
