"""Packaging facts a release depends on: licences, the client's Python floor, package data,
dependencies that are used, and a top-level ``cache`` package nothing else can shadow."""

from __future__ import annotations

import ast
import fnmatch
import importlib.metadata
import importlib.util
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "clients" / "python"

#: Standard-library names that appeared in Python 3.11 or later (module, attribute).
NEWER_THAN_310 = {("datetime", "UTC"), ("typing", "Self"), ("typing", "Never"), ("typing", "LiteralString"),
                  ("typing", "assert_never"), ("typing", "reveal_type"), ("enum", "StrEnum"),
                  ("asyncio", "TaskGroup"), ("asyncio", "timeout"), ("builtins", "ExceptionGroup")}
NEWER_MODULES = {"tomllib", "wsgiref.types"}


def _pyproject(path: Path) -> dict:
    return tomllib.loads((path / "pyproject.toml").read_text())


@pytest.mark.parametrize("where", [ROOT, CLIENT], ids=["service", "client"])
def test_licence_file_is_the_gpl_the_metadata_names(where: Path) -> None:
    project = _pyproject(where)["project"]
    assert project["license"] == "GPL-3.0-or-later"
    assert project["license-files"] == ["LICENSE"]
    text = (where / "LICENSE").read_text()
    assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 3, 29 June 2007" in text


def _client_sources() -> list[Path]:
    return sorted((CLIENT / "getstar_client").rglob("*.py"))


def test_client_declares_python_310_and_uses_nothing_newer() -> None:
    assert _pyproject(CLIENT)["project"]["requires-python"] == ">=3.10"
    found = []
    for path in _client_sources():
        tree = ast.parse(path.read_text(), feature_version=(3, 10))  # 3.11+ syntax fails here
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found += [f"{path.name}: from {node.module} import {a.name}" for a in node.names
                          if (node.module, a.name) in NEWER_THAN_310 or node.module in NEWER_MODULES]
            elif isinstance(node, ast.Import):
                found += [f"{path.name}: import {a.name}" for a in node.names if a.name in NEWER_MODULES]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if (node.value.id, node.attr) in NEWER_THAN_310:
                    found.append(f"{path.name}: {node.value.id}.{node.attr}")
            elif isinstance(node, ast.Name) and ("builtins", node.id) in NEWER_THAN_310:
                found.append(f"{path.name}: {node.id}")
    assert found == []


def test_the_floor_check_catches_a_newer_name(tmp_path: Path) -> None:
    """The check above is not vacuous: the 3.11 spelling it replaced is caught."""
    tree = ast.parse("from datetime import UTC\nimport datetime\nx = datetime.UTC\n")
    names = [(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    attrs = [(n.value.id, n.attr) for n in ast.walk(tree)
             if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)]
    assert set(names) & NEWER_THAN_310 and set(attrs) & NEWER_THAN_310


def test_every_data_file_of_the_package_is_installed() -> None:
    """A non-Python file under getstar/ that no package-data pattern names would be missing from
    a wheel (the editable install used in development hides that)."""
    setup = _pyproject(ROOT)["tool"]["setuptools"]["package-data"]
    tracked = subprocess.run(["git", "ls-files", "getstar"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    missing = []
    for name in tracked:
        if name.endswith(".py"):
            continue
        parts = Path(name).parts
        covered = False
        for depth in range(1, len(parts)):
            package = ".".join(parts[:depth])
            rest = "/".join(parts[depth:])
            if any(fnmatch.fnmatch(rest, pat) for pat in setup.get(package, [])):
                covered = True
        if not covered:
            missing.append(name)
    assert missing == []
    for package, patterns in setup.items():  # and no pattern names a folder that does not exist
        base = ROOT.joinpath(*package.split("."))
        assert all(list(base.glob(pat)) for pat in patterns), package


def test_declared_dependencies_are_imported() -> None:
    """Every runtime dependency is used by the service (an unused one is a cost for every install)."""
    declared = {d.split(">")[0].split("[")[0].split("=")[0].strip().lower().replace("_", "-")
                for d in _pyproject(ROOT)["project"]["dependencies"]}
    provides = importlib.metadata.packages_distributions()
    sources = "\n".join(p.read_text() for folder in ("getstar", "cache") for p in (ROOT / folder).rglob("*.py"))
    imported = {m.group(1) for m in __import__("re").finditer(r"^\s*(?:from|import)\s+(\w+)", sources, flags=8)}
    used = {dist.lower().replace("_", "-") for module in imported for dist in provides.get(module, [])}
    used |= {"uvicorn", "brotli"}  # uvicorn[standard] extras and brotli are loaded by name (server, codings)
    assert declared - used == set()


def test_the_cache_package_is_ours_and_alone() -> None:
    """``cache`` is a generic top-level name: the one imported is this project's folder, and no
    other installed distribution ships a module of that name."""
    spec = importlib.util.find_spec("cache")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).resolve() == ROOT / "cache" / "__init__.py"
    assert set(importlib.metadata.packages_distributions().get("cache", ["getstar"])) == {"getstar"}
