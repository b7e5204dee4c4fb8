<?xml version="1.0" encoding="UTF-8"?>
<!--
  getstar: the browser view of a GetStar-format answer (VOTable 1.1).

  The legacy answer names this stylesheet in its <?xml-stylesheet?> instruction, as GetStar's does,
  so a browser opening the GetStar URL (ASPRO2's "GetStar" button) shows a page: per star, every
  property that has a value, with its unit, error, origin (catalogue, decoded through the
  OriginIndexes PARAM) and confidence (ConfidenceIndexes), and links where the FIELD has a LINK
  template.  Cells are found the way SearchCal GUI finds them: GROUP -> FIELDref -> FIELD ID ->
  the FIELD's position among the FIELDs -> the row's TD at that position.  Those positions are
  worked out once per document (the "layout", an EXSLT node-set, which browsers support), not per
  cell: ~150 groups x 4 lookups x ~460 FIELDs per row would take a browser seconds.

  XSLT 1.0 only (browsers run XSLT 1.0), no script, no resource from elsewhere.
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:VOT="http://www.ivoa.net/xml/VOTable/v1.1"
                xmlns:exsl="http://exslt.org/common"
                exclude-result-prefixes="VOT exsl">

  <xsl:output method="html" encoding="UTF-8" indent="no"/>

  <xsl:variable name="table" select="/VOT:VOTABLE/VOT:RESOURCE/VOT:TABLE"/>
  <xsl:variable name="fields" select="$table/VOT:FIELD"/>
  <xsl:key name="field-by-id" match="VOT:FIELD" use="@ID"/>
  <xsl:variable name="origins" select="$table/VOT:PARAM[@name = 'OriginIndexes']/VOT:VALUES/VOT:OPTION"/>
  <xsl:variable name="confidences" select="$table/VOT:PARAM[@name = 'ConfidenceIndexes']/VOT:VALUES/VOT:OPTION"/>

  <!-- per GROUP: the positions (1-based, among the FIELDs) of its value, origin, confidence, error -->
  <xsl:variable name="layout-tree">
    <xsl:for-each select="$table/VOT:GROUP">
      <xsl:variable name="value" select="key('field-by-id', VOT:FIELDref[1]/@ref)"/>
      <property name="{$value/@name}" unit="{$value/@unit}" description="{$value/VOT:DESCRIPTION}"
                link="{$value/VOT:LINK/@href}" v="{count($value/preceding-sibling::VOT:FIELD) + 1}">
        <xsl:for-each select="VOT:FIELDref[position() &gt; 1]">
          <xsl:variable name="f" select="key('field-by-id', @ref)"/>
          <xsl:variable name="at" select="count($f/preceding-sibling::VOT:FIELD) + 1"/>
          <xsl:choose>
            <xsl:when test="substring($f/@name, string-length($f/@name) - 6) = '.origin'">
              <xsl:attribute name="o"><xsl:value-of select="$at"/></xsl:attribute>
            </xsl:when>
            <xsl:when test="substring($f/@name, string-length($f/@name) - 10) = '.confidence'">
              <xsl:attribute name="c"><xsl:value-of select="$at"/></xsl:attribute>
            </xsl:when>
            <xsl:when test="substring($f/@ucd, string-length($f/@ucd) - 5) = '_ERROR'">
              <xsl:attribute name="e"><xsl:value-of select="$at"/></xsl:attribute>
            </xsl:when>
          </xsl:choose>
        </xsl:for-each>
      </property>
    </xsl:for-each>
  </xsl:variable>
  <xsl:variable name="layout" select="exsl:node-set($layout-tree)/property[@name != 'deletedFlag']"/>

  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <title>getstar: <xsl:value-of select="$table/VOT:PARAM[@name = 'objectName']/@value"/></title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 72em; padding: 0 1em; color: #222; }
          h1 { font-size: 1.4em; margin-bottom: 0.2em; }
          h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
          .meta, .note { color: #555; font-size: 0.9em; }
          table { border-collapse: collapse; margin-top: 0.5em; }
          th, td { border: 1px solid #ddd; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
          th { background: #f4f4f4; }
          td.value { font-family: ui-monospace, monospace; }
          td.err { font-family: ui-monospace, monospace; color: #555; }
          .conf-HIGH { background: #d8f0d8; } .conf-MEDIUM { background: #f4ecc8; } .conf-LOW { background: #f6d6d0; }
          .missing { color: #a33; }
          pre { background: #f7f7f7; padding: 0.5em; overflow-x: auto; font-size: 0.85em; }
        </style>
      </head>
      <body>
        <h1 id="getstar-view">getstar — <xsl:value-of select="$table/VOT:PARAM[@name = 'objectName']/@value"/></h1>
        <p class="meta">
          <xsl:value-of select="$table/VOT:PARAM[@name = 'SearchCalServerVersion']/@value"/>
          <xsl:text> · </xsl:text>
          <xsl:value-of select="$table/VOT:PARAM[@name = 'ServerDate']/@value"/>
          <xsl:text> UTC · </xsl:text>
          <span id="star-count"><xsl:value-of select="count($table/VOT:DATA/VOT:TABLEDATA/VOT:TR)"/></span>
          <xsl:text> star(s) · </xsl:text>
          <a href="/">search another star</a>
        </p>
        <xsl:for-each select="/VOT:VOTABLE/VOT:INFO[@name = 'SERVICE']">
          <p class="note"><xsl:value-of select="."/></p>
        </xsl:for-each>
        <xsl:for-each select="/VOT:VOTABLE/VOT:INFO[@name = 'NOT_FOUND' or @name = 'AMBIGUOUS' or @name = 'UNAVAILABLE']">
          <p class="missing"><xsl:value-of select="@value"/>: <xsl:value-of select="."/></p>
        </xsl:for-each>
        <xsl:for-each select="$table/VOT:DATA/VOT:TABLEDATA/VOT:TR">
          <xsl:call-template name="star"/>
        </xsl:for-each>
        <xsl:for-each select="/VOT:VOTABLE/VOT:INFO[@name = 'LOG']">
          <details><summary>Request log</summary><pre><xsl:value-of select="."/></pre></details>
        </xsl:for-each>
        <p class="note">A VOTable 1.1 in JMMC GetStar's format, shown by your browser with getstar's stylesheet.
          Origins are the catalogues the values come from; confidence HIGH, MEDIUM or LOW.</p>
      </body>
    </html>
  </xsl:template>

  <!-- one star: a heading and its properties -->
  <xsl:template name="star">
    <xsl:variable name="tds" select="VOT:TD"/>
    <xsl:variable name="at-asked" select="number($layout[@name = 'TARGET_ID']/@v)"/>
    <xsl:variable name="at-main" select="number($layout[@name = 'SIMBAD']/@v)"/>
    <xsl:variable name="asked" select="string($tds[$at-asked])"/>
    <xsl:variable name="main" select="string($tds[$at-main])"/>
    <section class="star">
      <h2>
        <xsl:choose>
          <xsl:when test="$main != ''"><xsl:value-of select="$main"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="$asked"/></xsl:otherwise>
        </xsl:choose>
        <xsl:if test="$asked != '' and $asked != $main">
          <small> (asked as <xsl:value-of select="$asked"/>)</small>
        </xsl:if>
      </h2>
      <p class="meta"><a href="/?q={$asked}">open in the getstar page</a></p>
      <table class="props">
        <thead><tr><th>property</th><th>value</th><th>error</th><th>unit</th><th>origin</th><th>confidence</th></tr></thead>
        <tbody>
          <xsl:for-each select="$layout">
            <xsl:call-template name="property"><xsl:with-param name="tds" select="$tds"/></xsl:call-template>
          </xsl:for-each>
        </tbody>
      </table>
    </section>
  </xsl:template>

  <!-- one property (the current layout entry) of a row: value, error, unit, origin, confidence -->
  <xsl:template name="property">
    <xsl:param name="tds"/>
    <!-- positions in variables: a browser's XSLT jumps straight to $tds[$n], not to $tds[expression] -->
    <xsl:variable name="at" select="number(@v)"/>
    <xsl:variable name="value" select="string($tds[$at])"/>
    <xsl:if test="$value != ''">
      <xsl:variable name="at-o" select="number(@o)"/>
      <xsl:variable name="at-c" select="number(@c)"/>
      <xsl:variable name="at-e" select="number(@e)"/>
      <xsl:variable name="origin-code" select="string($tds[$at-o])"/>
      <xsl:variable name="confidence-code" select="string($tds[$at-c])"/>
      <xsl:variable name="error" select="string($tds[$at-e])"/>
      <xsl:variable name="confidence" select="$confidences[@name = $confidence-code]/@value"/>
      <tr data-property="{@name}" class="conf-{$confidence}">
        <td class="name" title="{@description}"><xsl:value-of select="@name"/></td>
        <td class="value">
          <xsl:choose>
            <xsl:when test="@link != ''">
              <a>
                <xsl:attribute name="href">
                  <xsl:call-template name="fill">
                    <xsl:with-param name="tds" select="$tds"/>
                    <xsl:with-param name="template" select="string(@link)"/>
                  </xsl:call-template>
                </xsl:attribute>
                <xsl:value-of select="$value"/>
              </a>
            </xsl:when>
            <xsl:otherwise><xsl:value-of select="$value"/></xsl:otherwise>
          </xsl:choose>
        </td>
        <td class="err">
          <xsl:if test="@e and $error != ''">± <xsl:value-of select="$error"/></xsl:if>
        </td>
        <td class="unit"><xsl:value-of select="@unit"/></td>
        <td class="origin"><xsl:value-of select="$origins[@name = $origin-code]/@value"/></td>
        <td class="confidence"><xsl:value-of select="$confidence"/></td>
      </tr>
    </xsl:if>
  </xsl:template>

  <!-- a LINK template with each ${NAME} replaced by the row's cell of property NAME -->
  <xsl:template name="fill">
    <xsl:param name="tds"/>
    <xsl:param name="template"/>
    <xsl:choose>
      <xsl:when test="contains($template, '${') and contains(substring-after($template, '${'), '}')">
        <xsl:value-of select="substring-before($template, '${')"/>
        <xsl:variable name="rest" select="substring-after($template, '${')"/>
        <xsl:variable name="at" select="number($layout[@name = substring-before($rest, '}')]/@v)"/>
        <xsl:value-of select="$tds[$at]"/>
        <xsl:call-template name="fill">
          <xsl:with-param name="tds" select="$tds"/>
          <xsl:with-param name="template" select="substring-after($rest, '}')"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$template"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

</xsl:stylesheet>
