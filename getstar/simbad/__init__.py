"""SIMBAD TAP fallback: names the snapshot lacks are asked of SIMBAD and kept locally.

Modules, one job each:
- ``adql``: the ADQL we send (every literal escaped), with a configurable table prefix.
- ``parse``: a TAP VOTable answer -> ``SimbadObject`` rows (errors, truncation, empty results).
- ``breaker``, ``ratelimit``, ``negcache``, ``singleflight``: resilience building blocks, each
  behind a small interface so a Redis-backed version can replace the in-process one.
- ``client``: the async TAP client (httpx): timeout, retries on transient failures only,
  Retry-After, circuit breaker, rate limit.
- ``learned``: the raw-store tables of what SIMBAD taught us (survive snapshot rebuilds).
- ``store``: writes learned objects into the live snapshot (the build's merge, one transaction).
- ``fallback``: what the resolver calls for names not found locally.
- ``bulk``: ``getstar ingest simbad-names FILE``.
- ``upload``, ``limits``, ``conflicts``, ``checkpoint``, ``enrich``: ``getstar ingest
  simbad-enrich``, every star asked in bulk by TAP upload (what is uploaded and asked; the
  service's upload/answer limits and SIMBAD's rate policy; one-to-one pairs vs conflicts; the
  runs' checkpoints; the batch loop).
The mapping of a SIMBAD row to star columns is ``getstar.simbad_columns`` (shared with the build).
"""
