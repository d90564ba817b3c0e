"""Warehouse (b), CamelCase: a ship registry with its port calls and port-state inspections.

Companies own and manage vessels; each vessel flies a flag, has an IMO number, a type, a
gross and a deadweight tonnage, a build year and a registry status. Vessels call at ports
(arrival, departure, cargo tonnes, the purpose of the call), and are inspected at ports
(deficiencies found, an outcome). Names are CamelCase as an ORM or a .NET shop writes them:
`Vessel`, `PortCall`, `VesselName`, `GrossTonnage`, `BuiltYear`, `ArrivalDate`.

Two foreign-key paths join `Vessel` to `Company`: its owner and its manager.
Deterministic for a seed; stdlib only.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from newschemas.load import Table, write_warehouse

__all__ = ["AS_OF", "build"]

AS_OF = date(2026, 11, 20)

_COMPANIES = (
    ("Oceanic Holdings", "GR"), ("Nordic Bulk Shipping", "NO"), ("Aegean Tankers", "GR"),
    ("Pacific Line", "SG"), ("Hanseatic Carriers", "DE"), ("Blue Anchor Maritime", "GB"),
    ("Meridian Shipmanagement", "CY"), ("Kowloon Marine", "HK"), ("Atlas Ship Management", "CY"),
    ("Baltic Reefers", "DK"), ("Sunrise Navigation", "JP"), ("Coral Sea Shipping", "SG"),
    ("Andes Maritime", "CL"), ("Thames Ship Managers", "GB"), ("Gulf Energy Transport", "AE"),
    ("Lion City Tankers", "SG"), ("Fjord Gas Carriers", "NO"), ("Marmara Lines", "TR"),
    ("Rhine Bulk", "NL"), ("Tasman Shipping", "AU"), ("Cape Maritime", "ZA"),
    ("Iberia Navieras", "ES"), ("Adriatic Ship Management", "HR"), ("Yellow Sea Marine", "KR"),
)
_VESSELS = (
    "Aurora", "Borealis", "Cape Horn", "Nordic Spirit", "Pacific Dawn", "Atlantic Star",
    "Sea Falcon", "Ocean Pride", "Golden Gate", "Silver Wave", "Northern Light", "Blue Marlin",
    "Red Coral", "Iron Duke", "Morning Glory", "Evening Star", "Polar Bear", "Desert Rose",
    "Emerald Bay", "Crystal Sea", "Jade Fortune", "Lucky Dragon", "Royal Oak", "Stellar Wind",
    "Trade Winds", "Vega", "Orion", "Sirius", "Altair", "Castor", "Pollux", "Rigel",
    "Andromeda", "Cassiopeia", "Perseus", "Hercules", "Neptune", "Poseidon", "Triton",
    "Nereus", "Kalypso", "Thetis", "Galatea", "Amphitrite", "Oceanus", "Hyperion",
    "Meridian Spirit", "Baltic Trader", "Adriatic Sun", "Aegean Wave", "Tasman Bridge",
    "Coral Princess", "Fjord Runner", "Andes Voyager", "Kowloon Express", "Lion Heart",
    "Thames Pearl", "Rhine Carrier", "Gulf Pioneer", "Yellow Sea Star",
)
_TYPES = ("TANKER", "BULK_CARRIER", "CONTAINER", "LNG_CARRIER", "RO_RO")
_FLAGS = ("Panama", "Liberia", "Marshall Islands", "Malta", "Bahamas", "Greece", "Norway",
          "Singapore")
_PORTS = (
    ("Rotterdam", "NL", "EUROPE"), ("Antwerp", "BE", "EUROPE"), ("Hamburg", "DE", "EUROPE"),
    ("Piraeus", "GR", "EUROPE"), ("Algeciras", "ES", "EUROPE"), ("Singapore", "SG", "ASIA"),
    ("Shanghai", "CN", "ASIA"), ("Busan", "KR", "ASIA"), ("Port Klang", "MY", "ASIA"),
    ("Jebel Ali", "AE", "MIDDLE_EAST"), ("Ras Tanura", "SA", "MIDDLE_EAST"),
    ("Houston", "US", "AMERICAS"), ("Santos", "BR", "AMERICAS"), ("Long Beach", "US", "AMERICAS"),
    ("Durban", "ZA", "AFRICA"),
)
_PURPOSES = ("LOADING", "DISCHARGE", "LOADING", "DISCHARGE", "BUNKERING", "REPAIR")
_INSPECTORS = ("H. de Vries", "P. Alvarez", "S. Okafor", "M. Lindqvist", "T. Nakamura")
_SCHEMA = {
    "Company": ('"CompanyId" INTEGER PRIMARY KEY', '"CompanyName" VARCHAR(60) NOT NULL UNIQUE',
                '"CountryCode" CHAR(2) NOT NULL'),
    "Vessel": ('"VesselId" INTEGER PRIMARY KEY', '"ImoNumber" VARCHAR(7) NOT NULL UNIQUE',
               '"VesselName" VARCHAR(40) NOT NULL', '"VesselType" VARCHAR(14) NOT NULL',
               '"FlagState" VARCHAR(20) NOT NULL', '"GrossTonnage" INTEGER NOT NULL',
               '"DeadweightTonnage" INTEGER NOT NULL', '"BuiltYear" INTEGER NOT NULL',
               '"RegistryStatus" VARCHAR(10) NOT NULL',
               '"OwnerCompanyId" INTEGER NOT NULL REFERENCES "Company" ("CompanyId")',
               '"ManagerCompanyId" INTEGER NOT NULL REFERENCES "Company" ("CompanyId")'),
    "Port": ('"PortId" INTEGER PRIMARY KEY', '"PortName" VARCHAR(30) NOT NULL UNIQUE',
             '"CountryCode" CHAR(2) NOT NULL', '"Region" VARCHAR(12) NOT NULL'),
    "PortCall": ('"PortCallId" INTEGER PRIMARY KEY',
                 '"VesselId" INTEGER NOT NULL REFERENCES "Vessel" ("VesselId")',
                 '"PortId" INTEGER NOT NULL REFERENCES "Port" ("PortId")',
                 '"ArrivalDate" DATE NOT NULL', '"DepartureDate" DATE',
                 '"CargoTonnes" INTEGER NOT NULL', '"CallPurpose" VARCHAR(10) NOT NULL'),
    "Inspection": ('"InspectionId" INTEGER PRIMARY KEY',
                   '"VesselId" INTEGER NOT NULL REFERENCES "Vessel" ("VesselId")',
                   '"PortId" INTEGER NOT NULL REFERENCES "Port" ("PortId")',
                   '"InspectionDate" DATE NOT NULL', '"DeficiencyCount" INTEGER NOT NULL',
                   '"Outcome" VARCHAR(10) NOT NULL', '"InspectorName" VARCHAR(30) NOT NULL'),
}
# Tonnage per type: gross tonnage range and deadweight per gross ton.
_SIZE = {"TANKER": (30_000, 160_000, 1.8), "BULK_CARRIER": (20_000, 110_000, 1.9),
         "CONTAINER": (25_000, 230_000, 0.6), "LNG_CARRIER": (90_000, 130_000, 0.85),
         "RO_RO": (15_000, 75_000, 0.35)}


def _rows(seed: int) -> dict[str, list[tuple[object, ...]]]:
    rng = random.Random(seed)
    companies = [(i + 1, name, country) for i, (name, country) in enumerate(_COMPANIES)]
    vessels = []
    for i, name in enumerate(_VESSELS):
        kind = rng.choice(_TYPES)
        low, high, dwt = _SIZE[kind]
        gross = rng.randrange(low, high)
        built = rng.randint(1996, 2025)
        status = "SCRAPPED" if built < 2000 and rng.random() < 0.5 else rng.choice(
            ("ACTIVE",) * 8 + ("LAID_UP",))
        owner = rng.randint(1, len(companies))
        manager = owner if rng.random() < 0.4 else rng.randint(1, len(companies))
        vessels.append((i + 1, str(9_100_000 + rng.randrange(800_000)), name, kind,
                        rng.choice(_FLAGS), gross, int(gross * dwt * rng.uniform(0.9, 1.1)),
                        built, status, owner, manager))
    ports = [(i + 1, *p) for i, p in enumerate(_PORTS)]
    calls, inspections = [], []
    sailing = [v for v in vessels if v[8] == "ACTIVE"]
    for n in range(1, 421):
        vessel = rng.choice(sailing)
        port = rng.choice(ports[:6] * 2 + ports)  # the big hubs see more calls
        arrival = AS_OF - timedelta(days=rng.randrange(-4, 300))
        stay = rng.randint(1, 6)
        departure = arrival + timedelta(days=stay)
        purpose = rng.choice(_PURPOSES)
        cargo = 0 if purpose in ("BUNKERING", "REPAIR") else int(vessel[6] * rng.uniform(0.3, 0.95))
        calls.append((n, vessel[0], port[0], arrival.isoformat(),
                      None if arrival > AS_OF else departure.isoformat(), cargo, purpose))
        if arrival <= AS_OF and rng.random() < 0.3:
            deficiencies = rng.choice((0, 0, 0, 1, 2, 3, 5, 8, 12))
            outcome = ("CLEAR" if deficiencies == 0 else
                       "DETAINED" if deficiencies >= 8 else "DEFICIENT")
            day = arrival + timedelta(days=rng.randrange(stay))
            inspections.append((vessel[0], port[0], day.isoformat(), deficiencies, outcome,
                                rng.choice(_INSPECTORS)))
    inspections.sort(key=lambda r: (r[2], r[0]))
    return {"Company": companies, "Vessel": vessels, "Port": ports, "PortCall": calls,
            "Inspection": [(i + 1, *r) for i, r in enumerate(inspections)]}


def build(path: Path, postgres_url: str | None = None, seed: int = 15) -> Path:
    """Write the ship registry to SQLite at `path` (replaced), and to the empty PostgreSQL
    database at `postgres_url` when given; return `path`."""
    rows = _rows(seed)
    return write_warehouse([Table(name, columns, rows[name])
                            for name, columns in _SCHEMA.items()], path, postgres_url)
