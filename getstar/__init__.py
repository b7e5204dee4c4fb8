"""getstar: a fast star resolver (SIMBAD + JSDC snapshot in PostgreSQL/q3c)."""

__version__ = "0.1.0"
