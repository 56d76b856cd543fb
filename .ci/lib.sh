# Shared by .ci/test and .ci/run (sourced, not run): make sure what the build and the tests need
# is on this machine, installing it with apt-get (as root, or through sudo) when it is absent.
# shellcheck shell=bash

PG_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

log() { printf '\n==> %s\n' "$*"; }

die() {
  printf 'FATAL: %s\n' "$*" >&2
  exit 1
}

apt_install() {
  # Run apt-get update once, then install what is missing.
  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 ||
      die "$* must be installed, which needs root: run this as root, or install them (apt-get install $*)"
    as_root=(sudo)
  fi
  if [ -z "${APT_UPDATED:-}" ]; then "${as_root[@]}" apt-get update -qq; APT_UPDATED=1; fi
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

ensure_build_dependencies() {
  # diesel's PostgreSQL backend links libpq; SQLite is bundled.
  local missing=()
  for pkg in libpq-dev pkg-config; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then log "installing ${missing[*]}"; apt_install "${missing[@]}"; fi
}

ensure_chromium() {
  # The browser tests drive Debian's headless Chromium through chromedriver.
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then return 0; fi
  log "installing chromium and chromium-driver"
  apt_install chromium chromium-driver
}

pg_reachable() { psql "$PG_URL" -tAc 'SELECT 1' >/dev/null 2>&1; }

# A PostgreSQL URL fit for a log: its password, if any, blanked.
redacted() { printf '%s' "$1" | sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#'; }

ensure_postgres() {
  # Reachable at $PG_URL, or, when TEST_POSTGRES_URL is not set, the local server on
  # 127.0.0.1:5432 started (installed first if need be). Sets PG_URL to the URL that answers;
  # exits non-zero when none does. A server named by TEST_POSTGRES_URL is never touched.
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
  pg_reachable && return 0
  [ -z "${TEST_POSTGRES_URL:-}" ] ||
    die "PostgreSQL is required by the test suite and cannot be reached at $(redacted "$PG_URL") (TEST_POSTGRES_URL)"
  log "PostgreSQL is not reachable at $PG_URL: starting it"
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
  fi
  local version
  version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] || die "no PostgreSQL cluster under /etc/postgresql to start"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 -q && break
    sleep 1
  done
  if ! pg_reachable; then
    # A fresh Debian install asks for a password over TCP: give the postgres role one.
    su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" || true
    PG_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
  fi
  pg_reachable ||
    die "PostgreSQL is required by the test suite and cannot be reached at $(redacted "$PG_URL") (set TEST_POSTGRES_URL to a server that answers)"
}
