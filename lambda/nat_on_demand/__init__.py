"""nat-on-demand: a NAT Gateway that exists only while a run holds it."""

__version__ = "0.1.0"
