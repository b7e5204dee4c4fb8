<?xml version="1.0" encoding="UTF-8"?>
<!--
  getstar: the browser view of a GetStar-format answer (VOTable 1.1).

  The legacy answer names this stylesheet in its <?xml-stylesheet?> instruction, as GetStar's does,
  so a browser opening the GetStar URL (ASPRO2's "GetStar" button) shows a page: per star, every
  property that has a value, with its unit, error, origin (catalogue, decoded through the
  OriginIndexes PARAM) and confidence (ConfidenceIndexes), and links where the FIELD has a LINK
  template.  Cells are found the way SearchCal GUI finds them: GROUP -> FIELDref -> FIELD ID ->
  the FIELD's position among the FIELDs -> the row's TD at that position.

  XSLT 1.0 only (browsers run XSLT 1.0), no script, no resource from elsewhere.
-->
<xsl:stylesheet version="1.0"
                xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:VOT="http://www.ivoa.net/xml/VOTable/v1.1"
                exclude-result-prefixes="VOT">

  <xsl:output method="html" encoding="UTF-8" indent="no"/>

  <xsl:variable name="table" select="/VOT:VOTABLE/VOT:RESOURCE/VOT:TABLE"/>
  <xsl:variable name="fields" select="$table/VOT:FIELD"/>
  <xsl:key name="field-by-id" match="VOT:FIELD" use="@ID"/>
  <xsl:key name="field-by-name" match="VOT:FIELD" use="@name"/>

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
    <xsl:variable name="row" select="."/>
    <xsl:variable name="asked">
      <xsl:call-template name="cell"><xsl:with-param name="row" select="$row"/><xsl:with-param name="name" select="'TARGET_ID'"/></xsl:call-template>
    </xsl:variable>
    <xsl:variable name="main">
      <xsl:call-template name="cell"><xsl:with-param name="row" select="$row"/><xsl:with-param name="name" select="'SIMBAD'"/></xsl:call-template>
    </xsl:variable>
    <section class="star">
      <h2>
        <xsl:choose>
          <xsl:when test="string($main) != ''"><xsl:value-of select="$main"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="$asked"/></xsl:otherwise>
        </xsl:choose>
        <xsl:if test="string($asked) != '' and string($asked) != string($main)">
          <small> (asked as <xsl:value-of select="$asked"/>)</small>
        </xsl:if>
      </h2>
      <p class="meta"><a href="/?q={$asked}">open in the getstar page</a></p>
      <table class="props">
        <thead><tr><th>property</th><th>value</th><th>error</th><th>unit</th><th>origin</th><th>confidence</th></tr></thead>
        <tbody>
          <xsl:for-each select="$table/VOT:GROUP">
            <xsl:call-template name="property"><xsl:with-param name="row" select="$row"/></xsl:call-template>
          </xsl:for-each>
        </tbody>
      </table>
    </section>
  </xsl:template>

  <!-- one GROUP of the current row: value, origin, confidence, error -->
  <xsl:template name="property">
    <xsl:param name="row"/>
    <xsl:variable name="value-field" select="key('field-by-id', VOT:FIELDref[1]/@ref)"/>
    <xsl:variable name="value">
      <xsl:call-template name="td"><xsl:with-param name="row" select="$row"/><xsl:with-param name="field" select="$value-field"/></xsl:call-template>
    </xsl:variable>
    <xsl:if test="string($value) != '' and $value-field/@name != 'deletedFlag'">
      <xsl:variable name="origin-code">
        <xsl:for-each select="VOT:FIELDref">
          <xsl:if test="substring(key('field-by-id', @ref)/@name, string-length(key('field-by-id', @ref)/@name) - 6) = '.origin'">
            <xsl:call-template name="td"><xsl:with-param name="row" select="$row"/><xsl:with-param name="field" select="key('field-by-id', @ref)"/></xsl:call-template>
          </xsl:if>
        </xsl:for-each>
      </xsl:variable>
      <xsl:variable name="confidence-code">
        <xsl:for-each select="VOT:FIELDref">
          <xsl:if test="substring(key('field-by-id', @ref)/@name, string-length(key('field-by-id', @ref)/@name) - 10) = '.confidence'">
            <xsl:call-template name="td"><xsl:with-param name="row" select="$row"/><xsl:with-param name="field" select="key('field-by-id', @ref)"/></xsl:call-template>
          </xsl:if>
        </xsl:for-each>
      </xsl:variable>
      <xsl:variable name="error">
        <xsl:for-each select="VOT:FIELDref[position() &gt; 1]">
          <xsl:variable name="f" select="key('field-by-id', @ref)"/>
          <xsl:if test="substring($f/@ucd, string-length($f/@ucd) - 5) = '_ERROR'">
            <xsl:call-template name="td"><xsl:with-param name="row" select="$row"/><xsl:with-param name="field" select="$f"/></xsl:call-template>
          </xsl:if>
        </xsl:for-each>
      </xsl:variable>
      <xsl:variable name="confidence" select="$table/VOT:PARAM[@name = 'ConfidenceIndexes']/VOT:VALUES/VOT:OPTION[@name = string($confidence-code)]/@value"/>
      <tr data-property="{$value-field/@name}" class="conf-{$confidence}">
        <td class="name" title="{$value-field/VOT:DESCRIPTION}"><xsl:value-of select="$value-field/@name"/></td>
        <td class="value">
          <xsl:choose>
            <xsl:when test="$value-field/VOT:LINK/@href">
              <a>
                <xsl:attribute name="href">
                  <xsl:call-template name="fill"><xsl:with-param name="row" select="$row"/><xsl:with-param name="template" select="$value-field/VOT:LINK/@href"/></xsl:call-template>
                </xsl:attribute>
                <xsl:value-of select="$value"/>
              </a>
            </xsl:when>
            <xsl:otherwise><xsl:value-of select="$value"/></xsl:otherwise>
          </xsl:choose>
        </td>
        <td class="err"><xsl:if test="string($error) != ''">± <xsl:value-of select="$error"/></xsl:if></td>
        <td class="unit"><xsl:value-of select="$value-field/@unit"/></td>
        <td class="origin"><xsl:value-of select="$table/VOT:PARAM[@name = 'OriginIndexes']/VOT:VALUES/VOT:OPTION[@name = string($origin-code)]/@value"/></td>
        <td class="confidence"><xsl:value-of select="$confidence"/></td>
      </tr>
    </xsl:if>
  </xsl:template>

  <!-- the text of a row's cell for a FIELD node: the TD at the FIELD's position among the FIELDs -->
  <xsl:template name="td">
    <xsl:param name="row"/>
    <xsl:param name="field"/>
    <xsl:if test="$field">
      <xsl:value-of select="$row/VOT:TD[count($field/preceding-sibling::VOT:FIELD) + 1]"/>
    </xsl:if>
  </xsl:template>

  <!-- the text of a row's cell by FIELD name -->
  <xsl:template name="cell">
    <xsl:param name="row"/>
    <xsl:param name="name"/>
    <xsl:call-template name="td">
      <xsl:with-param name="row" select="$row"/>
      <xsl:with-param name="field" select="key('field-by-name', $name)[1]"/>
    </xsl:call-template>
  </xsl:template>

  <!-- a LINK template with each ${NAME} replaced by the row's cell of FIELD NAME -->
  <xsl:template name="fill">
    <xsl:param name="row"/>
    <xsl:param name="template"/>
    <xsl:choose>
      <xsl:when test="contains($template, '${') and contains(substring-after($template, '${'), '}')">
        <xsl:value-of select="substring-before($template, '${')"/>
        <xsl:variable name="rest" select="substring-after($template, '${')"/>
        <xsl:call-template name="cell">
          <xsl:with-param name="row" select="$row"/>
          <xsl:with-param name="name" select="substring-before($rest, '}')"/>
        </xsl:call-template>
        <xsl:call-template name="fill">
          <xsl:with-param name="row" select="$row"/>
          <xsl:with-param name="template" select="substring-after($rest, '}')"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$template"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

</xsl:stylesheet>
