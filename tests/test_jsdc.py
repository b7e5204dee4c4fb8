"""JSDC v2 (II/346) reader: the same ~20 real stars written as CDS text + ReadMe, FITS
(h/m/s parts or degrees) and VOTable (sexagesimal strings) must read back identically."""

from __future__ import annotations

import gzip
import math
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from getstar.errors import IngestError
from getstar.ingest import jsdc
from getstar.properties import BY_NAME, ORIGIN_CODE
from tests.searchcal_answers import JMDC_FITS
from tests.shared_paths import MISSING

BANDS = "BVRIJHKLMN"
ERR_BANDS = "BVJHKLMN"  # II/346 gives no error on R and I
MAS = 1.0 / 3.6e6  # degrees

# A ReadMe in II/346's byte-by-byte style.  The data writer below places every field
# from these byte ranges, so the text and the ReadMe cannot disagree.
README = """\
II/346      JSDC: JMMC Stellar Diameters Catalogue - Version 2   (Chelli+, 2016)
================================================================================
JMMC Stellar Diameters Catalogue - Version 2 (getstar test excerpt)
================================================================================
ADC_Keywords: Interferometry ; Stars, diameters ; Photometry

File Summary:
--------------------------------------------------------------------------------
 FileName      Lrecl   Records   Explanations
--------------------------------------------------------------------------------
ReadMe            80         .   This file
jsdc_v2.dat      334        20   JSDC version 2 (excerpt)
--------------------------------------------------------------------------------

Byte-by-byte Description of file: jsdc_v2.dat
--------------------------------------------------------------------------------
   Bytes Format Units   Label     Explanations
--------------------------------------------------------------------------------
   1- 26  A26   ---     Name      Star name (identifier from HIP, HD, TYC,
                                   2MASS, DM or coordinates)
  28- 29  I2    h       RAh       Right ascension (J2000)
  31- 32  I2    min     RAm       Right ascension (J2000)
  34- 41  F8.5  s       RAs       Right ascension (J2000)
      43  A1    ---     DE-       Declination sign (J2000)
  44- 45  I2    deg     DEd       Declination (J2000)
  47- 48  I2    arcmin  DEm       Declination (J2000)
  50- 56  F7.4  arcsec  DEs       Declination (J2000)
  58- 77  A20   ---     SpType    ? Spectral type
  79- 85  F7.3  mag     Bmag      ?=- Johnson B magnitude
  87- 92  F6.3  mag   e_Bmag      ?=- Error on Bmag
  94-100  F7.3  mag     Vmag      ?=- Johnson V magnitude
 102-107  F6.3  mag   e_Vmag      ?=- Error on Vmag
 109-115  F7.3  mag     Rmag      ?=- Cousins R magnitude
 117-123  F7.3  mag     Imag      ?=- Cousins I magnitude
 125-131  F7.3  mag     Jmag      ?=- 2MASS J magnitude
 133-138  F6.3  mag   e_Jmag      ?=- Error on Jmag
 140-146  F7.3  mag     Hmag      ?=- 2MASS H magnitude
 148-153  F6.3  mag   e_Hmag      ?=- Error on Hmag
 155-161  F7.3  mag     Kmag      ?=- 2MASS Ks magnitude
 163-168  F6.3  mag   e_Kmag      ?=- Error on Kmag
 170-176  F7.3  mag     Lmag      ?=- L magnitude (from WISE W1)
 178-183  F6.3  mag   e_Lmag      ?=- Error on Lmag
 185-191  F7.3  mag     Mmag      ?=- M magnitude (from WISE W2)
 193-198  F6.3  mag   e_Mmag      ?=- Error on Mmag
 200-206  F7.3  mag     Nmag      ?=- N magnitude (from WISE W3)
 208-213  F6.3  mag   e_Nmag      ?=- Error on Nmag
 215-222  F8.4  mas     LDD       Limb-darkened diameter (-1 if not computed)
 224-231  F8.4  mas   e_LDD       Error on LDD and on the UDDs (-1 if not
                                   computed)
 233-240  F8.3  ---     LDDCHI    Reduced chi2 of the LDD fit (-1 if not
                                   computed)
 242-244  I3    ---     CalFlag   ? Calibrator flag (bit field) (1)
 246-253  F8.4  mas     UDDB      B-band uniform disk diameter
 255-262  F8.4  mas     UDDV      V-band uniform disk diameter
 264-271  F8.4  mas     UDDR      R-band uniform disk diameter
 273-280  F8.4  mas     UDDI      I-band uniform disk diameter
 282-289  F8.4  mas     UDDJ      J-band uniform disk diameter
 291-298  F8.4  mas     UDDH      H-band uniform disk diameter
 300-307  F8.4  mas     UDDK      K-band uniform disk diameter
 309-316  F8.4  mas     UDDL      L-band uniform disk diameter
 318-325  F8.4  mas     UDDM      M-band uniform disk diameter
 327-334  F8.4  mas     UDDN      N-band uniform disk diameter
--------------------------------------------------------------------------------
Note (1): bit 0 is set if LDDCHI is above 5, bit 1 if the star is a known
    binary, bit 2 if the star is a known variable.
--------------------------------------------------------------------------------

================================================================================
(End)                                                                  getstar
"""

_LAYOUT_RE = re.compile(r"^\s*(\d+)(?:-\s*(\d+))?\s+([AIF])(\d+)(?:\.(\d+))?\s+\S+\s+(\S+)", re.M)
LAYOUT = [
    (m.group(6), int(m.group(1)) - 1, int(m.group(2) or m.group(1)), m.group(3), int(m.group(5) or 0))
    for m in _LAYOUT_RE.finditer(README.split("Byte-by-byte")[1])
]
LINE_LENGTH = LAYOUT[-1][2]

# Null spellings per column kind.
DIAMETERS = ["LDD", "e_LDD", "LDDCHI"] + [f"UDD{b}" for b in BANDS]
MAGS = [f"{b}mag" for b in BANDS] + [f"e_{b}mag" for b in ERR_BANDS]
# Rounding to the ReadMe precision, so that every format carries the same values.
DECIMALS = {name: dec for name, _, _, kind, dec in LAYOUT if kind == "F"}


# ----------------------------------------------------------------------------- the stars


def _finite(value: Any) -> float | None:
    f = float(value)
    return None if not math.isfinite(f) else f


def _pick_stars() -> list[dict[str, Any]]:
    """~20 real stars from the JMDC FITS, as plain records (None = null)."""
    if not JMDC_FITS.exists():
        pytest.skip(f"JMDC FITS not found: {JMDC_FITS}: {MISSING}")
    from astropy.io import fits

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(JMDC_FITS) as hdul:
            data = hdul[1].data
            seen: set[str] = set()
            picked: list[int] = []
            # Two stars just south of the equator ('-00 ...'), then the first with a diameter.
            for want in ("HD90043", "HD25457"):
                picked.append(int(np.flatnonzero(data["SIMBAD"] == want)[0]))
                seen.add(want)
            for i in range(len(data)):
                name = data["SIMBAD"][i].strip()
                if name in seen or not math.isfinite(data["LDD"][i]):
                    continue
                seen.add(name)
                picked.append(i)
                if len(picked) == 20:
                    break
            stars = []
            for i in picked:
                row = data[i]
                star: dict[str, Any] = {
                    "Name": row["SIMBAD"].strip(),
                    "RAJ2000": row["RAJ2000"].strip(),
                    "DEJ2000": row["DEJ2000"].strip(),
                    "SpType": row["SPTYPE"].strip() or None,
                    "LDD": _finite(row["LDD"]),
                    "e_LDD": _finite(row["E_LDD"]),
                    "LDDCHI": _finite(row["DIAM_CHI2"]),
                    "CalFlag": int(row["CALFLAG"]) if 0 <= row["CALFLAG"] < 1000 else None,
                }
                for b in BANDS:
                    star[f"{b}mag"] = _finite(row[b])
                    star[f"UDD{b}"] = _finite(row[f"UD_{b}"])
                for b in ERR_BANDS:
                    star[f"e_{b}mag"] = _finite(row[f"E_{b}"])
                stars.append(star)
    # Nulls of every kind (beyond the NaN L/M magnitudes JMDC already has).
    stars[2]["SpType"] = None
    stars[3]["LDD"] = stars[3]["e_LDD"] = stars[3]["LDDCHI"] = None
    for b in BANDS:
        stars[3][f"UDD{b}"] = None
    stars[4]["Vmag"] = None
    stars[5]["e_Bmag"] = None
    stars[6]["CalFlag"] = None
    stars[7]["LDDCHI"] = None
    stars[8]["UDDN"] = None
    for star in stars:
        for key, dec in DECIMALS.items():
            if star.get(key) is not None:
                star[key] = round(star[key], dec)
    return stars


@pytest.fixture(scope="module")
def stars() -> list[dict[str, Any]]:
    return _pick_stars()


def _reference_position(star: dict[str, Any]) -> tuple[float, float]:
    """Degrees from the source strings, by astropy (independent of the reader's parser)."""
    from astropy import units as u
    from astropy.coordinates import Angle

    return Angle(star["RAJ2000"], unit=u.hourangle).deg, Angle(star["DEJ2000"], unit=u.deg).deg


def _parts(star: dict[str, Any]) -> tuple[int, int, float, str, int, int, float]:
    h, m, s = star["RAJ2000"].split()
    d, dm, ds = star["DEJ2000"].split()
    return int(h), int(m), float(s), d[0], int(d[1:]), int(dm), float(ds)


def expected(star: dict[str, Any]) -> dict[str, Any]:
    """What ``jsdc.read`` must yield for a star (values only, positions checked apart)."""
    out: dict[str, Any] = {"name": star["Name"]}

    def put(key: str, value: Any) -> None:
        if value is not None:
            out[key] = value
            out[key + "_o"] = ORIGIN_CODE["II/346/jsdc_v2"]
            out[key + "_c"] = 3

    put(BY_NAME["SpType"].column, star["SpType"])
    for b in BANDS:
        col = BY_NAME[b].column
        put(col, star[f"{b}mag"])
        if star[f"{b}mag"] is not None and star.get(f"e_{b}mag") is not None:
            out[col + "_e"] = star[f"e_{b}mag"]
        put(BY_NAME[f"UD_{b}"].column, star[f"UDD{b}"])
    put(BY_NAME["LDD"].column, star["LDD"])
    if star["LDD"] is not None and star["e_LDD"] is not None:
        out[BY_NAME["LDD"].column + "_e"] = star["e_LDD"]
    put(BY_NAME["diam_chi2"].column, star["LDDCHI"])
    put(BY_NAME["CalFlag"].column, star["CalFlag"])
    return out


# ----------------------------------------------------------------------------- writers


def _cds_cell(name: str, kind: str, width: int, dec: int, value: Any) -> str:
    if value is None:
        text = "-1" if name in DIAMETERS else ("-" if name in MAGS else "")
    elif kind == "A":
        return f"{value:<{width}}"
    elif kind == "I":
        text = f"{int(value):d}"
    else:
        text = f"{value:.{dec}f}"
    assert len(text) <= width, (name, text)
    return f"{text:>{width}}"


def cds_line(star: dict[str, Any], **override: Any) -> str:
    h, m, s, sign, d, dm, ds = _parts(star)
    cells = dict(star, RAh=h, RAm=m, RAs=s, DEd=d, DEm=dm, DEs=ds, **{"DE-": sign})
    cells.update(override)
    line = [" "] * LINE_LENGTH
    for name, start, end, kind, dec in LAYOUT:
        text = cells[name] if isinstance(cells[name], str) and name in override else None
        if text is None:
            text = _cds_cell(name, kind, end - start, dec, cells[name])
        text = f"{text:>{end - start}}"
        assert len(text) == end - start, (name, text)
        line[start:end] = text
    return "".join(line).rstrip()


def write_cds(folder: Path, stars: list[dict[str, Any]], lines: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ReadMe").write_text(README)
    path = folder / "jsdc_v2.dat"
    path.write_text("\n".join(lines if lines is not None else [cds_line(s) for s in stars]) + "\n")
    return path


def _value_columns(stars: list[dict[str, Any]], masked: bool) -> dict[str, Any]:
    """Name, SpType and the numbers with FITS-style nulls (NaN, -1) or VOTable masks."""
    cols: dict[str, Any] = {
        "Name": np.array([s["Name"] for s in stars]),
        "SpType": np.array([s["SpType"] or "" for s in stars]),
    }
    for name in MAGS:
        values = np.array([np.nan if s[name] is None else s[name] for s in stars])
        if masked:  # half the nulls masked, half NaN
            mask = np.isnan(values) & (np.arange(len(stars)) % 2 == 0)
            cols[name] = np.ma.MaskedArray(values, mask=mask)
        else:
            cols[name] = values
    for name in DIAMETERS:
        cols[name] = np.array([-1.0 if s[name] is None else s[name] for s in stars])
    flags = np.array([-1 if s["CalFlag"] is None else s["CalFlag"] for s in stars], dtype=np.int32)
    cols["CalFlag"] = np.ma.MaskedArray(flags, mask=flags < 0)
    return cols


def write_fits_hms(path: Path, stars: list[dict[str, Any]]) -> Path:
    from astropy.table import Table

    parts = [_parts(s) for s in stars]
    tab = Table()
    tab["Name"] = [s["Name"] for s in stars]
    tab["RAh"] = np.array([p[0] for p in parts], dtype=np.int16)
    tab["RAm"] = np.array([p[1] for p in parts], dtype=np.int16)
    tab["RAs"] = np.array([p[2] for p in parts])
    tab["DE-"] = [p[3] for p in parts]
    tab["DEd"] = np.array([p[4] for p in parts], dtype=np.int16)
    tab["DEm"] = np.array([p[5] for p in parts], dtype=np.int16)
    tab["DEs"] = np.array([p[6] for p in parts])
    for key, col in _value_columns(stars, masked=False).items():
        if key != "Name":
            tab[key] = col
    tab.write(path, format="fits", overwrite=True)
    return path


def write_fits_degrees(
    path: Path, stars: list[dict[str, Any]], dec_override: dict[int, float] | None = None
) -> Path:
    from astropy.table import Table

    pos = [_reference_position(s) for s in stars]
    tab = Table()
    tab["Name"] = [s["Name"] for s in stars]
    tab["RAJ2000"] = np.array([p[0] for p in pos])
    tab["DEJ2000"] = np.array([p[1] for p in pos])
    for row, dec in (dec_override or {}).items():
        tab["DEJ2000"][row] = dec
    for key, col in _value_columns(stars, masked=False).items():
        if key != "Name":
            tab[key] = col
    tab.write(path, format="fits", overwrite=True)
    return path


def write_votable(path: Path, stars: list[dict[str, Any]]) -> Path:
    from astropy.table import Table

    tab = Table(masked=True)
    tab["Name"] = [s["Name"] for s in stars]
    tab["RAJ2000"] = [s["RAJ2000"] for s in stars]
    tab["DEJ2000"] = [s["DEJ2000"] for s in stars]
    for key, col in _value_columns(stars, masked=True).items():
        if key != "Name":
            tab[key] = col
    tab["SpType"].mask = tab["SpType"] == ""
    tab.write(path, format="votable", overwrite=True)
    return path


# ----------------------------------------------------------------------------- checks


def check(result: list[dict[str, Any]], stars: list[dict[str, Any]]) -> None:
    assert len(result) == len(stars)
    for got, star in zip(result, stars, strict=True):
        ra, dec = _reference_position(star)
        assert abs((got["ra"] - ra + 180) % 360 - 180) * math.cos(math.radians(dec)) < MAS, star["Name"]
        assert abs(got["dec"] - dec) < MAS, star["Name"]
        assert got["ra_o"] == got["dec_o"] == ORIGIN_CODE["II/346/jsdc_v2"]
        values = {k: v for k, v in got.items() if k not in ("ra", "dec", "ra_o", "ra_c", "dec_o", "dec_c")}
        want = expected(star)
        assert set(values) == set(want), (star["Name"], set(values) ^ set(want))
        for key, value in want.items():
            if isinstance(value, float):
                assert values[key] == pytest.approx(value, rel=1e-12, abs=1e-12), (star["Name"], key)
            else:
                assert values[key] == value, (star["Name"], key)
                assert type(values[key]) is type(value), (star["Name"], key)


@pytest.fixture(scope="module")
def four_formats(stars: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("jsdc")
    return {
        "cds": write_cds(base / "cds", stars),
        "fits_hms": write_fits_hms(base / "hms.fits", stars),
        "fits_deg": write_fits_degrees(base / "deg.fits", stars),
        "votable": write_votable(base / "jsdc.vot", stars),
    }


@pytest.mark.parametrize("fmt", ["cds", "fits_hms", "fits_deg", "votable"])
def test_reads_each_format(fmt: str, four_formats: dict[str, Path], stars: list[dict[str, Any]]) -> None:
    check(list(jsdc.read(four_formats[fmt])), stars)


def test_all_formats_agree(four_formats: dict[str, Path]) -> None:
    results = {fmt: list(jsdc.read(path)) for fmt, path in four_formats.items()}
    reference = results.pop("cds")
    for fmt, result in results.items():
        for a, b in zip(reference, result, strict=True):
            assert a.keys() == b.keys(), fmt
            for key in a:
                if key in ("ra", "dec"):
                    assert abs(a[key] - b[key]) < MAS, (fmt, a["name"], key)
                else:
                    assert a[key] == pytest.approx(b[key]), (fmt, a["name"], key)


def test_nulls_and_metadata(four_formats: dict[str, Path], stars: list[dict[str, Any]]) -> None:
    got = list(jsdc.read(four_formats["cds"]))
    ldd, ud_b = BY_NAME["LDD"].column, BY_NAME["UD_B"].column
    assert ldd not in got[3] and ldd + "_e" not in got[3] and ud_b not in got[3] and ud_b + "_o" not in got[3]
    assert BY_NAME["SpType"].column not in got[2]
    assert BY_NAME["V"].column not in got[4] and BY_NAME["V"].column + "_e" not in got[4]
    assert BY_NAME["B"].column in got[5] and BY_NAME["B"].column + "_e" not in got[5]
    assert BY_NAME["CalFlag"].column not in got[6]
    assert BY_NAME["diam_chi2"].column not in got[7]
    assert BY_NAME["UD_N"].column not in got[8] and BY_NAME["UD_M"].column in got[8]
    star = got[0]
    assert star[ldd + "_c"] == 3 and star[ud_b + "_c"] == 3
    assert star[ldd + "_o"] == ORIGIN_CODE["II/346/jsdc_v2"]
    assert isinstance(star[BY_NAME["CalFlag"].column], int)
    assert BY_NAME["R"].column + "_e" not in star  # no error on R in II/346
    # The two '-00' stars are south of the equator.
    assert stars[0]["DEJ2000"].startswith("-00") and got[0]["dec"] < 0 and got[1]["dec"] < 0


def test_gzip_variants(four_formats: dict[str, Path], stars: list[dict[str, Any]], tmp_path: Path) -> None:
    dat_gz = tmp_path / "jsdc_v2.dat.gz"
    with open(four_formats["cds"], "rb") as src, gzip.open(dat_gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    check(list(jsdc.read(dat_gz, readme=four_formats["cds"].parent / "ReadMe")), stars)
    fits_gz = tmp_path / "jsdc_v2.fits.gz"
    with open(four_formats["fits_hms"], "rb") as src, gzip.open(fits_gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    check(list(jsdc.read(fits_gz)), stars)


def test_readme_default_and_explicit(
    four_formats: dict[str, Path], stars: list[dict[str, Any]], tmp_path: Path
) -> None:
    data = tmp_path / "jsdc_v2.dat"
    shutil.copy(four_formats["cds"], data)
    with pytest.raises(IngestError, match="ReadMe not found"):
        jsdc.read(data)
    other = tmp_path / "docs" / "II_346_ReadMe.txt"
    other.parent.mkdir()
    other.write_text(README)
    check(list(jsdc.read(data, readme=other)), stars)


@pytest.mark.parametrize(
    ("text", "hours", "degrees"),
    [
        ("06 45 08.9173", True, 101.28715541666667),
        ("-16 42 58.017", False, -16.71611583333333),
        ("-00 30 00", False, -0.5),
        ("+00 30 00", False, 0.5),
        ("-00:00:36", False, -0.01),
        ("00 00 00.0", True, 0.0),
        ("23 59 59.999", True, 359.99999583333334),
        ("-00 30", False, -0.5),
        ("101.287", True, 101.287),
    ],
)
def test_sexagesimal(text: str, hours: bool, degrees: float) -> None:
    assert jsdc._sexagesimal(text, hours) == pytest.approx(degrees, abs=1e-12)
    assert math.copysign(1.0, jsdc._sexagesimal(text, hours)) == math.copysign(1.0, degrees)


@pytest.mark.parametrize("text", ["", "12 xx 00", "12 60 00", "1 2 3 4", "-", "12 30.5 10"])
def test_sexagesimal_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        jsdc._sexagesimal(text, True)


def test_minus_zero_from_parts(stars: list[dict[str, Any]], tmp_path: Path) -> None:
    """DE- '-' with DEd 0 is south, in text and in FITS."""
    got = list(jsdc.read(write_fits_hms(tmp_path / "z.fits", stars[:2])))
    assert got[0]["dec"] == pytest.approx(-(54 / 60 + 8.077161515 / 3600), abs=MAS)
    assert got[1]["dec"] < 0


# ----------------------------------------------------------------------------- bad files


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="file not found") as err:
        jsdc.read(tmp_path / "jsdc_v2.fits")
    assert err.value.path.endswith("jsdc_v2.fits")


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "jsdc_v2.csv"
    path.write_text("Name\n")
    with pytest.raises(IngestError, match="unknown format"):
        jsdc.read(path)


@pytest.mark.parametrize("keep", [1000, 2880 + 100, -3000, -100])
def test_truncated_fits(keep: int, four_formats: dict[str, Path], tmp_path: Path) -> None:
    data = four_formats["fits_hms"].read_bytes()
    path = tmp_path / "truncated.fits"
    path.write_bytes(data[:keep])
    with pytest.raises(IngestError) as err:
        list(jsdc.read(path))
    assert err.value.row is None
    assert "truncated.fits" in str(err.value)


def test_not_a_fits_file(tmp_path: Path) -> None:
    path = tmp_path / "jsdc_v2.fits"
    path.write_text("this is not FITS\n" * 200)
    with pytest.raises(IngestError, match="unreadable"):
        jsdc.read(path)


def test_garbage_votable(tmp_path: Path) -> None:
    path = tmp_path / "jsdc.vot"
    path.write_text("<VOTABLE><RESOURCE><TABLE><FIELD name='Name'")
    with pytest.raises(IngestError, match="unreadable"):
        jsdc.read(path)


def test_cds_letter_in_vmag(stars: list[dict[str, Any]], tmp_path: Path) -> None:
    lines = [cds_line(s) for s in stars]
    lines[4] = cds_line(stars[4], Vmag="  4.2x0")
    path = write_cds(tmp_path, stars, lines)
    with pytest.raises(IngestError, match=r"row 5: Vmag: not a number: '4\.2x0'") as err:
        jsdc.read(path)
    assert err.value.row == 5


def test_missing_name_column(stars: list[dict[str, Any]], tmp_path: Path) -> None:
    from astropy.table import Table

    path = write_fits_degrees(tmp_path / "a.fits", stars)
    tab = Table.read(path)
    tab.remove_column("Name")
    tab.write(path, overwrite=True)
    with pytest.raises(IngestError, match="missing column Name"):
        jsdc.read(path)


def test_missing_position_columns(stars: list[dict[str, Any]], tmp_path: Path) -> None:
    from astropy.table import Table

    path = write_fits_degrees(tmp_path / "a.fits", stars)
    tab = Table.read(path)
    tab.remove_column("DEJ2000")
    tab.write(path, overwrite=True)
    with pytest.raises(IngestError, match="missing position column DEJ2000"):
        jsdc.read(path)


def test_dec_95_degrees(stars: list[dict[str, Any]], tmp_path: Path) -> None:
    path = write_fits_degrees(tmp_path / "a.fits", stars, dec_override={6: 95.0})
    with pytest.raises(IngestError, match=r"row 7: position out of range: Dec = 95") as err:
        jsdc.read(path)
    assert err.value.row == 7


def test_dec_95_in_parts(stars: list[dict[str, Any]], tmp_path: Path) -> None:
    lines = [cds_line(s) for s in stars]
    lines[2] = cds_line(stars[2], DEd="95")
    with pytest.raises(IngestError, match=r"row 3: position out of range: DEd = 95"):
        jsdc.read(write_cds(tmp_path, stars, lines))


def test_bad_sexagesimal_string(stars: list[dict[str, Any]], tmp_path: Path) -> None:
    from astropy.table import Table

    path = write_votable(tmp_path / "a.vot", stars)
    tab = Table.read(path)
    tab["RAJ2000"][9] = "25 61 00"
    tab.write(path, format="votable", overwrite=True)
    with pytest.raises(IngestError, match=r"row 10: RAJ2000 is not an angle"):
        jsdc.read(path)


def test_nan_position(stars: list[dict[str, Any]], tmp_path: Path) -> None:
    path = write_fits_degrees(tmp_path / "a.fits", stars, dec_override={0: float("nan")})
    with pytest.raises(IngestError, match=r"row 1: position missing"):
        jsdc.read(path)


# ----------------------------------------------------------------------------- scale

N_JSDC = 465_877

_SCALE_SCRIPT = """
import resource, sys, time
from pathlib import Path
from getstar.ingest import jsdc
t0 = time.perf_counter()
n = keys = 0
for star in jsdc.read(Path(sys.argv[1])):
    n += 1
    keys += len(star)
dt = time.perf_counter() - t0
print(n, keys, round(dt, 2), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def write_big_fits(path: Path, n: int) -> None:
    from astropy.io import fits

    rng = np.random.default_rng(346)
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    ra_h = ra / 15
    cols = [
        fits.Column("Name", "22A", array=np.char.add("HD ", np.arange(n).astype("U8"))),
        fits.Column("RAh", "I", array=np.floor(ra_h).astype(np.int16)),
        fits.Column("RAm", "I", array=np.floor(ra_h % 1 * 60).astype(np.int16)),
        fits.Column("RAs", "D", array=(ra_h * 3600) % 60),
        fits.Column("DE-", "1A", array=np.where(dec < 0, "-", "+")),
        fits.Column("DEd", "I", array=np.floor(np.abs(dec)).astype(np.int16)),
        fits.Column("DEm", "I", array=np.floor(np.abs(dec) % 1 * 60).astype(np.int16)),
        fits.Column("DEs", "D", array=(np.abs(dec) * 3600) % 60),
        fits.Column("SpType", "20A", array=rng.choice(["K0III", "G2V", "A0V", ""], n)),
    ]
    for b in BANDS:
        mag = rng.uniform(-1, 15, n)
        mag[rng.random(n) < 0.1] = np.nan
        cols.append(fits.Column(f"{b}mag", "E", array=mag.astype(np.float32)))
        if b in ERR_BANDS:
            cols.append(fits.Column(f"e_{b}mag", "E", array=rng.uniform(0, 0.3, n).astype(np.float32)))
    ldd = rng.uniform(0.01, 20, n)
    ldd[rng.random(n) < 0.05] = -1
    cols += [
        fits.Column("LDD", "E", array=ldd.astype(np.float32)),
        fits.Column("e_LDD", "E", array=np.where(ldd < 0, -1, ldd * 0.1).astype(np.float32)),
        fits.Column("LDDCHI", "E", array=rng.uniform(0, 10, n).astype(np.float32)),
        fits.Column("CalFlag", "I", array=rng.integers(0, 8, n).astype(np.int16)),
    ]
    for b in BANDS:
        cols.append(fits.Column(f"UDD{b}", "E", array=np.where(ldd < 0, -1, ldd * 0.95).astype(np.float32)))
    fits.BinTableHDU.from_columns(cols).writeto(path, overwrite=True)


@pytest.mark.slow
def test_full_size_fits(tmp_path: Path) -> None:
    path = tmp_path / "jsdc_v2.fits"
    t0 = time.perf_counter()
    write_big_fits(path, N_JSDC)
    written = time.perf_counter() - t0
    out = subprocess.run(
        [sys.executable, "-c", _SCALE_SCRIPT, str(path)],
        capture_output=True, text=True, timeout=300, check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.returncode == 0, out.stderr
    n, keys, seconds, rss_mb = out.stdout.split()
    assert int(n) == N_JSDC
    print(
        f"\nJSDC scale: wrote {N_JSDC} rows ({path.stat().st_size / 1e6:.0f} MB) in {written:.1f} s; "
        f"read {n} stars ({keys} keys) in {seconds} s, peak RSS {rss_mb} MB"
    )
