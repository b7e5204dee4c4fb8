"""TAP and ADQL over the live snapshot, served by GAVO DaCHS (Debian ``python3-gavo``).

No copy of the data: DaCHS publishes two views, ``getstar.star`` and ``getstar.ident``,
over plain SQL functions that name ``live.star`` and ``live.ident`` (``getstar.tap.sql``),
so every query reads whatever snapshot is live, across swaps.  Everything DaCHS needs is
derived from ``getstar.properties``: the columns (``columns``), the resource descriptor
(``rd``), the functions and grants (``sql``) and the DaCHS configuration (``dachs``).
"""
