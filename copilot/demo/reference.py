"""Reference data of the demo warehouse, loaded once from the vendored YAML.

The closed value sets of `otc_schema.sql` live here too: the generator draws only from them and
the loader checks the YAML against them, so a typo in the reference file fails loudly at load
time (naming the file and the line) instead of producing rows outside the data contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from copilot.core.errors import DemoDataError

__all__ = [
    "ASSET_CLASS_OF_PRODUCT",
    "CCPS",
    "CURRENCIES",
    "PRODUCTS",
    "RATINGS",
    "REFERENCE_FILE",
    "REGIONS",
    "SCHEMA_FILE",
    "SECTORS",
    "Counterparty",
    "Desk",
    "LegalEntity",
    "ReferenceData",
    "load_reference_data",
]

REFERENCE_FILE = Path(__file__).with_name("otc_reference_data.yaml")
SCHEMA_FILE = Path(__file__).with_name("otc_schema.sql")

# Closed value sets from the schema comments, in the schema's order.
SECTORS = ("BANK", "HEDGE_FUND", "ASSET_MANAGER", "CORPORATE", "INSURER", "CCP")
RATINGS = ("AAA", "AA", "A", "BBB", "BB", "B")
REGIONS = ("EMEA", "AMER", "APAC")
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF", "AUD", "CAD", "SGD")
CCPS = ("LCH", "CME", "EUREX", "ICE")
PRODUCTS = (
    "IRS", "OIS", "CCS", "FX_FORWARD", "FX_SWAP", "FX_OPTION", "CDS", "CDX",
    "EQUITY_SWAP", "EQUITY_OPTION", "COMMODITY_SWAP",
)
ASSET_CLASS_OF_PRODUCT = {
    "IRS": "RATES", "OIS": "RATES", "CCS": "RATES",
    "FX_FORWARD": "FX", "FX_SWAP": "FX", "FX_OPTION": "FX",
    "CDS": "CREDIT", "CDX": "CREDIT",
    "EQUITY_SWAP": "EQUITY", "EQUITY_OPTION": "EQUITY",
    "COMMODITY_SWAP": "COMMODITY",
}


@dataclass(frozen=True)
class LegalEntity:
    """One of the bank's booking entities (legal_entities row)."""

    code: str
    name: str
    country: str
    region: str


@dataclass(frozen=True)
class Counterparty:
    """A counterparty as the reference file names it (counterparties row, minus generated ids)."""

    short_name: str
    legal_name: str
    sector: str
    country: str
    credit_rating: str | None

    @property
    def is_ccp(self) -> bool:
        """True for central counterparties, the only rows with sector CCP."""
        return self.sector == "CCP"


@dataclass(frozen=True)
class Desk:
    """A trading desk, its book-code prefix and the products it trades."""

    name: str
    code: str
    products: tuple[str, ...]


@dataclass(frozen=True)
class ReferenceData:
    """Everything the demo generator takes from the reference file, validated."""

    legal_entities: tuple[LegalEntity, ...]
    counterparties: tuple[Counterparty, ...]
    desks: tuple[Desk, ...]
    currencies: tuple[str, ...]
    traders: tuple[str, ...]
    ops_analysts: tuple[str, ...]

    def desk_of_product(self, product: str) -> Desk:
        """The desk that trades `product` (the loader guarantees exactly one)."""
        return next(desk for desk in self.desks if product in desk.products)


class _LineDict(dict):
    """A YAML mapping that remembers the line it started on, for error messages."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    mapping = _LineDict(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Checker:
    """Builds error messages that name the file and the line of the offending entry."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, node: Any, message: str) -> DemoDataError:
        line = getattr(node, "line", 0)
        where = f"{self.path}, line {line}" if line else str(self.path)
        return DemoDataError(f"Invalid demo reference data in {where}: {message}")

    def text(self, node: _LineDict, key: str, *, allowed: tuple[str, ...] = (),
             length: int | None = None) -> str:
        value = node.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(node, f"'{key}' must be a non-empty string, got {value!r}")
        if allowed and value not in allowed:
            raise self.fail(node, f"'{key}' is {value!r}; expected one of {', '.join(allowed)}")
        if length is not None and len(value) != length:
            raise self.fail(node, f"'{key}' must be {length} characters, got {value!r}")
        return value

    def items(self, root: _LineDict, key: str) -> list[Any]:
        value = root.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(root, f"'{key}' must be a non-empty list")
        return value

    def names(self, root: _LineDict, key: str) -> tuple[str, ...]:
        values = self.items(root, key)
        if not all(isinstance(v, str) and v.strip() for v in values):
            raise self.fail(root, f"every entry of '{key}' must be a non-empty string")
        if len(set(values)) != len(values):
            raise self.fail(root, f"'{key}' lists a name twice")
        return tuple(values)

    def unique(self, nodes: list[_LineDict], values: list[str], what: str) -> None:
        seen: set[str] = set()
        for node, value in zip(nodes, values, strict=True):
            if value in seen:
                raise self.fail(node, f"duplicate {what} {value!r}")
            seen.add(value)


def load_reference_data(path: Path = REFERENCE_FILE) -> ReferenceData:
    """Load and validate the demo reference data; raise DemoDataError naming the file on error."""
    check = _Checker(path)
    try:
        # _LineLoader is a SafeLoader that also records line numbers: no arbitrary objects.
        root = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except OSError as error:
        raise DemoDataError(f"Cannot read the demo reference data {path}: {error}") from error
    except yaml.YAMLError as error:
        raise DemoDataError(f"Invalid YAML in the demo reference data {path}: {error}") from error
    if not isinstance(root, _LineDict):
        raise check.fail(root, "the file must hold a mapping at the top level")

    entities = _legal_entities(check, root)
    counterparties = _counterparties(check, root)
    desks = _desks(check, root)
    currencies = check.names(root, "currencies")
    unknown = sorted(set(currencies) - set(CURRENCIES))
    if unknown:
        raise check.fail(root, f"currencies outside the schema's value set: {', '.join(unknown)}")
    return ReferenceData(
        legal_entities=entities,
        counterparties=counterparties,
        desks=desks,
        currencies=currencies,
        traders=check.names(root, "traders"),
        ops_analysts=check.names(root, "ops_analysts"),
    )


def _legal_entities(check: _Checker, root: _LineDict) -> tuple[LegalEntity, ...]:
    regions = root.get("regions")
    if not isinstance(regions, dict):
        raise check.fail(root, "'regions' must map each legal entity code to a region")
    nodes = check.items(root, "legal_entities")
    entities = []
    for node in nodes:
        if not isinstance(node, _LineDict):
            raise check.fail(root, "each legal entity must be a mapping")
        code = check.text(node, "code")
        if code not in regions:
            raise check.fail(regions, f"no region for legal entity {code!r}")
        if regions[code] not in REGIONS:
            raise check.fail(regions, f"region {regions[code]!r} of {code!r} is not in {REGIONS}")
        entities.append(LegalEntity(code=code, name=check.text(node, "name"),
                                    country=check.text(node, "country", length=2),
                                    region=regions[code]))
    check.unique(nodes, [e.code for e in entities], "legal entity code")
    return tuple(entities)


def _counterparties(check: _Checker, root: _LineDict) -> tuple[Counterparty, ...]:
    nodes = check.items(root, "counterparties")
    parties = []
    for node in nodes:
        if not isinstance(node, _LineDict):
            raise check.fail(root, "each counterparty must be a mapping")
        rating = node.get("credit_rating")
        if rating is not None and rating not in RATINGS:
            raise check.fail(node, f"credit_rating {rating!r} is not one of {RATINGS} or null")
        party = Counterparty(
            short_name=check.text(node, "short_name"),
            legal_name=check.text(node, "legal_name"),
            sector=check.text(node, "sector", allowed=SECTORS),
            country=check.text(node, "country", length=2),
            credit_rating=rating,
        )
        # trades.ccp carries the CCP's short_name, so it must be in that column's value set.
        if party.is_ccp and party.short_name not in CCPS:
            raise check.fail(node, f"CCP {party.short_name!r} is not one of {CCPS}")
        parties.append(party)
    check.unique(nodes, [p.short_name for p in parties], "counterparty short_name")
    if not any(p.is_ccp for p in parties) or all(p.is_ccp for p in parties):
        raise check.fail(root, "counterparties must include CCPs and non-CCPs")
    return tuple(parties)


def _desks(check: _Checker, root: _LineDict) -> tuple[Desk, ...]:
    nodes = check.items(root, "desks")
    desks = []
    for node in nodes:
        if not isinstance(node, _LineDict):
            raise check.fail(root, "each desk must be a mapping")
        products = node.get("products")
        if not isinstance(products, list) or not products:
            raise check.fail(node, "'products' must be a non-empty list")
        outside = [p for p in products if p not in PRODUCTS]
        if outside:
            raise check.fail(node, f"products outside the schema's value set: {outside}")
        desks.append(Desk(name=check.text(node, "desk"), code=check.text(node, "code"),
                          products=tuple(products)))
    check.unique(nodes, [d.code for d in desks], "desk code")
    listed = [p for desk in desks for p in desk.products]
    if sorted(listed) != sorted(PRODUCTS):
        raise check.fail(root, f"every product must belong to exactly one desk: {PRODUCTS}")
    return tuple(desks)
