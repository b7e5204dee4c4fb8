"""Batch cross-identification (``POST /v1/xmatch``, ``getstar xmatch FILE``).

A list of targets (names and/or positions, optional epochs and radii) is matched against
the live snapshot in one set-based query and answered row by row, in input order.

Modules, one job each:
  ``reader``    CSV/TSV/JSON/VOTable bodies -> a plain table (400/413/415 for the body);
  ``targets``   table rows -> targets (column roles; per-row problems kept per row);
  ``match``     targets -> SQL (temporary table, names, positions, epochs, flags);
  ``output``    matched rows -> JSON/CSV/VOTable chunks;
  ``endpoint``  the HTTP endpoint, streaming;
  ``runner``    the command line: a file in chunks, with a progress bar.
"""

from __future__ import annotations

from getstar.xmatch.match import FLAGS, KEY_PROPERTIES

__all__ = ["FLAGS", "KEY_PROPERTIES"]
