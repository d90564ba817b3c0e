"""One warehouse of tests/newschemas: see its warehouse.py."""
