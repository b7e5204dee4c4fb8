<!-- SIMBAD-shaped tables (basic, ident, ids, flux) for getstar's TAP integration test.
  Served by a throw-away DaCHS in tests/test_simbad_tap_server.py and tests/test_simbad_enrich.py;
  the rows are values from recorded SIMBAD answers (see tests/data/simbad/README.md; the enrichment
  test appends invented objects for its own stars, tests/simbad_bulk.py).  Only the columns getstar
  reads.  Uploads (TAP_UPLOAD) are on in DaCHS by default. -->
<resource schema="simbadlike" resdir=".">
  <meta name="creationDate">2026-11-25T00:00:00</meta>
  <meta name="title">SIMBAD-shaped tables for getstar tests</meta>
  <meta name="description">A few objects in the layout of SIMBAD's TAP tables.</meta>
  <meta name="creator.name">getstar</meta>
  <meta name="subject">stars</meta>

  <table id="basic" onDisk="True" adql="True" primary="oid">
    <meta name="description">General data about an astronomical object</meta>
    <column name="oid" type="bigint" required="True" description="Object internal identifier"/>
    <column name="main_id" type="text" ucd="meta.id;meta.main" description="Main identifier"/>
    <column name="otype" type="text" description="Object type"/>
    <column name="ra" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main" description="RA"/>
    <column name="dec" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main" description="Dec"/>
    <column name="coo_qual" type="text" description="Coordinate quality"/>
    <column name="coo_err_maj" type="real" unit="mas" description="Coordinate error major axis"/>
    <column name="coo_err_min" type="real" unit="mas" description="Coordinate error minor axis"/>
    <column name="pmra" type="double precision" unit="mas/yr" description="Proper motion in RA"/>
    <column name="pmdec" type="double precision" unit="mas/yr" description="Proper motion in Dec"/>
    <column name="pm_err_maj" type="real" unit="mas/yr" description="PM error major axis"/>
    <column name="pm_err_min" type="real" unit="mas/yr" description="PM error minor axis"/>
    <column name="pm_qual" type="text" description="Proper motion quality"/>
    <column name="plx_value" type="double precision" unit="mas" description="Parallax"/>
    <column name="plx_err" type="real" unit="mas" description="Parallax error"/>
    <column name="plx_qual" type="text" description="Parallax quality"/>
    <column name="rvz_radvel" type="double precision" unit="km/s" description="Radial velocity"/>
    <column name="rvz_err" type="real" unit="km/s" description="Radial velocity error"/>
    <column name="rvz_qual" type="text" description="Radial velocity quality"/>
    <column name="sp_type" type="text" description="MK spectral type"/>
    <column name="sp_qual" type="text" description="Spectral type quality"/>
  </table>

  <table id="ident" onDisk="True" adql="True">
    <meta name="description">Identifiers of an astronomical object</meta>
    <column name="oidref" type="bigint" required="True" description="Object internal identifier"/>
    <column name="id" type="text" ucd="meta.id" description="Identifier"/>
    <index columns="id"/>
    <index columns="oidref"/>
  </table>

  <table id="ids" onDisk="True" adql="True">
    <meta name="description">All names concatenated with pipe</meta>
    <column name="oidref" type="bigint" required="True" description="Object internal identifier"/>
    <column name="ids" type="text" description="Identifiers joined by |"/>
    <index columns="oidref"/>
  </table>

  <table id="alltypes" onDisk="True" adql="True">
    <meta name="description">all object types concatenated with pipe</meta>
    <column name="oidref" type="bigint" required="True" description="Object internal identifier"/>
    <column name="otypes" type="text" description="All object types joined by |"/>
    <index columns="oidref"/>
  </table>

  <table id="flux" onDisk="True" adql="True">
    <meta name="description">Magnitude/Flux information about an astronomical object</meta>
    <column name="oidref" type="bigint" required="True" description="Object internal identifier"/>
    <column name="filter" type="text" description="Filter name"/>
    <column name="flux" type="real" unit="mag" description="Magnitude"/>
    <column name="flux_err" type="real" unit="mag" description="Magnitude error"/>
    <column name="qual" type="text" description="Flux quality"/>
    <index columns="oidref"/>
  </table>

  <data id="import_basic">
    <sources>data/basic.csv</sources>
    <csvGrammar delimiter="|"/>
    <make table="basic"><rowmaker idmaps="*"/></make>
  </data>
  <data id="import_ident">
    <sources>data/ident.csv</sources>
    <csvGrammar delimiter="|"/>
    <make table="ident"><rowmaker idmaps="*"/></make>
  </data>
  <data id="import_ids">
    <sources>data/ids.csv</sources>
    <csvGrammar delimiter=";"/>
    <make table="ids"><rowmaker idmaps="*"/></make>
  </data>
  <data id="import_alltypes">
    <sources>data/alltypes.csv</sources>
    <csvGrammar delimiter=";"/>
    <make table="alltypes"><rowmaker idmaps="*"/></make>
  </data>
  <data id="import_flux">
    <sources>data/flux.csv</sources>
    <csvGrammar delimiter="|"/>
    <make table="flux"><rowmaker idmaps="*"/></make>
  </data>
</resource>
