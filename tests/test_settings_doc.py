"""Settings are declared once: ``getstar/config.py`` is the only reader of ``GETSTAR_*`` variables,
and the README's configuration table names exactly the variables it reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIABLE = re.compile(r"GETSTAR_[A-Z0-9_]*[A-Z0-9]")
#: Variables of the test fixtures and of deploy scripts, not of the service.
NOT_SETTINGS = {"GETSTAR_TEST_SNAPSHOT_DSN"}
#: A read of the environment (a write, ``os.environ["GETSTAR_X"] = …``, hands a value to workers).
READ = re.compile(r"""(environ\.get|getenv)\(\s*['"]GETSTAR_|environ\[['"]GETSTAR_\w+['"]\](?!\s*=)""")


def read_by_config() -> set[str]:
    return set(re.findall(r'"(GETSTAR_[A-Z0-9_]+)"', (ROOT / "getstar" / "config.py").read_text()))


def readme_table() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration (environment)", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `GETSTAR_")]
    return {name for row in rows for name in VARIABLE.findall(row.split("|")[1])}


def test_only_config_reads_the_environment_for_settings() -> None:
    readers = []
    for folder in ("getstar", "cache"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "config.py" and path.parent.name == "getstar":
                continue
            for line in path.read_text().splitlines():
                if READ.search(line):
                    readers.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert readers == []


def test_readme_documents_exactly_the_settings_read() -> None:
    read = read_by_config() - NOT_SETTINGS
    documented = readme_table()
    assert sorted(read - documented) == [], "read by getstar/config.py but not in the README's table"
    assert sorted(documented - read) == [], "in the README's table but never read"
    assert len(read) > 60  # the check parses what it should
