"""Regional prices from pricing/prices.toml, each with its source and date."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).resolve().parents[2] / "pricing" / "prices.toml"
_BASES = ("aws", "secondary", "assumed")


class PriceFileError(ValueError):
    """The price file lacks a region or a figure, or a figure is malformed."""


@dataclass(frozen=True)
class Price:
    usd: float
    source: str
    as_of: str
    basis: str  # aws, secondary or assumed: see the head of prices.toml


@dataclass(frozen=True)
class RegionPrices:
    region: str
    name: str
    nat_gateway_hour: Price
    nat_gateway_gb: Price
    public_ipv4_hour: Price
    sfn_1000_transitions: Price
    lambda_gb_second: Price
    lambda_million_requests: Price

    def unconfirmed(self) -> list[tuple[str, Price]]:
        """Figures not read on AWS's own page for this region."""
        return [(key, price) for key, price in self.figures() if price.basis != "aws"]

    def figures(self) -> list[tuple[str, Price]]:
        return [
            (field.name, getattr(self, field.name))
            for field in fields(self)
            if isinstance(getattr(self, field.name), Price)
        ]


def load_prices(region: str, path: Path = PRICES_FILE) -> RegionPrices:
    with path.open("rb") as handle:
        table = tomllib.load(handle)
    if region not in table:
        known = ", ".join(sorted(table))
        raise PriceFileError(f"{path.name} has no prices for {region!r}; it has: {known}")
    entry = table[region]
    figures = {
        field.name: _price(region, field.name, entry.get(field.name))
        for field in fields(RegionPrices)
        if field.name not in ("region", "name")
    }
    return RegionPrices(region=region, name=str(entry.get("name", region)), **figures)


def _price(region: str, key: str, raw: Any) -> Price:
    where = f"{region}.{key}"
    if not isinstance(raw, dict):
        raise PriceFileError(f"prices.toml: {where} is missing")
    missing = [name for name in ("usd", "source", "as_of", "basis") if name not in raw]
    if missing:
        raise PriceFileError(f"prices.toml: {where} lacks {', '.join(missing)}")
    if raw["basis"] not in _BASES:
        raise PriceFileError(f"prices.toml: {where} basis must be one of {', '.join(_BASES)}")
    usd = raw["usd"]
    if isinstance(usd, bool) or not isinstance(usd, int | float) or usd < 0:
        raise PriceFileError(f"prices.toml: {where} usd must be a number >= 0")
    return Price(float(usd), str(raw["source"]), str(raw["as_of"]), str(raw["basis"]))
