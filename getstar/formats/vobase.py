"""What every VOTable getstar writes shares: versions, namespaces and schemas, the document
prolog, and VOTable 1.1's integer nulls (1.1 has no empty integer cell; 1.4 writes none).

The writers (``formats.votable`` for answers, ``formats.table`` for plain tables, ``scs`` for
Simple Cone Search, ``xmatch.render`` for batch rows rendered in SQL) take these from here.
"""

from __future__ import annotations

__all__ = ["INT_NULL", "NAMESPACE", "SCHEMA", "prolog"]

#: VOTable 1.1's null value of each integer datatype (``<VALUES null=…>`` and the cell written).
INT_NULL = {"int": "-2147483648", "long": "-9223372036854775808"}
#: XML namespace of each VOTable version we write (1.4 keeps 1.3's namespace).
NAMESPACE = {"1.1": "http://www.ivoa.net/xml/VOTable/v1.1", "1.4": "http://www.ivoa.net/xml/VOTable/v1.3"}
#: The XSD each version is validated against (``xsi:schemaLocation`` names the namespace, then this).
SCHEMA = {"1.1": "http://www.ivoa.net/xml/VOTable/VOTable-1.1.xsd",
          "1.4": "http://www.ivoa.net/xml/VOTable/VOTable-1.4.xsd"}
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def schema_location(version: str) -> str:
    return f"{NAMESPACE[version]} {SCHEMA[version]}"


def prolog(version: str) -> str:
    """XML declaration and the VOTABLE start tag (namespace, XSD), one attribute per line."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<VOTABLE version="{version}" xmlns="{NAMESPACE[version]}"\n'
            f'         xmlns:xsi="{_XSI}"\n'
            f'         xsi:schemaLocation="{schema_location(version)}">\n')


def getstar_prolog() -> str:
    """GetStar's own 1.1 prolog, byte for byte (no newline after the declaration, its XSL view,
    a blank line after the start tag): ASPRO2 and SearchCal read answers laid out so."""
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<?xml-stylesheet href="./getstarVOTableToHTML.xsl" type="text/xsl"?>'
            '<VOTABLE version="1.1"\n'
            f'         xmlns="{NAMESPACE["1.1"]}"\n'
            f'         xmlns:xsi="{_XSI}"\n'
            f'         xsi:schemaLocation="{schema_location("1.1")}">\n\n')
