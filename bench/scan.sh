#!/usr/bin/env bash
# Door-scan benchmark for Encore, following ../shared/bench/PROTOCOL.md so the figures compare
# with pretix's. See bench/README.md for how to read the output.
#
#   bench/scan.sh [sqlite|postgres|both]          (default: both)
#
# Environment (all optional):
#   CONCURRENCY="1 8 32 64"   wrk connections, one fresh database copy per level
#   DURATION=20s              length of the accepted, duplicate and invalid phases
#   WARMUP=10s                warm-up with invalid tokens after the server starts
#   TICKETS=20000             tickets issued (and the performance's capacity)
#   CODES=static              static: the signed tokens; rotating: the event's codes rotate
#                             (rotation_seconds=30) and the accepted and duplicate phases scan
#                             rotating codes (RC1:…), computed from the offline bundle's keys just
#                             before each phase (a code stays live 30 to 60 s: longer than a phase)
#   BENCH_PORT=18181          the server listens on 127.0.0.1:BENCH_PORT
#   BENCH_PG=postgres://postgres@127.0.0.1:5432    PostgreSQL server (trust auth)
#   ENCORE_WORKERS, ENCORE_DB_POOL_SIZE           passed through to the server
#   ENCORE_METRICS_ENABLED=false                  the same binary without metrics (default on)
#   KEEP=1                    keep the databases (SQLite files and PostgreSQL copies)
#   BENCH_BIN=path            benchmark this binary as it is (default: target/release/encore,
#                             rebuilt with `cargo build --release` when older than the sources)
#
# Everything runs on 127.0.0.1; every process started here is stopped by its PID on exit.
set -Eeuo pipefail

BACKENDS_ARG=${1:-both}
CONCURRENCY=${CONCURRENCY:-"1 8 32 64"}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-10s}
TICKETS=${TICKETS:-20000}
CODES=${CODES:-static}
ROTATION_SECONDS=30
BATCH_SIZE=1000 # the bulk endpoint's maximum
PORT=${BENCH_PORT:-18181}
BENCH_PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
KEEP=${KEEP:-0}
WRK_TIMEOUT=10s
WRK_MAX_THREADS=2
PG_DB_PREFIX=encore_bench

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
BENCH_DIR=$REPO/bench
BIN=${BENCH_BIN:-$REPO/target/release/encore}
BASE_URL=http://127.0.0.1:$PORT
CLK_TCK=$(getconf CLK_TCK)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT_DIR=$BENCH_DIR/out
RUN_DIR=$OUT_DIR/scan-$STAMP # raw wrk output and server logs
REPORT=$OUT_DIR/scan-$STAMP.md
WORK=""        # databases and token files; removed on exit unless KEEP=1
BENCH_API_KEY="" # the key api_post sends

SERVER_PID=""
WRK_PID=""
PG_DATABASES=() # created here, dropped on exit unless KEEP=1
PROBLEMS=()
CHECKS=()
DETAIL_ROWS=()
declare -A ISSUANCE=() # backend -> issuance summary line
declare -A API_KEY=()  # backend -> admin key (the database copies carry it)
declare -A PERFORMANCE=() # backend -> the performance's id
declare -A TABLE=()    # backend -> rows of the summary table
declare -A FOOTNOTES=()
declare -A W=()        # the last wrk phase's SCAN_RESULT fields, plus cpu_ticks
declare -A SNAP=()     # the last database snapshot

# ---------------------------------------------------------------------------------------------
# Small helpers

# "20s", "2m" or "20" -> seconds
seconds_of() {
  case $1 in
    *s) echo "${1%s}" ;;
    *m) echo $((${1%m} * 60)) ;;
    *) echo "$1" ;;
  esac
}

# check LABEL CONDITION-RESULT(0/1) DETAILS: records a PASS/FAIL line; a FAIL is a problem.
check() {
  local label=$1 ok=$2 details=$3
  if [[ $ok == 1 ]]; then
    CHECKS+=("PASS $label: $details")
  else
    CHECKS+=("FAIL $label: $details")
    problem "$label: $details"
  fi
}

# ---------------------------------------------------------------------------------------------
# Prerequisites

ensure_tools() {
  local backends=$1
  if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt-get install -y wrk >/dev/null || die "wrk is missing and apt-get install wrk failed"
  fi
  if ! command -v sqlite3 >/dev/null && [[ $backends == *sqlite* ]]; then
    log "installing sqlite3"
    apt-get install -y sqlite3 >/dev/null || die "sqlite3 is missing and apt-get install failed"
  fi
  command -v curl >/dev/null || die "curl is required"
  command -v python3 >/dev/null || die "python3 is required (JSON handling)"
  if [[ $backends == *postgres* ]]; then
    command -v psql >/dev/null || die "psql is required for the postgres backend"
    psql "$BENCH_PG/postgres" -Atq -c 'SELECT 1' >/dev/null ||
      die "PostgreSQL does not answer at $BENCH_PG"
  fi
}

# Release build when the binary is missing or older than anything it is built from.
ensure_binary() {
  if [[ -n ${BENCH_BIN:-} ]]; then
    [[ -x $BIN ]] || die "BENCH_BIN=$BIN is not an executable"
    return 0
  fi
  if [[ ! -x $BIN ]] ||
    [[ -n $(find "$REPO/src" "$REPO/migrations" "$REPO/Cargo.toml" "$REPO/Cargo.lock" \
      -newer "$BIN" -print -quit) ]]; then
    log "building the release binary"
    (cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed"
  fi
}

port_is_free() { ! curl -s --max-time 1 -o /dev/null "$BASE_URL/" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# Databases

# A copy of the database holding the issued tickets, so every concurrency level starts equal.
copy_issued_database() {
  local backend=$1 name=$2
  case $backend in
    sqlite)
      # The issuance server has stopped; fold the WAL into the main file so copying that one
      # file copies everything.
      sqlite3 "$WORK/issued.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
      if [[ -s $WORK/issued.db-wal ]]; then
        die "the WAL of $WORK/issued.db is not empty after a checkpoint"
      fi
      cp "$WORK/issued.db" "$WORK/$name.db"
      ;;
    postgres)
      # TEMPLATE needs the template database to have no connections: its server has stopped.
      pg_admin "DROP DATABASE IF EXISTS ${PG_DB_PREFIX}_$name"
      pg_admin "CREATE DATABASE ${PG_DB_PREFIX}_$name TEMPLATE ${PG_DB_PREFIX}_issued"
      PG_DATABASES+=("${PG_DB_PREFIX}_$name")
      ;;
  esac
}

# Fills SNAP with what the checks compare: admitted tickets, arrival events by outcome, and
# tickets with more than one 'admitted' arrival event.
snapshot_database() {
  local backend=$1 name=$2 key value
  SNAP=()
  while IFS='|' read -r key value; do
    SNAP[$key]=$value
  done < <(sql "$backend" "$name" "
    SELECT 'admitted_tickets', count(*) FROM tickets WHERE admitted_at IS NOT NULL
    UNION ALL
    SELECT 'doubly_admitted', count(*) FROM (
      SELECT ticket_id FROM arrival_events WHERE outcome = 'admitted'
      GROUP BY ticket_id HAVING count(*) > 1) twice
    UNION ALL
    SELECT 'rows_total', count(*) FROM arrival_events
    UNION ALL
    SELECT 'rows_' || outcome, count(*) FROM arrival_events GROUP BY outcome")
}
snap() { echo "${SNAP[$1]:-0}"; }

# The tokens of the tickets admitted so far, in file order: the duplicate phase rescans these.
# (CODES=rotating: their rotating codes of now, from the fourth argument.)
write_admitted_tokens() {
  local backend=$1 name=$2 out=$3 ids_tokens=${4:-$WORK/$1-ids-tokens.tsv}
  sql "$backend" "$name" "SELECT id FROM tickets WHERE admitted_at IS NOT NULL" |
    awk -F'\t' 'NR == FNR { admitted[$1] = 1; next } ($1 in admitted) { print $2 }' \
      - "$ids_tokens" >"$out"
}

# CODES=rotating: id<TAB>rotating code of now for every ticket, in issuance (id) order, from
# the keys the offline bundle gives a scanner (TOTP, RFC 6238, as the wallet would show it).
write_rotating_codes() {
  local backend=$1 out=$2
  curl -sf --max-time 60 -H "Authorization: Bearer ${API_KEY[$backend]}" \
    "$BASE_URL/api/v1/performances/${PERFORMANCE[$backend]}/offline-bundle" >"$out.bundle" ||
    die "could not fetch the offline bundle"
  python3 "$BENCH_DIR/rotating_codes.py" "$out.bundle" "${PERFORMANCE[$backend]}" >"$out"
  local count
  count=$(wc -l <"$out")
  [[ $count == "$TICKETS" ]] || die "the bundle gave $count rotating codes, not $TICKETS"
}

# ---------------------------------------------------------------------------------------------
# The server

# The server's settings come from these variables only: ENCORE_CONFIG names a file that does not
# exist, so an encore.toml lying in the current directory cannot change what is measured. The
# email worker is off: the protocol measures the door, not the confirmations of 20,000 tickets.
server_env() {
  export DATABASE_URL=$1 ENCORE_BIND=127.0.0.1:$PORT RUST_LOG=warn \
    ENCORE_CONFIG=$WORK/no-config-file.toml ENCORE_RUN_WORKER=false ENCORE_MAIL_DIR=$WORK/mail
}

encore() { # runs a one-shot subcommand against a database
  local url=$1
  shift
  (server_env "$url" && "$BIN" "$@")
}

start_server() {
  local url=$1 logfile=$2
  port_is_free || die "something already listens on $BASE_URL"
  # exec: the background subshell becomes the server, so $! is the server's own PID (the one
  # signalled and measured), not a shell's.
  (server_env "$url" && exec "$BIN" serve) >>"$logfile" 2>&1 &
  SERVER_PID=$!
  wait_until_ready "$logfile"
  # (checked once it answers: just after the fork, the child may not have exec'd yet)
  [[ $(readlink "/proc/$SERVER_PID/exe") == "$(readlink -f "$BIN")"* ]] ||
    die "pid $SERVER_PID is not the encore binary"
  log "server ready, pid $SERVER_PID (${url##*@})"
}

wait_until_ready() {
  local logfile=$1 deadline=$((SECONDS + 30))
  until curl -sf --max-time 2 -o /dev/null "$BASE_URL/readyz"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      tail -n 20 "$logfile" >&2
      die "the server exited before it was ready"
    fi
    ((SECONDS < deadline)) || die "the server was not ready within 30 s"
    sleep 0.2
  done
}

# SIGTERM lets actix finish requests in flight (it gives them 10 s); SIGKILL after 20 s.
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  local pid=$SERVER_PID status=0 deadline=$((SECONDS + 20))
  SERVER_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    problem "server pid $pid did not stop within 20 s of SIGTERM; killed"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || status=$?
  if [[ $status != 0 ]]; then
    problem "server pid $pid exited with status $status after SIGTERM"
  fi
  log "server pid $pid stopped"
}

# ---------------------------------------------------------------------------------------------
# CPU and memory, from /proc

# What a phase costs: the server's CPU, plus PostgreSQL's when it is the database.
cpu_ticks() {
  local backend=$1 ticks
  ticks=$(process_cpu_ticks "$SERVER_PID")
  if [[ $backend == postgres ]]; then
    ticks=$((ticks + $(postgres_cpu_ticks)))
  fi
  echo "$ticks"
}

peak_rss_mb() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# Proportional memory of all postgres processes (shared buffers counted once, not per process).
postgres_pss_mb() {
  local total=0 dir kb
  for dir in /proc/[0-9]*; do
    [[ $(cat "$dir/comm" 2>/dev/null) == postgres ]] || continue
    kb=$(awk '/^Pss:/ { print $2 }' "$dir/smaps_rollup" 2>/dev/null) || continue
    total=$((total + ${kb:-0}))
  done
  calc '%.0f' "$total / 1024"
}

# ---------------------------------------------------------------------------------------------
# Issuance: key, event, performance, then TICKETS tickets through the bulk endpoint.

issue_tickets() {
  local backend=$1 url key
  local dir=$WORK/$backend-issue
  mkdir -p "$dir"
  create_empty_database "$backend" issued
  url=$(db_url "$backend" issued)
  key=$(encore "$url" keys create --role admin --name bench 2>>"$RUN_DIR/$backend-keys.log") ||
    die "encore keys create failed: $(tail -n 3 "$RUN_DIR/$backend-keys.log")"
  [[ $key =~ ^[A-Za-z0-9_-]+$ ]] || die "keys create printed no key (see $RUN_DIR/$backend-keys.log)"
  API_KEY[$backend]=$key
  BENCH_API_KEY=$key

  start_server "$url" "$RUN_DIR/$backend-issue-server.log"
  local answer event performance starts_at
  local barcode=''
  [[ $CODES == rotating ]] && barcode=",\"barcode\":\"rotating\",\"rotation_seconds\":$ROTATION_SECONDS"
  answer=$(api_post /api/v1/events "{\"name\":\"Bench\",\"venue\":\"Hall\",\"time_zone\":\"Europe/Vienna\"$barcode}" "$dir/event.json")
  [[ $answer == 201* ]] || die "creating the event answered $answer: $(cat "$dir/event.json")"
  event=$(json_id "$dir/event.json")
  # Tokens admit from 6 h before doors (1 h before the start) until 6 h after the start.
  starts_at=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
  answer=$(api_post "/api/v1/events/$event/performances" \
    "{\"starts_at\":\"$starts_at\",\"capacity\":$TICKETS}" "$dir/performance.json")
  [[ $answer == 201* ]] || die "creating the performance answered $answer: $(cat "$dir/performance.json")"
  performance=$(json_id "$dir/performance.json")
  PERFORMANCE[$backend]=$performance

  write_bulk_bodies "$dir" "$TICKETS"
  log "$backend: issuing $TICKETS tickets in batches of $BATCH_SIZE"
  local body seconds_total=0 slowest=0 requests=0 status seconds
  for body in "$dir"/bulk-*.json; do
    answer=$(api_post "/api/v1/performances/$performance/tickets/bulk" "@$body" "${body%.json}.response")
    read -r status seconds <<<"$answer"
    if [[ $status != 201 ]]; then
      problem "$backend: bulk issuance answered HTTP $status: $(head -c 300 "${body%.json}.response")"
      die "issuance failed"
    fi
    seconds_total=$(calc '%.6f' "$seconds_total + $seconds")
    slowest=$(calc '%.3f' "($seconds > $slowest) ? $seconds : $slowest")
    requests=$((requests + 1))
  done
  stop_server

  # id<TAB>token, in issuance order; the token file is its second column.
  python3 - "$dir" >"$WORK/$backend-ids-tokens.tsv" <<'EOF'
import glob, json, sys
for response in sorted(glob.glob(sys.argv[1] + "/bulk-*.response")):
    for ticket in json.load(open(response))["tickets"]:
        print(f"{ticket['id']}\t{ticket['token']}")
EOF
  cut -f2 "$WORK/$backend-ids-tokens.tsv" >"$WORK/$backend-tokens.txt"
  local issued
  issued=$(wc -l <"$WORK/$backend-tokens.txt")
  local distinct
  distinct=$(sort -u "$WORK/$backend-tokens.txt" | wc -l)
  check "$backend issuance" "$([[ $issued == "$TICKETS" && $distinct == "$TICKETS" ]] && echo 1 || echo 0)" \
    "$issued tokens returned ($distinct distinct), $TICKETS requested"
  local stored
  stored=$(sql "$backend" issued "SELECT count(*) FROM tickets")
  check "$backend issuance stored" "$([[ $stored == "$TICKETS" ]] && echo 1 || echo 0)" \
    "$stored tickets in the database"

  ISSUANCE[$backend]="$issued tickets in $requests requests of $BATCH_SIZE: \
$(calc '%.2f' "$seconds_total") s → **$(calc '%.0f' "$issued / $seconds_total") tickets/s** \
(slowest request $slowest s; time is curl's, per request, summed)"
  log "$backend: ${ISSUANCE[$backend]}"
}

# ---------------------------------------------------------------------------------------------
# One wrk phase

# run_phase backend c mode token-file duration label: fills W with the SCAN_RESULT fields,
# W[cpu_ticks] with the server's (+ PostgreSQL's) CPU during the phase, W[responses] with the
# scan answers counted by the script.
run_phase() {
  local backend=$1 c=$2 mode=$3 tokens=$4 duration=$5 label=$6
  local threads=$((c < WRK_MAX_THREADS ? c : WRK_MAX_THREADS)) # wrk needs c >= threads
  local out=$RUN_DIR/$backend-c$c-$label.txt cpu_before cpu_after machine_before machine_after line field
  local limit=$(($(seconds_of "$duration") + 60))

  log "$backend c=$c: $label ($mode, $duration)"
  cpu_before=$(cpu_ticks "$backend")
  machine_before=$(machine_busy_ticks)
  SCAN_MODE=$mode SCAN_TOKENS=$tokens SCAN_API_KEY=${API_KEY[$backend]} SCAN_THREADS=$threads \
    timeout --kill-after=5 "$limit" \
    wrk -t"$threads" -c"$c" -d"$duration" --timeout "$WRK_TIMEOUT" -s "$BENCH_DIR/scan.lua" \
    "$BASE_URL" >"$out" 2>&1 &
  WRK_PID=$!
  local status=0
  wait "$WRK_PID" || status=$?
  WRK_PID=""
  # Requests still in flight when wrk stopped finish on the server; let them, so the CPU and
  # database figures include them.
  sleep 1
  cpu_after=$(cpu_ticks "$backend")
  machine_after=$(machine_busy_ticks)
  [[ $status == 0 ]] || die "wrk failed (status $status), see $out"

  line=$(grep '^SCAN_RESULT ' "$out" || true)
  [[ -n $line ]] || die "no SCAN_RESULT line in $out"
  W=()
  for field in ${line#SCAN_RESULT }; do
    W[${field%%=*}]=${field#*=}
  done
  W[cpu_ticks]=$((cpu_after - cpu_before))
  W[machine_ticks]=$((machine_after - machine_before))
  local responses=0 key
  for key in "${!W[@]}"; do
    [[ $key == status_* ]] && responses=$((responses + ${W[$key]}))
  done
  W[responses]=$responses
}
w() { echo "${W[$1]:-0}"; }

# Answers other than the expected outcome, and socket errors, as one readable string.
unexpected_answers() {
  local expected=$1 key list=()
  for key in $(printf '%s\n' "${!W[@]}" | sort); do
    case $key in
      outcome_"$expected") ;;
      outcome_*) list+=("${key#outcome_}=${W[$key]}") ;;
    esac
  done
  for key in connect read write timeout; do
    (($(w "err_$key") == 0)) || list+=("socket_$key=$(w "err_$key")")
  done
  local IFS=' '
  echo "${list[*]:-none}"
}

statuses_seen() {
  local key list=()
  for key in $(printf '%s\n' "${!W[@]}" | sort); do
    [[ $key == status_* ]] && list+=("${key#status_}:${W[$key]}")
  done
  local IFS=' '
  echo "${list[*]:-none}"
}

# Records the detail row of the phase just run and returns (in PHASE_*) its headline figures.
summarise_phase() {
  local backend=$1 c=$2 label=$3 expected=$4
  local good seconds
  good=$(w "outcome_$expected")
  seconds=$(calc '%.6f' "$(w active_us) / 1000000")
  PHASE_RATE=$(calc '%.1f' "$good / $seconds")
  PHASE_P50=$(calc '%.2f' "$(w p50_us) / 1000")
  PHASE_P99=$(calc '%.2f' "$(w p99_us) / 1000")
  PHASE_CPU=$(calc '%.3f' "$(w responses) > 0 ? $(w cpu_ticks) * 1000 / $CLK_TCK / $(w responses) : 0")
  PHASE_UNEXPECTED=$(unexpected_answers "$expected")
  # The rest of the machine's CPU: wrk's, on an otherwise idle machine.
  local other_cpu
  other_cpu=$(calc '%.3f' "$(w responses) > 0 ? ($(w machine_ticks) - $(w cpu_ticks)) * 1000 / $CLK_TCK / $(w responses) : 0")
  DETAIL_ROWS+=("| $backend | $c | $label | $(w responses) | $good $expected | $PHASE_UNEXPECTED \
| $(statuses_seen) | $(calc '%.1f' "$seconds") | $PHASE_RATE | $PHASE_P50 | $PHASE_P99 \
| $(calc '%.2f' "$(w max_us) / 1000") | $PHASE_CPU | $other_cpu |")
}

# The answers of a phase are all the expected outcome, with the expected status, and no
# socket errors.
check_answers() {
  local backend=$1 c=$2 label=$3 expected=$4 status=$5
  local ok=1
  [[ $(w "outcome_$expected") == "$(w responses)" && $(w "status_$status") == "$(w responses)" ]] || ok=0
  [[ $PHASE_UNEXPECTED == none ]] || ok=0
  (($(w responses) > 0)) || ok=0
  check "$backend c=$c $label answers" "$ok" \
    "$(w responses) answers, $(w "outcome_$expected") $expected, HTTP $(statuses_seen), other: $PHASE_UNEXPECTED"
}

# Every answered scan left an arrival event (those in flight when wrk stopped may add up to c,
# plus one per request wrk gave up on).
check_events_recorded() {
  local backend=$1 c=$2 label=$3 rows_before=$4
  local added=$(($(snap rows_total) - rows_before))
  local slack=$((c + $(w err_timeout) + $(w err_read)))
  check "$backend c=$c $label events recorded" \
    "$(((added >= $(w responses) && added <= $(w responses) + slack) ? 1 : 0))" \
    "$added arrival events added for $(w responses) answers (allowed up to $slack more)"
}

# ---------------------------------------------------------------------------------------------
# The protocol, for one backend at one concurrency

run_level() {
  local backend=$1 c=$2 name=c$2
  local tokens=$WORK/$backend-tokens.txt

  # 0. a fresh copy of the issued database
  copy_issued_database "$backend" "$name"
  start_server "$(db_url "$backend" "$name")" "$RUN_DIR/$backend-c$c-server.log"

  # 1. warm-up with invalid tokens
  run_phase "$backend" "$c" invalid "$tokens" "$WARMUP" warmup
  summarise_phase "$backend" "$c" warmup invalid_signature

  # 2. accepted: each valid token once
  local accepted_tokens=$tokens ids_codes=""
  if [[ $CODES == rotating ]]; then
    ids_codes=$WORK/$backend-c$c-ids-codes.tsv
    write_rotating_codes "$backend" "$ids_codes"
    accepted_tokens=$WORK/$backend-c$c-codes.txt
    cut -f2 "$ids_codes" >"$accepted_tokens"
  fi
  snapshot_database "$backend" "$name"
  local rows_before
  rows_before=$(snap rows_total)
  run_phase "$backend" "$c" accepted "$accepted_tokens" "$DURATION" accepted
  summarise_phase "$backend" "$c" accepted admitted
  local accepted_rate=$PHASE_RATE accepted_p50=$PHASE_P50 accepted_p99=$PHASE_P99
  local accepted_cpu=$PHASE_CPU admitted_by_wrk
  admitted_by_wrk=$(w outcome_admitted)
  local exhausted accepted_seconds
  exhausted=$(w exhausted_threads)
  accepted_seconds=$(calc '%.1f' "$(w active_us) / 1000000")
  check_answers "$backend" "$c" accepted admitted 200

  # 3. the database agrees with wrk
  snapshot_database "$backend" "$name"
  check_events_recorded "$backend" "$c" accepted "$rows_before"
  local stored slack
  stored=$(snap admitted_tickets)
  slack=$((c + $(w err_timeout) + $(w err_read)))
  check "$backend c=$c admissions stored" \
    "$(((stored >= admitted_by_wrk && stored <= admitted_by_wrk + slack) ? 1 : 0))" \
    "$stored tickets admitted in the database, $admitted_by_wrk admitted answers (allowed up to $slack more)"
  check "$backend c=$c admission events" "$([[ $(snap rows_admitted) == "$stored" ]] && echo 1 || echo 0)" \
    "$(snap rows_admitted) 'admitted' arrival events for $stored admitted tickets"
  check "$backend c=$c nobody admitted twice" "$([[ $(snap doubly_admitted) == 0 ]] && echo 1 || echo 0)" \
    "$(snap doubly_admitted) tickets with more than one 'admitted' arrival event"
  local admitted_after_accepted=$stored admitted_rows_after_accepted
  admitted_rows_after_accepted=$(snap rows_admitted)

  # 4. duplicate: rescan exactly the tickets admitted in phase 2
  local admitted_tokens=$WORK/$backend-c$c-admitted-tokens.txt
  if [[ $CODES == rotating ]]; then
    write_rotating_codes "$backend" "$ids_codes" # the codes of now: those of phase 2 aged
    write_admitted_tokens "$backend" "$name" "$admitted_tokens" "$ids_codes"
  else
    write_admitted_tokens "$backend" "$name" "$admitted_tokens"
  fi
  rows_before=$(snap rows_total)
  run_phase "$backend" "$c" duplicate "$admitted_tokens" "$DURATION" duplicate
  summarise_phase "$backend" "$c" duplicate already_admitted
  local duplicate_rate=$PHASE_RATE
  check_answers "$backend" "$c" duplicate already_admitted 409
  snapshot_database "$backend" "$name"
  check_events_recorded "$backend" "$c" duplicate "$rows_before"

  # 5. invalid: valid tokens with one signature character changed
  rows_before=$(snap rows_total)
  run_phase "$backend" "$c" invalid "$tokens" "$DURATION" invalid
  summarise_phase "$backend" "$c" invalid invalid_signature
  local invalid_rate=$PHASE_RATE
  check_answers "$backend" "$c" invalid invalid_signature 422

  # 6. no admission added by phases 4 and 5
  snapshot_database "$backend" "$name"
  check_events_recorded "$backend" "$c" invalid "$rows_before"
  check "$backend c=$c no admission after phase 2" \
    "$([[ $(snap admitted_tickets) == "$admitted_after_accepted" && $(snap rows_admitted) == "$admitted_rows_after_accepted" && $(snap doubly_admitted) == 0 ]] && echo 1 || echo 0)" \
    "admitted tickets $admitted_after_accepted → $(snap admitted_tickets), 'admitted' events $admitted_rows_after_accepted → $(snap rows_admitted)"

  local rss memory_note=""
  rss=$(peak_rss_mb "$SERVER_PID")
  if [[ $backend == postgres ]]; then
    memory_note="; PostgreSQL processes' PSS after the run: $(postgres_pss_mb) MB"
  fi
  stop_server

  # A rate measured over less than the phase (the tokens ran out) gets a footnote.
  local mark=""
  ((exhausted == 0)) || mark="†"
  TABLE[$backend]+="| $c | $accepted_rate$mark | $accepted_p50 | $accepted_p99 | $duplicate_rate \
| $invalid_rate | $accepted_cpu | $rss |"$'\n'
  if ((exhausted > 0)); then
    FOOTNOTES[$backend]+="- † c=$c: the $TICKETS tokens ran out before the end of the $DURATION \
accepted phase ($exhausted wrk thread(s) ran dry); the rate is over $accepted_seconds s, from the \
first request to the last answer."$'\n'
  fi
  FOOTNOTES[$backend]+="- c=$c: server peak RSS (VmHWM) $rss MB$memory_note."$'\n'
}

# ---------------------------------------------------------------------------------------------
# Report

write_report() {
  local backend CODES_NOTE=$CODES
  if [[ $CODES == rotating ]]; then
    CODES_NOTE="rotating (rotation_seconds=$ROTATION_SECONDS; the accepted and duplicate phases scan rotating codes, the warm-up and invalid phases signed tokens with a bad signature)"
  fi
  {
    echo "# Encore scan benchmark, $STAMP"
    echo
    echo "Protocol: ../shared/bench/PROTOCOL.md."
    echo "Binary: $BIN, built $(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ)$(describe_source)."
    echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), \
$(free -g | awk '/^Mem:/ { print $2 }') GiB; wrk, server and database share them."
    echo "Server: ENCORE_WORKERS=${ENCORE_WORKERS:-0 (one per CPU)}, ENCORE_DB_POOL_SIZE=${ENCORE_DB_POOL_SIZE:-default (8)}, RUST_LOG=warn, email worker off."
    echo "Data: $TICKETS tickets, one event, one performance (capacity $TICKETS)."
    echo "Codes: $CODES_NOTE."
    echo "wrk: -t2 (-t1 at c=1, wrk needs c ≥ threads) -c\$c --timeout $WRK_TIMEOUT; warm-up $WARMUP, phases $DURATION; concurrency: $CONCURRENCY."
    echo
    for backend in "${BACKENDS[@]}"; do
      echo "## $backend"
      echo
      echo "Issuance: ${ISSUANCE[$backend]}"
      echo
      echo "| c | accepted/s | p50 ms | p99 ms | duplicate/s | invalid/s | CPU ms/req (accepted) | peak RSS MB |"
      echo "|---|---|---|---|---|---|---|---|"
      printf '%s' "${TABLE[$backend]:-}"
      echo
      printf '%s' "${FOOTNOTES[$backend]:-}"
      echo
    done
    echo "p50/p99 are the accepted phase's. CPU ms/req: the server's utime+stime (and, for postgres, every"
    echo "postgres process's) during the phase, divided by the answers wrk counted. Other CPU ms/req: the"
    echo "rest of the machine's busy CPU (/proc/stat) in the same time, per answer: wrk's own, when"
    echo "nothing else runs."
    echo
    echo "## Every phase"
    echo
    echo "| backend | c | phase | answers | expected | other answers | HTTP | seconds | expected/s | p50 ms | p99 ms | max ms | CPU ms/req | other CPU ms/req |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${DETAIL_ROWS[@]}"
    echo
    echo "## Checks"
    echo
    printf -- '- %s\n' "${CHECKS[@]}"
    echo
    echo "## Problems"
    echo
    if ((${#PROBLEMS[@]} == 0)); then
      echo "None."
    else
      printf -- '- %s\n' "${PROBLEMS[@]}"
    fi
    echo
    echo "Raw wrk output and server logs: ${RUN_DIR#"$REPO"/}/"
  } >"$REPORT"
}

# ---------------------------------------------------------------------------------------------
# Clean-up: whatever happens, stop what was started here (by PID) and drop what was created.

# shellcheck disable=SC2317 # (called by the EXIT trap)
cleanup() {
  local status=$?
  set +e
  trap - ERR
  if [[ -n $WRK_PID ]]; then
    kill -TERM "$WRK_PID" 2>/dev/null
    wait "$WRK_PID" 2>/dev/null
  fi
  stop_server
  discard_work
  exit "$status"
}

main() {
  choose_backends "$BACKENDS_ARG" "bench/scan.sh"
  # set -e stops at the first failing command; say which one (-E: also inside functions).
  trap 'log "error: line $LINENO: $BASH_COMMAND failed"' ERR
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  ensure_tools "${BACKENDS[*]}"
  ensure_binary
  mkdir -p "$RUN_DIR"
  WORK=$(mktemp -d /tmp/encore-bench.XXXXXX)

  local backend c
  for backend in "${BACKENDS[@]}"; do
    issue_tickets "$backend"
  done
  # With both backends, alternate them at each level: the machine's speed drifts over minutes,
  # and side by side is the fairer comparison.
  for c in $CONCURRENCY; do
    for backend in "${BACKENDS[@]}"; do
      run_level "$backend" "$c"
    done
  done

  write_report
  cat "$REPORT"
  log "report: ${REPORT#"$REPO"/}"
  ((${#PROBLEMS[@]} == 0)) || exit 1
}

# One line, so bash has read it whole before running: editing this file during a run is safe.
main; exit
