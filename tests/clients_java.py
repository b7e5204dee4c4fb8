"""ASPRO2's handling of a GetStar answer, run by the JDK (not re-implemented in Python): the XSLT 1.0
``scvot2AsproObservation.xsl`` through ``TransformerFactory.newInstance()`` as jmcs ``XslTransform``
runs it (secure processing off, UTF-8, indented), and the targets checked against ASPRO2's
``AsproOIModel.xsd`` with ``javax.xml.validation``.

The stylesheet and schemas are read at test time (never copied into this repository), at one pinned
ASPRO2 commit: from the JMMC-OpenDev mirror where there is one, else downloaded once from GitHub into
``~/.cache/getstar-tests`` and checked against their SHA-256 (a fresh CI machine).  A tiny Java
class of ours is compiled in a temporary directory.  Tests skip when the JDK is absent (deploy/dev.sh
test installs Debian's) or when neither the mirror nor GitHub can be read.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
from pathlib import Path

import httpx

MIRRORS = Path("/work/.mirror")
ASPRO = MIRRORS / "JMMC-OpenDev+aspro" / "repo"
#: The ASPRO2 commit the checks run against (the mirror's HEAD when they were written, 2025-12-17).
ASPRO_COMMIT = "15277a2befe8e466af72c000972ccce3c7663359"
ASPRO_RAW = f"https://raw.githubusercontent.com/JMMC-OpenDev/aspro/{ASPRO_COMMIT}/"
DOWNLOADS = Path.home() / ".cache" / "getstar-tests" / f"aspro-{ASPRO_COMMIT[:12]}"
XSLT_PATH = "src/main/resources/fr/jmmc/aspro/interop/scvot2AsproObservation.xsl"
SCHEMA_DIR = "src/main/resources/fr/jmmc/aspro/model"
#: Every file the checks read, with its SHA-256 at ASPRO_COMMIT.
ASPRO_FILES = {
    XSLT_PATH: "529331aabdd92b70a57acc4662a8086b161530da83d9b1f4628fb6c04e62e0b0",
    f"{SCHEMA_DIR}/AsproOBModel.xsd": "39ea53d8e55dcb9309a1a8edd13c485a4cf283889be4f957d1fe46a7e833985a",
    f"{SCHEMA_DIR}/AsproOIModel.xsd": "f43e209d5cfac34146d4e31bef55582fb99da630219059157b98db9d16fc25fe",
    f"{SCHEMA_DIR}/AsproRawObsModel.xsd": "bb7bcbdc83218bed969bb009dc9f453e4ca1db7e4ea78703a54742c085bd3d62",
    f"{SCHEMA_DIR}/targetModel.xsd": "0503ad20425364ac854482d8aebdb7449d9b3bb0f1dea52bcc7ec90290f56bd4",
}
ASPRO_NS = "http://www.jmmc.fr/aspro-oi/0.1"
TARGET_MODEL_NS = "http://www.jmmc.fr/jmcs/models/0.1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

RUNNER = """
import java.io.File;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.xml.XMLConstants;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Templates;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.stream.StreamResult;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.SchemaFactory;

/** transform XSL IN OUT: the JDK's XSLT as ASPRO2 runs it; validate XSD XML: schema validation. */
public class ClientXml {
    public static void main(String[] args) throws Exception {
        if (args[0].equals("transform")) {
            TransformerFactory factory = TransformerFactory.newInstance();
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, false);
            Templates templates = factory.newTemplates(new StreamSource(new File(args[1])));
            Transformer transformer = templates.newTransformer();
            transformer.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
            transformer.setOutputProperty(OutputKeys.INDENT, "yes");
            String xml = Files.readString(Path.of(args[2]), StandardCharsets.UTF_8);
            StringWriter out = new StringWriter();
            transformer.transform(new StreamSource(new StringReader(xml)), new StreamResult(out));
            Files.writeString(Path.of(args[3]), out.toString().trim(), StandardCharsets.UTF_8);
        } else {
            try {
                SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI)
                    .newSchema(new File(args[1])).newValidator().validate(new StreamSource(new File(args[2])));
            } catch (org.xml.sax.SAXException e) {
                System.err.println(e.getMessage());
                System.exit(1);
            }
        }
    }
}
"""

#: A schema of ours holding ASPRO2's ``Target`` type, so the targets can be checked on their own
#: (the transform's ``observationSetting`` lacks the parts ASPRO2 fills in itself).
TARGETS_XSD = f"""<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:a="{ASPRO_NS}" targetNamespace="urn:getstar-test">
  <xsd:import namespace="{ASPRO_NS}" schemaLocation="AsproOIModel.xsd"/>
  <xsd:element name="targets">
    <xsd:complexType><xsd:sequence>
      <xsd:element name="target" type="a:Target" form="unqualified" maxOccurs="unbounded"/>
    </xsd:sequence></xsd:complexType>
  </xsd:element>
</xsd:schema>
"""


def _checked(path: str, content: bytes) -> bytes:
    digest = hashlib.sha256(content).hexdigest()
    if digest != ASPRO_FILES[path]:
        raise AssertionError(f"ASPRO2's {path} at {ASPRO_COMMIT[:12]} has SHA-256 {digest}, not the pinned one")
    return content


def _from_mirror(path: str) -> bytes | None:
    if not (ASPRO / "HEAD").exists():
        return None
    done = subprocess.run(["git", "-C", str(ASPRO), "show", f"{ASPRO_COMMIT}:{path}"], capture_output=True,
                          timeout=60)
    return done.stdout if done.returncode == 0 else None  # a mirror without that commit: download


def _downloaded(path: str) -> bytes:
    target = DOWNLOADS / path
    if not target.exists():
        r = httpx.get(ASPRO_RAW + path, timeout=60, follow_redirects=True)
        r.raise_for_status()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.with_suffix(".part").write_bytes(_checked(path, r.content))
        target.with_suffix(".part").replace(target)
    return target.read_bytes()


@functools.cache
def aspro_file(path: str) -> bytes:
    """One of ASPRO2's files at ASPRO_COMMIT (mirror, else download cache, else GitHub), checked."""
    return _checked(path, _from_mirror(path) or _downloaded(path))


@functools.cache
def available() -> str | None:
    """Why the JDK checks cannot run here, or None."""
    if shutil.which("java") is None or shutil.which("javac") is None:
        return "no JDK (Debian: default-jdk-headless; deploy/dev.sh test installs it)"
    try:
        for path in ASPRO_FILES:
            aspro_file(path)
    except (httpx.HTTPError, OSError) as e:
        return f"ASPRO2's files: no mirror at {ASPRO} and GitHub cannot be read ({type(e).__name__})"
    return None


class Aspro2:
    """ASPRO2's GetStar import in a directory of its own: the compiled runner, the XSLT, the schemas."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        (workdir / "ClientXml.java").write_text(RUNNER)
        subprocess.run(["javac", "-d", str(workdir), str(workdir / "ClientXml.java")], check=True,
                       capture_output=True, timeout=180)
        self.xsl = workdir / "scvot2AsproObservation.xsl"
        self.xsl.write_bytes(aspro_file(XSLT_PATH))
        for path in ASPRO_FILES:
            if path.endswith(".xsd"):
                (workdir / Path(path).name).write_bytes(aspro_file(path))
        (workdir / "targets.xsd").write_text(TARGETS_XSD)
        self._n = 0

    def _java(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["java", "-cp", str(self.dir), "ClientXml", *args], capture_output=True, text=True,
                              timeout=300)

    def transform(self, votable: bytes) -> str:
        """The observation ASPRO2 makes of a VOTable ('' when it sees no SearchCal/GetStar VOTable)."""
        self._n += 1
        src, out = self.dir / f"in{self._n}.vot", self.dir / f"out{self._n}.xml"
        src.write_bytes(votable)
        done = self._java("transform", str(self.xsl), str(src), str(out))
        if done.returncode:
            raise AssertionError(f"the XSLT failed: {done.stderr[-2000:]}")
        return out.read_text(encoding="utf-8")

    def validate_targets(self, observation: str) -> str:
        """'' when every target is valid against ASPRO2's Target type, else the validator's message."""
        start, end = observation.find("<target>"), observation.rfind("</target>")
        if start < 0:
            return "no target"
        targets = observation[start:end + len("</target>")].split("<target>")
        # ASPRO2 gives each imported target its id (the XSLT leaves it out): so do we, before checking
        body = "".join(f'<target id="t{i}">' + part for i, part in enumerate(targets) if part)
        doc = (f'<t:targets xmlns:t="urn:getstar-test" xmlns:a="{ASPRO_NS}" xmlns:tm="{TARGET_MODEL_NS}" '
               f'xmlns:xsi="{XSI_NS}">' + body + "</t:targets>")
        self._n += 1
        path = self.dir / f"targets{self._n}.xml"
        path.write_text(doc, encoding="utf-8")
        done = self._java("validate", str(self.dir / "targets.xsd"), str(path))
        return (done.stderr or "failed").strip()[-2000:] if done.returncode else ""
