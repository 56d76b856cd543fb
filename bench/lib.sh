# Helpers shared by bench/scan.sh and bench/email.sh; sourced, not run.
# They read the caller's globals: PROBLEMS, BENCH_PG, PG_DB_PREFIX, PG_DATABASES, WORK, REPO,
# BENCH_BIN, BASE_URL, BENCH_API_KEY, BATCH_SIZE and KEEP; choose_backends sets BACKENDS.
# shellcheck shell=bash

log() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
problem() {
  PROBLEMS+=("$*")
  log "PROBLEM: $*"
}

# Floating-point arithmetic and formatting: calc '%.1f' 'a / b'
calc() { awk "BEGIN { printf \"$1\", ($2) }"; }

# The script's argument (sqlite, postgres or both) -> the BACKENDS array.
# shellcheck disable=SC2034 # (BACKENDS is the calling script's)
choose_backends() {
  case $1 in
    sqlite | postgres) BACKENDS=("$1") ;;
    both) BACKENDS=(sqlite postgres) ;;
    *) die "usage: $2 [sqlite|postgres|both]" ;;
  esac
}

# At exit: drops the benchmark's databases and removes its work folder, unless KEEP=1.
discard_work() {
  if [[ $KEEP != 1 ]]; then
    local db
    for db in "${PG_DATABASES[@]}"; do
      psql "$BENCH_PG/postgres" -Atq -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
    done
    [[ -n $WORK ]] && rm -rf "$WORK"
  else
    log "kept: $WORK ${PG_DATABASES[*]}"
  fi
}

# ---------------------------------------------------------------------------------------------
# Databases: one per (backend, name), a file in WORK or a database on BENCH_PG

pg_admin() {
  # (client_min_messages: no NOTICE for DROP DATABASE IF EXISTS of a database that is not there)
  PGOPTIONS='-c client_min_messages=warning' \
    psql "$BENCH_PG/postgres" -v ON_ERROR_STOP=1 -Atq -c "$1" >/dev/null
}

db_url() { # backend name -> DATABASE_URL
  case $1 in
    sqlite) echo "$WORK/$2.db" ;;
    postgres) echo "$BENCH_PG/${PG_DB_PREFIX}_$2" ;;
  esac
}

# A new, empty database (the first `encore` command migrates it).
create_empty_database() {
  local backend=$1 name=$2
  case $backend in
    sqlite) rm -f "$WORK/$name.db" "$WORK/$name.db-wal" "$WORK/$name.db-shm" ;;
    postgres)
      pg_admin "DROP DATABASE IF EXISTS ${PG_DB_PREFIX}_$name"
      pg_admin "CREATE DATABASE ${PG_DB_PREFIX}_$name"
      PG_DATABASES+=("${PG_DB_PREFIX}_$name")
      ;;
  esac
}

# Runs a query; prints rows as a|b|c. Reads may run while a server or worker writes: SQLite
# waits up to 5 s for a lock rather than failing at once.
sql() {
  local backend=$1 name=$2 query=$3
  case $backend in
    sqlite) sqlite3 -batch -noheader -cmd '.timeout 5000' "$(db_url sqlite "$name")" "$query" ;;
    postgres)
      PGCONNECT_TIMEOUT=10 PGOPTIONS='-c statement_timeout=120000' \
        psql "$(db_url postgres "$name")" -v ON_ERROR_STOP=1 -Atq -c "$query"
      ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# CPU, from /proc

# utime + stime of one process (all its threads), in clock ticks.
process_cpu_ticks() {
  local stat rest
  stat=$(<"/proc/$1/stat") || return 1
  rest=${stat##*) } # the command name may contain spaces; fields resume after ") "
  # shellcheck disable=SC2086
  set -- $rest # $1 is field 3 (state), so utime (14) is $12 and stime (15) is $13
  echo $((${12} + ${13}))
}

# All processes named postgres: the backends, walwriter, checkpointer... (the whole server, so
# anything else using it at the same time is counted too).
# The whole machine's busy CPU (user, nice, system, irq, softirq, steal over every core), in
# clock ticks: what a phase cost beyond the server is mostly the load generator's.
machine_busy_ticks() {
  local user nice system irq softirq steal
  # cpu user nice system idle iowait irq softirq steal …
  read -r _ user nice system _ _ irq softirq steal _ </proc/stat
  echo $((user + nice + system + irq + softirq + steal))
}

postgres_cpu_ticks() {
  local total=0 dir ticks
  for dir in /proc/[0-9]*; do
    [[ $(cat "$dir/comm" 2>/dev/null) == postgres ]] || continue
    ticks=$(process_cpu_ticks "${dir#/proc/}" 2>/dev/null) || continue
    total=$((total + ticks))
  done
  echo "$total"
}

# ---------------------------------------------------------------------------------------------
# Issuing through the API

api_post() { # path body-or-@file response-file -> prints "status seconds"
  curl -sS --max-time 120 -o "$3" -w '%{http_code} %{time_total}' \
    -H "Authorization: Bearer $BENCH_API_KEY" -H 'Content-Type: application/json' \
    --data-binary "$2" "$BASE_URL$1"
}

json_id() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$1"; }

# dir count: one JSON body per BATCH_SIZE tickets, made before the clock starts.
write_bulk_bodies() {
  python3 - "$1" "$2" "$BATCH_SIZE" <<'PY'
import json, sys
out, total, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for batch, start in enumerate(range(0, total, size)):
    tickets = [{"holder_name": f"Bench Holder {n}", "holder_email": f"a{n}@example.org",
                "price_minor": 4500, "currency": "EUR"}
               for n in range(start + 1, min(start + size, total) + 1)]
    with open(f"{out}/bulk-{batch:03d}.json", "w") as f:
        json.dump({"tickets": tickets}, f)
PY
}

# ---------------------------------------------------------------------------------------------
# Report

# Which sources the binary is from, when it is this checkout's own build.
describe_source() {
  [[ -z ${BENCH_BIN:-} ]] || return 0
  local dirty=""
  [[ -z $(git -C "$REPO" status --porcelain -- src migrations templates Cargo.toml Cargo.lock 2>/dev/null) ]] ||
    dirty=" plus uncommitted changes"
  echo " from commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$dirty"
}
