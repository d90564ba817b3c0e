"""Three warehouses of our own making, in the naming styles banks have, for issue 15: drafting a
glossary from the schema alone and answering from it (see README.md)."""
