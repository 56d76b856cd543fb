#!/usr/bin/env bash
# Email-throughput benchmark for Encore (issue 4, "Scale"): queue N pre-show reminders and send
# them to a local SMTP sink; report emails/s, the worker's CPU and peak RSS, and whether its
# memory stays flat. See bench/README.md ("Email benchmark") for how to read the output.
#
#   bench/email.sh [sqlite|postgres|both]          (default: both)
#
# Environment (all optional):
#   N=85000                   tickets issued, hence reminders sent (the performance's capacity)
#   SEND_TIMEOUT=600          seconds the worker gets to send all N before the run is given up
#   MESSAGES=reminders        after_show: instead of reminders, time issue 19's after-show message:
#                             the performance is just over, every holder was admitted, and one
#                             marketing rule (to the admitted, at the end) with recommendations
#                             from three upcoming dates is queued by the worker and sent
#   CONFIRMATIONS=0           1: afterwards, also time sending the N confirmation emails (QR PNG)
#                             as a second, separate measurement
#   BENCH_PORT=18182          encore serve listens on 127.0.0.1:BENCH_PORT while issuing
#   BENCH_SMTP_PORT=12525     the SMTP sink listens on 127.0.0.1:BENCH_SMTP_PORT
#   BENCH_PG=postgres://postgres@127.0.0.1:5432    PostgreSQL server (trust auth)
#   KEEP=1                    keep the databases (SQLite files and PostgreSQL databases)
#   BENCH_BIN=path            benchmark this encore binary as it is (default:
#                             target/release/encore, rebuilt when older than the sources)
#   BENCH_SINK=path           the smtp_sink example binary (default:
#                             target/release/examples/smtp_sink, likewise)
#   ENCORE_SMTP_POOL_SIZE, ENCORE_SEND_CONCURRENCY, ENCORE_OUTBOX_BATCH_SIZE,
#   ENCORE_OUTBOX_POLL_MS, ENCORE_DB_POOL_SIZE     reach the worker (defaults 8, 16, 200, 500, 8)
#
# Everything runs on 127.0.0.1 and is bounded in time; every process started here is stopped by
# its PID on exit.
set -Eeuo pipefail
export LC_NUMERIC=C # EPOCHREALTIME and printf with a decimal point, whatever the locale

BACKENDS_ARG=${1:-both}
N=${N:-85000}
SEND_TIMEOUT=${SEND_TIMEOUT:-600}
CONFIRMATIONS=${CONFIRMATIONS:-0}
MESSAGES=${MESSAGES:-reminders}
case $MESSAGES in
  reminders) KIND=reminder QUEUED_LINE='queued reminders' ;;
  after_show) KIND=rule_message QUEUED_LINE='queued a message rule' ;;
  *) echo "MESSAGES must be reminders or after_show" >&2; exit 2 ;;
esac
HTTP_PORT=${BENCH_PORT:-18182}
SMTP_PORT=${BENCH_SMTP_PORT:-12525}
BENCH_PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
KEEP=${KEEP:-0}
BATCH_SIZE=1000     # the bulk endpoint's maximum
POLL_SECONDS=0.5    # pause between two counts of the outbox while the worker sends
TARGET_RATE=1000    # emails/s asked for by issue 4
PG_DB_PREFIX=encore_emailbench

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DB_NAME=email # each backend's database: $WORK/email.db, or ${PG_DB_PREFIX}_email
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
BENCH_DIR=$REPO/bench
BIN=${BENCH_BIN:-$REPO/target/release/encore}
SINK_BIN=${BENCH_SINK:-$REPO/target/release/examples/smtp_sink}
BASE_URL=http://127.0.0.1:$HTTP_PORT
CLK_TCK=$(getconf CLK_TCK)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT_DIR=$BENCH_DIR/out
RUN_DIR=$OUT_DIR/email-$STAMP # logs, per-poll samples, outbox status
REPORT=$OUT_DIR/email-$STAMP.md
WORK=""        # SQLite files, bulk request bodies; removed on exit unless KEEP=1
BENCH_API_KEY=""

SERVER_PID=""
WORKER_PID=""
SINK_PID=""
PG_DATABASES=() # created here, dropped when done (and on exit) unless KEEP=1
PROBLEMS=()
ISSUANCE_ROWS=()
RESULT_ROWS=()       # the reminder table
CONFIRMATION_ROWS=() # the optional confirmation table
DETAILS=()           # per-run notes, markdown
declare -A M=()      # the figures of the measurement just run

# ---------------------------------------------------------------------------------------------
# Small helpers

now() { echo "$EPOCHREALTIME"; } # seconds since the epoch, microseconds

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------------------------------------
# Prerequisites

ensure_tools() {
  local backends=$1
  local tool
  for tool in curl python3 ss awk; do
    command -v "$tool" >/dev/null || die "$tool is required"
  done
  if [[ $backends == *sqlite* ]]; then
    command -v sqlite3 >/dev/null || die "sqlite3 is required for the sqlite backend"
  fi
  if [[ $backends == *postgres* ]]; then
    command -v psql >/dev/null || die "psql is required for the postgres backend"
    psql "$BENCH_PG/postgres" -Atq -c 'SELECT 1' >/dev/null ||
      die "PostgreSQL does not answer at $BENCH_PG"
  fi
}

# One release build of both binaries when a default one is missing or older than its sources.
# A binary named by BENCH_BIN / BENCH_SINK is used as it is.
ensure_binaries() {
  local stale=0
  if [[ -z ${BENCH_BIN:-} ]] && binary_is_stale "$BIN"; then stale=1; fi
  if [[ -z ${BENCH_SINK:-} ]] && binary_is_stale "$SINK_BIN"; then stale=1; fi
  if ((stale)); then
    log "building the release binaries (encore, smtp_sink)"
    (cd "$REPO" && cargo build --release --quiet --bin encore --example smtp_sink) ||
      die "cargo build --release --bin encore --example smtp_sink failed"
  fi
  [[ -x $BIN ]] || die "$BIN is not an executable"
  [[ -x $SINK_BIN ]] || die "$SINK_BIN is not an executable"
}

binary_is_stale() {
  [[ ! -x $1 ]] ||
    [[ -n $(find "$REPO/src" "$REPO/examples" "$REPO/migrations" "$REPO/templates" \
      "$REPO/Cargo.toml" "$REPO/Cargo.lock" -newer "$1" -print -quit 2>/dev/null) ]]
}

port_is_listening() { [[ -n $(ss -Htln "( sport = :$1 )") ]]; }

# ---------------------------------------------------------------------------------------------
# Databases

drop_database() {
  local backend=$1
  [[ $KEEP == 1 ]] && return 0
  case $backend in
    sqlite) rm -f "$WORK/$DB_NAME.db" "$WORK/$DB_NAME.db-wal" "$WORK/$DB_NAME.db-shm" ;;
    postgres) pg_admin "DROP DATABASE IF EXISTS ${PG_DB_PREFIX}_$DB_NAME" ;;
  esac
}

# A TIMESTAMP column (stored in UTC) as seconds since the epoch, in the backend's SQL.
epoch_of() {
  case $1 in
    sqlite) echo "((julianday($2) - 2440587.5) * 86400.0)" ;;
    postgres) echo "extract(epoch from $2)" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Processes, all started by PID and stopped by PID

# The service's settings come from the environment only: ENCORE_CONFIG names a file that does
# not exist, so an encore.toml lying around cannot change what is measured.
encore_env() {
  export DATABASE_URL=$1 RUST_LOG=warn NO_COLOR=1 ENCORE_CONFIG=$WORK/no-config-file.toml
}

encore() { # runs a one-shot subcommand against a database
  local url=$1
  shift
  (encore_env "$url" && "$BIN" "$@")
}

# stop_pid NAME PID SIGNAL: signal, wait up to 20 s, then SIGKILL; reaps it.
stop_pid() {
  local name=$1 pid=$2 signal=$3 status=0 deadline=$((SECONDS + 20))
  [[ -n $pid ]] || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    problem "$name pid $pid did not stop within 20 s of SIG$signal; killed"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || status=$?
  log "$name pid $pid stopped (status $status)"
}

start_server() {
  local url=$1 logfile=$2
  port_is_listening "$HTTP_PORT" && die "something already listens on 127.0.0.1:$HTTP_PORT"
  # ENCORE_RUN_WORKER=false: this server only issues; not one email leaves it. exec: $! is the
  # server itself, not a shell.
  (encore_env "$url" && unset SMTP_URL && export ENCORE_RUN_WORKER=false &&
    exec "$BIN" serve --bind "127.0.0.1:$HTTP_PORT") >>"$logfile" 2>&1 &
  SERVER_PID=$!
  local deadline=$((SECONDS + 30))
  until curl -sf --max-time 2 -o /dev/null "$BASE_URL/readyz"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      tail -n 20 "$logfile" >&2
      die "the server exited before it was ready"
    fi
    ((SECONDS < deadline)) || die "the server was not ready within 30 s"
    sleep 0.2
  done
  log "server ready, pid $SERVER_PID"
}

stop_server() {
  local pid=$SERVER_PID
  SERVER_PID=""
  stop_pid server "$pid" TERM # actix finishes requests in flight, then exits
}

# The sink counts every message it accepts and prints "received N" once a second. It stops by
# itself a minute after the send timeout, so it cannot outlive a run that goes wrong.
start_sink() {
  local logfile=$1
  port_is_listening "$SMTP_PORT" && die "something already listens on 127.0.0.1:$SMTP_PORT"
  "$SINK_BIN" "$SMTP_PORT" --seconds $((SEND_TIMEOUT + 60)) >"$logfile" 2>&1 &
  SINK_PID=$!
  local deadline=$((SECONDS + 10))
  until port_is_listening "$SMTP_PORT"; do
    kill -0 "$SINK_PID" 2>/dev/null || die "the SMTP sink exited: $(tail -n 5 "$logfile")"
    ((SECONDS < deadline)) || die "the SMTP sink did not listen within 10 s"
    sleep 0.1
  done
  log "SMTP sink listening on 127.0.0.1:$SMTP_PORT, pid $SINK_PID"
}

stop_sink() {
  local pid=$SINK_PID
  SINK_PID=""
  stop_pid sink "$pid" TERM
}

sink_received() { # the sink's latest count
  local last
  last=$(grep '^received ' "$1" | tail -n 1 || true)
  echo "${last#received }" | grep -E '^[0-9]+$' || echo 0
}

# The sink prints once a second: wait until two prints in a row agree (at most 10 s).
settled_sink_count() {
  local logfile=$1 before after deadline=$((SECONDS + 10))
  after=$(sink_received "$logfile")
  while ((SECONDS < deadline)); do
    before=$after
    sleep 1.1
    after=$(sink_received "$logfile")
    [[ $after == "$before" ]] && break
  done
  echo "$after"
}

# The worker alone, talking to the sink. The worker's own module logs at info: it writes two
# lines ("email worker ready", "queued reminders" with a timestamp and the count), nothing per
# email, and the second dates the end of queuing precisely.
start_worker() {
  local url=$1 logfile=$2
  (encore_env "$url" && export SMTP_URL=smtp://127.0.0.1:$SMTP_PORT \
    RUST_LOG=warn,encore::email::worker=info,encore::service::outbox=info,encore::service::message_rules=info &&
    exec "$BIN" worker) >"$logfile" 2>&1 &
  WORKER_PID=$!
}

stop_worker() {
  local pid=$WORKER_PID
  WORKER_PID=""
  # The worker handles only Ctrl-C (SIGINT), which bash ignores in background jobs; it is idle
  # by now, so SIGTERM's plain exit loses nothing.
  stop_pid worker "$pid" TERM
}

# ---------------------------------------------------------------------------------------------
# CPU and memory, from /proc

status_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

seconds_of_ticks() { calc '%.1f' "$1 / $CLK_TCK"; }

# The worker's connections to the sink right now: one local port per line.
smtp_client_ports() {
  ss -Htn state established "( dport = :$SMTP_PORT )" | awk '{ print $3 }'
}

# ---------------------------------------------------------------------------------------------
# Step 1: tickets, issued through the API with the worker off

issue_tickets() {
  local backend=$1 url answer event performance starts_at
  local dir=$WORK/$backend-issue # request bodies and answers: up to ~85 MB of JSON
  mkdir -p "$dir"
  create_empty_database "$backend" "$DB_NAME"
  url=$(db_url "$backend" "$DB_NAME")
  BENCH_API_KEY=$(encore "$url" keys create --role admin --name bench 2>>"$RUN_DIR/$backend-keys.log") ||
    die "encore keys create failed: $(tail -n 3 "$RUN_DIR/$backend-keys.log")"
  [[ $BENCH_API_KEY =~ ^[A-Za-z0-9_-]+$ ]] || die "keys create printed no key (see $RUN_DIR/$backend-keys.log)"

  start_server "$url" "$RUN_DIR/$backend-server.log"
  local offsets='[1440]' ends_at=""
  [[ $MESSAGES == after_show ]] && offsets='[]'
  answer=$(api_post /api/v1/events \
    "{\"name\":\"Conf\",\"venue\":\"Hall\",\"time_zone\":\"Europe/Vienna\",\"reminder_offsets_minutes\":$offsets}" \
    "$dir/event.json")
  [[ $answer == 201* ]] || die "creating the event answered $answer: $(cat "$dir/event.json")"
  event=$(json_id "$dir/event.json")
  if [[ $MESSAGES == after_show ]]; then
    # Over a minute ago: the rule (at the end) is due when the worker starts.
    starts_at=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
    ends_at=",\"ends_at\":\"$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)\""
    add_after_show_rule_and_dates "$event" "$dir"
  else
    # Starting in 23 h, its 24-hour reminder is already due: the worker queues it at start-up.
    starts_at=$(date -u -d '+23 hours' +%Y-%m-%dT%H:%M:%SZ)
  fi
  answer=$(api_post "/api/v1/events/$event/performances" \
    "{\"starts_at\":\"$starts_at\"$ends_at,\"capacity\":$N}" "$dir/performance.json")
  [[ $answer == 201* ]] || die "creating the performance answered $answer: $(cat "$dir/performance.json")"
  performance=$(json_id "$dir/performance.json")

  write_bulk_bodies "$dir" "$N"
  log "$backend: issuing $N tickets in batches of $BATCH_SIZE"
  local body curl_seconds=0 requests=0 status seconds started
  started=$(now)
  for body in "$dir"/bulk-*.json; do
    answer=$(api_post "/api/v1/performances/$performance/tickets/bulk" "@$body" "${body%.json}.response")
    read -r status seconds <<<"$answer"
    [[ $status == 201 ]] ||
      die "bulk issuance answered HTTP $status: $(head -c 300 "${body%.json}.response")"
    curl_seconds=$(calc '%.6f' "$curl_seconds + $seconds")
    requests=$((requests + 1))
  done
  local wall
  wall=$(calc '%.2f' "$(now) - $started")
  stop_server
  # Everyone came: every holder is in the after-show rule's audience.
  [[ $MESSAGES == after_show ]] &&
    sql "$backend" "$DB_NAME" "UPDATE tickets SET admitted_at = CURRENT_TIMESTAMP, admitted_gate = 'main', admitted_device = 'bench'" >/dev/null
  rm -rf "$dir"

  local tickets confirmations
  tickets=$(sql "$backend" "$DB_NAME" "SELECT count(*) FROM tickets")
  confirmations=$(sql "$backend" "$DB_NAME" "SELECT count(*) FROM outbox WHERE kind = 'confirmation' AND status = 'pending'")
  [[ $tickets == "$N" ]] || problem "$backend: $tickets tickets stored, $N issued"
  [[ $confirmations == "$N" ]] || problem "$backend: $confirmations pending confirmations queued for $N tickets"
  ISSUANCE_ROWS+=("| $backend | $N | $requests | $(calc '%.2f' "$curl_seconds") | \
$(calc '%.0f' "$N / $curl_seconds") | $wall | $confirmations |")
  log "$backend: $N tickets in $wall s ($(calc '%.0f' "$N / $curl_seconds") tickets/s over curl's time)"
}

# The after-show rule (marketing, to those admitted, at the end) and three upcoming dates of
# the same event for its recommendations.
add_after_show_rule_and_dates() {
  local event=$1 dir=$2 answer days
  answer=$(api_post "/api/v1/events/$event/message-rules" \
    '{"audience":"admitted","anchor":"end","offset_minutes":0,"purpose":"marketing","subject":"Thank you for coming, {holder_name}","body":"We hope you enjoyed {event_name} at {venue}."}' \
    "$dir/rule.json")
  [[ $answer == 201* ]] || die "creating the message rule answered $answer: $(cat "$dir/rule.json")"
  for days in 7 14 21; do
    answer=$(api_post "/api/v1/events/$event/performances" \
      "{\"starts_at\":\"$(date -u -d "+$days days" +%Y-%m-%dT%H:%M:%SZ)\",\"capacity\":100}" "$dir/next.json")
    [[ $answer == 201* ]] || die "creating an upcoming date answered $answer: $(cat "$dir/next.json")"
  done
}

# ---------------------------------------------------------------------------------------------
# Steps 2-3: one timed run of the worker against a fresh sink

# Sets the confirmations aside: they are not what the reminder run measures (and with
# CONFIRMATIONS=1 they are timed on their own afterwards).
set_confirmations_aside() {
  sql "$1" "$DB_NAME" "UPDATE outbox SET status = 'sent', sent_at = created_at WHERE kind = 'confirmation'"
}

# Puts the confirmations back as issuance left them: pending, never tried.
restore_confirmations() {
  sql "$1" "$DB_NAME" "UPDATE outbox SET status = 'pending', sent_at = NULL WHERE kind = 'confirmation'"
}

# measure_sending BACKEND KIND LABEL: starts a sink and the worker, and polls the outbox until
# all N emails of KIND are sent (or SEND_TIMEOUT). Fills M with what was measured.
measure_sending() {
  local backend=$1 kind=$2 label=$3
  local url sink_log worker_log samples
  url=$(db_url "$backend" "$DB_NAME")
  sink_log=$RUN_DIR/$backend-$label-sink.log
  worker_log=$RUN_DIR/$backend-$label-worker.log
  samples=$RUN_DIR/$backend-$label-samples.tsv
  M=([load_before]="$(loadavg)")

  start_sink "$sink_log"
  local pg_before=0 sink_ticks_before
  [[ $backend == postgres ]] && pg_before=$(postgres_cpu_ticks)
  sink_ticks_before=$(process_cpu_ticks "$SINK_PID")

  log "$backend $label: worker started; waiting for $N ${kind}s to be sent (at most $SEND_TIMEOUT s)"
  local started
  started=$(now)
  start_worker "$url" "$worker_log"
  M[started]=$started

  # Poll: sent count, the worker's RSS, its SMTP connections. One line per poll in $samples.
  printf 'seconds\tsent\trss_mb\tsmtp_connections\n' >"$samples"
  local sent=0 elapsed rss_kb connections ports_seen=$WORK/$backend-$label-ports
  : >"$ports_seen"
  M[rss_min_kb]=""
  M[rss_max_kb]=0
  M[connections_max]=0
  while :; do
    if ! kill -0 "$WORKER_PID" 2>/dev/null; then
      problem "$backend $label: the worker exited during the run: $(tail -n 5 "$worker_log" | tr '\n' ' ')"
      WORKER_PID=""
      break
    fi
    sent=$(sql "$backend" "$DB_NAME" "SELECT count(*) FROM outbox WHERE kind = '$kind' AND status = 'sent'")
    elapsed=$(calc '%.2f' "$(now) - $started")
    rss_kb=$(status_kb "$WORKER_PID" VmRSS)
    smtp_client_ports >"$WORK/ports-now"
    connections=$(wc -l <"$WORK/ports-now")
    cat "$WORK/ports-now" >>"$ports_seen"
    printf '%s\t%s\t%s\t%s\n' "$elapsed" "$sent" "$(calc '%.1f' "$rss_kb / 1024")" "$connections" >>"$samples"
    # Memory is sampled from the first poll on, queuing included.
    if [[ -n $rss_kb && $rss_kb != 0 ]]; then
      if [[ -z ${M[rss_min_kb]} ]] || ((rss_kb < M[rss_min_kb])); then M[rss_min_kb]=$rss_kb; fi
      if ((rss_kb > M[rss_max_kb])); then M[rss_max_kb]=$rss_kb; fi
      M[rss_last_kb]=$rss_kb
    fi
    if ((connections > M[connections_max])); then M[connections_max]=$connections; fi
    if ((sent >= N)); then
      M[send_seconds]=$elapsed
      break
    fi
    if awk -v e="$elapsed" -v t="$SEND_TIMEOUT" 'BEGIN { exit !(e >= t) }'; then
      problem "$backend $label: only $sent of $N ${kind}s sent after $SEND_TIMEOUT s; gave up"
      break
    fi
    sleep "$POLL_SECONDS"
  done
  M[sent]=$sent
  M[polls]=$(($(wc -l <"$samples") - 1))

  # Read before the worker stops: its CPU, peak RSS, and PostgreSQL's and the sink's CPU.
  if [[ -n $WORKER_PID ]]; then
    M[worker_cpu]=$(seconds_of_ticks "$(process_cpu_ticks "$WORKER_PID")")
    M[peak_rss_mb]=$(calc '%.1f' "$(status_kb "$WORKER_PID" VmHWM) / 1024")
  fi
  [[ $backend == postgres ]] && M[postgres_cpu]=$(seconds_of_ticks $(($(postgres_cpu_ticks) - pg_before)))
  M[sink_cpu]=$(seconds_of_ticks $(($(process_cpu_ticks "$SINK_PID") - sink_ticks_before)))
  M[load_after]=$(loadavg)
  M[received]=$(settled_sink_count "$sink_log")
  M[client_ports]=$(sort -u "$ports_seen" | grep -c . || true)

  stop_worker
  stop_sink
  collect_outbox_figures "$backend" "$kind" "$worker_log"
  encore "$url" outbox status >"$RUN_DIR/$backend-$label-outbox-status.txt" 2>&1 || true
}

# From the outbox and the worker's log, once the worker has stopped.
collect_outbox_figures() {
  local backend=$1 kind=$2 worker_log=$3 row
  local created sent_first sent_last
  row=$(sql "$backend" "$DB_NAME" "SELECT count(*), $(epoch_of "$backend" 'min(created_at)'),
      $(epoch_of "$backend" 'max(created_at)'), $(epoch_of "$backend" 'min(sent_at)'),
      $(epoch_of "$backend" 'max(sent_at)'),
      sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END),
      sum(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END),
      sum(CASE WHEN status IN ('pending', 'sending') THEN 1 ELSE 0 END),
      sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END)
    FROM outbox WHERE kind = '$kind'")
  local rows created_last failed skipped unsent retried
  IFS='|' read -r rows created created_last sent_first sent_last failed skipped unsent retried <<<"$row"
  M[rows]=$rows M[failed]=$failed M[skipped]=$skipped M[unsent]=$unsent M[retried]=$retried
  M[created_first]=$created M[created_last]=$created_last
  M[errors]=$(sql "$backend" "$DB_NAME" "SELECT count(*) || ' × ' || last_error FROM outbox
    WHERE kind = '$kind' AND last_error IS NOT NULL GROUP BY last_error ORDER BY count(*) DESC LIMIT 3")
  if [[ -n $sent_last && -n $created ]]; then
    # From when the emails were queued, or when the worker started if they waited for it (the
    # confirmations, queued at issuance), to the last sent_at. sent_at is per batch: the worker
    # records a whole claimed batch with one timestamp once all of it was sent.
    local began
    began=$(calc '%.6f' "($created > ${M[started]}) ? $created : ${M[started]}")
    M[outbox_seconds]=$(calc '%.2f' "$sent_last - $began")
    M[outbox_rate]=$(calc '%.0f' "${M[sent]} / ($sent_last - $began)")
    M[first_sent_after]=$(calc '%.2f' "$sent_first - ${M[started]}")
    M[last_sent_after]=$(calc '%.2f' "$sent_last - ${M[started]}")
  fi
  # When queuing began (the reminders' created_at, one value for all: the worker takes `now`
  # before its INSERT … SELECT) and when it ended (the worker's "queued reminders" log line).
  if [[ $kind == "$KIND" && -n $created ]]; then
    M[queue_began]=$(calc '%.2f' "$created - ${M[started]}")
    local line stamp
    line=$(sed 's/\x1b\[[0-9;]*m//g' "$worker_log" | grep -m1 "$QUEUED_LINE" || true)
    if [[ -n $line ]]; then
      stamp=$(date -u -d "${line%% *}" +%s.%N)
      M[queue_ended]=$(calc '%.2f' "$stamp - ${M[started]}")
      M[queued_logged]=$(grep -o 'queued=[0-9]*' <<<"$line" | cut -d= -f2)
    fi
  fi
  # Everything the worker logged at warning or above (it logs nothing per email otherwise).
  M[log_problems]=$(sed 's/\x1b\[[0-9;]*m//g' "$worker_log" | grep -cE ' (WARN|ERROR) ' || true)
  M[log_sample]=$(sed 's/\x1b\[[0-9;]*m//g' "$worker_log" | grep -E ' (WARN|ERROR) ' | head -n 3 || true)
}

# Turns M into a table row, notes, and problems.
record_measurement() {
  local backend=$1 kind=$2 label=$3
  local rate="–" duplicates failed=${M[failed]:-0}
  duplicates=$((M[received] - N))
  [[ -n ${M[send_seconds]:-} ]] && rate=$(calc '%.0f' "$N / ${M[send_seconds]}")
  local rss_range="–"
  [[ -n ${M[rss_min_kb]} ]] && rss_range="$(calc '%.0f' "${M[rss_min_kb]} / 1024")–$(calc '%.0f' "${M[rss_max_kb]} / 1024")"

  local figures="${M[send_seconds]:-timeout} | **$rate** | ${M[outbox_rate]:-–} \
| ${M[worker_cpu]:-–} | ${M[peak_rss_mb]:-–} | $rss_range | $failed | ${M[skipped]:-0} | $duplicates |"
  if [[ $kind == "$KIND" ]]; then
    RESULT_ROWS+=("| $backend | $N | ${M[queue_ended]:-–} | $figures")
  else
    CONFIRMATION_ROWS+=("| $backend | $N | $figures")
  fi

  local notes=""
  notes+="### $backend, ${kind}s"$'\n\n'
  if [[ $kind == "$KIND" ]]; then
    notes+="- queuing: the reminders' created_at is +${M[queue_began]:-?} s after the worker was started (when its INSERT … SELECT began); the worker logged \"queued reminders\" (queued=${M[queued_logged]:-?}) at +${M[queue_ended]:-?} s"$'\n'
  fi
  notes+="- sending: first sent_at +${M[first_sent_after]:-?} s, last sent_at +${M[last_sent_after]:-?} s after the worker was started; last sent_at − max(first created_at, worker start) = ${M[outbox_seconds]:-?} s → ${M[outbox_rate]:-?} emails/s"$'\n'
  notes+="- outbox, $kind rows: ${M[rows]:-?} in all, ${M[sent]} sent, ${M[failed]:-?} failed, ${M[skipped]:-?} skipped, ${M[unsent]:-?} still pending/sending, ${M[retried]:-?} needed more than one attempt"$'\n'
  notes+="- sink: received ${M[received]} messages (N = $N)"$'\n'
  notes+="- polls of the outbox: ${M[polls]}, one every $(calc '%.2f' "${M[polls]} > 1 ? ${M[send_seconds]:-$SEND_TIMEOUT} / (${M[polls]} - 1) : 0") s on average (a ${POLL_SECONDS} s pause plus the poll itself)"$'\n'
  notes+="- worker memory: VmRSS sampled with each poll, from start to finish: min $(calc '%.1f' "${M[rss_min_kb]:-0} / 1024") MB, max $(calc '%.1f' "${M[rss_max_kb]:-0} / 1024") MB, last $(calc '%.1f' "${M[rss_last_kb]:-0} / 1024") MB; peak (VmHWM) ${M[peak_rss_mb]:-?} MB"$'\n'
  notes+="- SMTP connections to the sink: at most ${M[connections_max]} open at once; ${M[client_ports]} distinct client ports seen over all samples"$'\n'
  notes+="- CPU during the run: worker ${M[worker_cpu]:-?} s, sink ${M[sink_cpu]} s"
  [[ $backend == postgres ]] && notes+=", all postgres processes ${M[postgres_cpu]} s"
  notes+=$'\n'
  notes+="- load average (1, 5, 15 min): ${M[load_before]} before, ${M[load_after]} after"$'\n'
  notes+="- worker log: ${M[log_problems]} warning/error lines"$'\n'
  if [[ -n ${M[errors]} ]]; then
    notes+="- last_error in the outbox: $(tr '\n' ';' <<<"${M[errors]}")"$'\n'
  fi
  if [[ -n ${M[log_sample]} ]]; then
    notes+=$'\n```\n'"${M[log_sample]}"$'\n```\n'
  fi
  DETAILS+=("$notes")

  # What the service should guarantee, checked; a slow rate is a result, not a problem.
  ((M[sent] >= N)) || problem "$backend $label: ${M[sent]} of $N ${kind}s sent"
  ((failed == 0)) || problem "$backend $label: $failed ${kind}s failed"
  ((${M[skipped]:-0} == 0)) || problem "$backend $label: ${M[skipped]} ${kind}s skipped"
  ((${M[retried]:-0} == 0)) || problem "$backend $label: ${M[retried]} ${kind}s needed a retry"
  ((duplicates <= 0)) || problem "$backend $label: the sink received ${M[received]} messages for $N ${kind}s ($duplicates duplicates)"
  ((duplicates >= 0)) || problem "$backend $label: the sink received only ${M[received]} messages, but $N ${kind}s are marked sent"
  ((M[log_problems] == 0)) || problem "$backend $label: the worker logged ${M[log_problems]} warnings/errors (see $(basename "$RUN_DIR")/$backend-$label-worker.log)"
  if [[ $kind == "$KIND" && -n ${M[queued_logged]:-} && ${M[queued_logged]} != "$N" ]]; then
    problem "$backend: the worker queued ${M[queued_logged]} reminders for $N valid tickets"
  fi
  log "$backend $label: $N in ${M[send_seconds]:-timeout} s → $rate emails/s; worker CPU ${M[worker_cpu]:-?} s, peak RSS ${M[peak_rss_mb]:-?} MB, sink received ${M[received]}"
}

run_backend() {
  local backend=$1
  issue_tickets "$backend"
  set_confirmations_aside "$backend"
  measure_sending "$backend" "$KIND" "$MESSAGES"
  record_measurement "$backend" "$KIND" "$MESSAGES"
  if [[ $CONFIRMATIONS == 1 ]]; then
    restore_confirmations "$backend"
    measure_sending "$backend" confirmation confirmations
    record_measurement "$backend" confirmation confirmations
  fi
  drop_database "$backend"
}

# ---------------------------------------------------------------------------------------------
# Report

write_report() {
  {
    echo "# Encore email benchmark, $STAMP"
    echo
    if [[ $MESSAGES == after_show ]]; then
      echo "Issue 19: the after-show message (a marketing rule to the admitted, with recommendations) for N tickets, queued and sent by \`encore worker\` to a local SMTP sink. The tables below say \"reminders\" for these rule messages."
    else
      echo "Issue 4: pre-show reminders for N tickets, sent by \`encore worker\` to a local SMTP sink."
    fi
    echo "Target: ≥ $TARGET_RATE emails/s."
    echo
    echo "Binary: $BIN, built $(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ)$(describe_source); sink: $SINK_BIN."
    echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), \
$(free -g | awk '/^Mem:/ { print $2 }') GiB; worker, sink and database share them."
    echo "Worker: ENCORE_SMTP_POOL_SIZE=${ENCORE_SMTP_POOL_SIZE:-default (64)}, \
ENCORE_SEND_CONCURRENCY=${ENCORE_SEND_CONCURRENCY:-default (64)}, \
ENCORE_OUTBOX_BATCH_SIZE=${ENCORE_OUTBOX_BATCH_SIZE:-200 (default)}, \
ENCORE_OUTBOX_POLL_MS=${ENCORE_OUTBOX_POLL_MS:-500 (default)}, \
ENCORE_DB_POOL_SIZE=${ENCORE_DB_POOL_SIZE:-8 (default)}; RUST_LOG=warn,encore::email::worker=info."
    echo
    echo "## Issuance"
    echo
    echo "\`encore serve\` with ENCORE_RUN_WORKER=false; bulk requests of $BATCH_SIZE. Each ticket queues a confirmation email."
    echo
    echo "| backend | tickets | requests | curl s (summed) | tickets/s | wall s | confirmations queued |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${ISSUANCE_ROWS[@]}"
    echo
    echo "## Reminders"
    echo
    echo "Confirmations are **not** part of this measurement: before the worker starts, every"
    echo "confirmation is marked sent (\`UPDATE outbox SET status='sent', sent_at=created_at WHERE kind='confirmation'\`),"
    echo "so the worker sees only the reminders it queues itself at start-up."
    echo
    echo "| backend | N | queue time s | send time s | emails/s | emails/s (outbox) | worker CPU s | peak RSS MB | RSS min–max MB | failed | skipped | duplicates |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${RESULT_ROWS[@]}"
    echo
    echo "- queue time: from starting \`encore worker\` to its \"queued reminders\" log line (all N queued, one INSERT … SELECT)."
    echo "- send time: from starting \`encore worker\` until \`count(*) WHERE kind='reminder' AND status='sent'\` reached N,"
    echo "  polled with a $POLL_SECONDS s pause between polls (so up to one poll interval late, see the details); it includes"
    echo "  start-up and queuing. emails/s = N / send time."
    echo "- emails/s (outbox): N / (max(sent_at) − min(created_at)) of the reminders: queuing to the last send, without start-up"
    echo "  (for confirmations, queued long before, from the worker's start). sent_at is one timestamp per claimed batch."
    echo "- worker CPU: utime+stime of the worker process when the last email was seen sent. Peak RSS: its VmHWM."
    echo "  RSS min–max: VmRSS sampled with each poll. duplicates: messages the sink received − N."
    if ((${#CONFIRMATION_ROWS[@]} > 0)); then
      echo
      echo "## Confirmations (separate measurement)"
      echo
      echo "After the reminder run, the N confirmations are put back to pending (as issuance left them), and a"
      echo "fresh worker and sink send them; each renders the ticket's QR code as a PNG."
      echo
      echo "| backend | N | send time s | emails/s | emails/s (outbox) | worker CPU s | peak RSS MB | RSS min–max MB | failed | skipped | duplicates |"
      echo "|---|---|---|---|---|---|---|---|---|---|---|"
      printf '%s\n' "${CONFIRMATION_ROWS[@]}"
    fi
    echo
    echo "## Details"
    echo
    printf '%s\n' "${DETAILS[@]}"
    echo "## Problems"
    echo
    if ((${#PROBLEMS[@]} == 0)); then
      echo "None."
    else
      printf -- '- %s\n' "${PROBLEMS[@]}"
    fi
    echo
    echo "Logs, per-poll samples (seconds, sent, RSS, SMTP connections) and \`encore outbox status\`: ${RUN_DIR#"$REPO"/}/"
  } >"$REPORT"
}

# ---------------------------------------------------------------------------------------------
# Clean-up: whatever happens, stop what was started here (by PID) and drop what was created.

# shellcheck disable=SC2317 # (called by the EXIT trap)
cleanup() {
  local status=$?
  set +e
  trap - ERR
  [[ -n $WORKER_PID ]] && stop_worker
  [[ -n $SINK_PID ]] && stop_sink
  [[ -n $SERVER_PID ]] && stop_server
  discard_work
  exit "$status"
}

main() {
  choose_backends "$BACKENDS_ARG" "bench/email.sh"
  [[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer"
  # set -e stops at the first failing command; say which one (-E: also inside functions).
  trap 'log "error: line $LINENO: $BASH_COMMAND failed"' ERR
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  ensure_tools "${BACKENDS[*]}"
  ensure_binaries
  mkdir -p "$RUN_DIR"
  WORK=$(mktemp -d /tmp/encore-emailbench.XXXXXX)
  log "N=$N, backends: ${BACKENDS[*]}, load average $(loadavg)"

  local backend
  for backend in "${BACKENDS[@]}"; do
    run_backend "$backend"
  done

  write_report
  cat "$REPORT"
  log "report: ${REPORT#"$REPO"/}"
  ((${#PROBLEMS[@]} == 0)) || exit 1
}

# One line, so bash has read it whole before running: editing this file during a run is safe.
main; exit
