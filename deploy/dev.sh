#!/usr/bin/env bash
# getstar developer entry point: installs what is missing, then runs the service or the tests.
#   bash deploy/dev.sh run    # install, then serve on the embedded default (http://127.0.0.1:8000)
#   bash deploy/dev.sh test   # install (with test tools), then run the test suite
#   bash deploy/dev.sh lint   # install the test tools, then ruff and mypy (CI runs it before the tests)
#   bash deploy/dev.sh tap    # install GAVO DaCHS + pgSphere, set TAP up on the snapshot, serve it (:8080/tap)
# Debian/Ubuntu: apt-get only installs packages that are missing; Python packages go in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
ACTION="${1:-run}"; shift || true

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

pg_major() {
  # the newest PostgreSQL server Debian offers here (bookworm: 15)
  local v
  v=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sed -E 's#.*/([0-9]+)/bin#\1#' | sort -n | tail -1)
  if [ -z "$v" ]; then
    v=$(apt-cache search --names-only '^postgresql-[0-9]+$' 2>/dev/null | sed -E 's/^postgresql-([0-9]+) .*/\1/' | sort -n | tail -1)
  fi
  echo "${v:-15}"
}

need=()
want() { dpkg -s "$1" >/dev/null 2>&1 || need+=("$1"); }

apt_updated=0
apt_update() { if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi; }

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then apt_update; fi
PG=$(pg_major)
want "postgresql-$PG"; want "postgresql-$PG-q3c"; want postgresql-contrib
# Debian's Python: started by root, `getstar serve` serves as an unprivileged user (GETSTAR_RUN_AS,
# nobody), who must be able to read the interpreter (a Python under /root could not be)
PY=/usr/bin/python3
"$PY" -c 'import venv, ensurepip' 2>/dev/null || { want python3; want python3-venv; }
# Stellarium's star names and star catalogues: from Debian, unless the project's shared data has them
SHARED="${GETSTAR_SHARED_DATA:-../shared/data}"
if { [ ! -f /usr/share/stellarium/stars/default/cross-id.dat ] || [ ! -f /usr/share/stellarium/stars/default/stars_0_0v0_8.cat ]; } \
   && { [ ! -f "$SHARED/stellarium/cross-id.dat" ] || [ ! -f "$SHARED/stellarium/stars_0_0v0_8.cat" ]; }; then
  want stellarium-data
fi
# KStars' star list (V, B-V, spectral types): likewise
if [ ! -f /usr/share/kstars/stars.dat ] && [ ! -f "$SHARED/kstars/stars.dat" ]; then
  want kstars-data
fi
want_dachs=0
if [ "$ACTION" = "test" ] || [ "$ACTION" = "tap" ]; then
  # TAP over the snapshot (getstar tap, and the tap_server tests' SIMBAD stand-in): pgSphere in the
  # database server, and GAVO DaCHS, installed below
  want "postgresql-$PG-pgsphere"
  if [ "$(dpkg-query -W -f='${Status}' gavodachs2-server 2>/dev/null)" != "install ok installed" ]; then
    want_dachs=1
  fi
fi
if [ "$ACTION" = "test" ]; then
  want redis-server   # cache tests
  want wrk            # benchmarks' load generator
  want chromium; want chromium-driver   # the web page, end to end in headless Chromium
  want stilts         # votlint on the Simple Cone Search answers, taplint on the TAP service
  command -v javac >/dev/null || want default-jdk-headless   # ASPRO2's own XSLT and schema, run by the JDK
fi
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  apt_update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ "$want_dachs" = 1 ]; then
  # gavodachs2-server's post-install creates its database in the system PostgreSQL cluster, so
  # that cluster must run meanwhile (containers start no services); getstar and the tests run
  # their own. (It also creates the 'gavo' user DaCHS serves as when started as root.)
  echo "installing Debian package: gavodachs2-server"
  apt_update
  started=""
  if [ "$(pg_lsclusters -h 2>/dev/null | awk -v v="$PG" '$1 == v && $2 == "main" {print $4}')" = "down" ]; then
    $SUDO pg_ctlcluster "$PG" main start && started=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends gavodachs2-server >/dev/null \
    || DEBIAN_FRONTEND=noninteractive $SUDO dpkg --configure -a
  if [ -n "$started" ]; then $SUDO pg_ctlcluster "$PG" main stop; fi
fi

if [ -x .venv/bin/python ] && [ "$(readlink -f .venv/bin/python)" != "$(readlink -f "$PY")" ]; then
  rm -rf .venv   # made with another Python: make it again with Debian's
fi
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
EXTRAS=plain
if [ "$ACTION" = "test" ] || [ "$ACTION" = "lint" ]; then EXTRAS=test; fi
stamp=.venv/.installed-$(cat pyproject.toml clients/python/pyproject.toml | sha256sum | cut -c1-16)-$EXTRAS
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  if [ "$EXTRAS" = test ]; then .venv/bin/pip install -q -e '.[test]'; else .venv/bin/pip install -q -e .; fi
  .venv/bin/pip install -q -e clients/python   # the Python client: `getstar resolve` and the tests use it
  touch "$stamp"
fi

case "$ACTION" in
  run)  exec .venv/bin/getstar serve "$@" ;;
  test) exec .venv/bin/python -m pytest "$@" ;;
  lint) .venv/bin/ruff check getstar cache clients tests bench && exec .venv/bin/mypy getstar cache clients/python/getstar_client ;;
  tap)  .venv/bin/getstar tap init && exec .venv/bin/getstar tap serve "$@" ;;
  install) echo "installed" ;;
  *) echo "usage: $0 run|test|lint|tap|install" >&2; exit 2 ;;
esac
