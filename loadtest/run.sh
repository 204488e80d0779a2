#!/usr/bin/env bash
# The load test in one command (see loadtest/README.md): gunicorn + PostgreSQL + Redis + a
# Celery worker and beat in production mode, Locust for DURATION seconds with USERS users, then the
# invariant check (capacity, credits spent once, histories, every outbox e-mail sent once).
#
#   loadtest/run.sh                       # the data must exist: generate_load_data first
#   USERS=40 DURATION=150 loadtest/run.sh  # figures go to $OUT (default /tmp/loadrun)
set -euo pipefail
cd "$(dirname "$0")/.."

USERS="${USERS:-40}"
DURATION="${DURATION:-150}"
RATE="${RATE:-2}"
WORKERS="${WORKERS:-4}"
PORT="${PORT:-8811}"
OUT="${OUT:-/tmp/loadrun}"
LOCUST="${LOCUST:-/tmp/locust-venv/bin/locust}"

export DATABASE_URL="${DATABASE_URL:-postgres://root@127.0.0.1:5432/loadtest_scratch}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/5}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-$REDIS_URL}"
export DEBUG=0 SECRET_KEY="${SECRET_KEY:-loadtest-only-0123456789abcdefghijklmnopqrstuvwxyz-0123456789ab}"
export ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=0 STATIC_MANIFEST=0
export EMAIL_URL="filemail://$OUT/mail"
export LOAD_SCALE="${LOAD_SCALE:-1}"

rm -rf "$OUT" && mkdir -p "$OUT/mail"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

# Tasks a previous run left in the queue are not this run's load (the outbox re-sends
# whatever they were for: nothing is lost).
.venv/bin/celery -A config purge -f >/dev/null

# ACCESS_LOG=1: each request's line and its time inside the worker (microseconds) go to
# $OUT/access.log, to tell a request's own cost from the time it waited for a free worker.
access=()
[ "${ACCESS_LOG:-0}" = 1 ] && access=(--access-logfile "$OUT/access.log" --access-logformat '%(m)s %(U)s %(s)s %(D)s')
.venv/bin/python -m gunicorn config.wsgi --bind "127.0.0.1:$PORT" --workers "$WORKERS" \
  --log-level warning "${access[@]}" >"$OUT/gunicorn.log" 2>&1 &
pids+=($!)
.venv/bin/celery -A config worker -l warning -c 1 >"$OUT/worker.log" 2>&1 &
pids+=($!)
.venv/bin/celery -A config beat -l warning -s "$OUT/beat-schedule" >"$OUT/beat.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz/" >/dev/null && break; sleep 0.2; done

"$LOCUST" -f loadtest/locustfile.py --headless -u "$USERS" -r "$RATE" -t "${DURATION}s" \
  -H "http://127.0.0.1:$PORT" --reset-stats --only-summary --csv "$OUT/stats" \
  2>&1 | tee "$OUT/locust.log" | tail -n 40

# The clock's jobs (expiry reminders hourly, the expiry sweep every 15 minutes) can put
# thousands of e-mails in the outbox during a run; the one worker sends them after it.
DRAIN="${DRAIN:-600}"
echo "--- letting the outbox drain (relay every 30 s; up to $DRAIN s) ---"
sleep 35
for _ in $(seq 1 $((DRAIN / 20))); do
  .venv/bin/python manage.py check_invariants --mail-dir "$OUT/mail" --outbox-grace 30 \
    >/dev/null 2>&1 && break
  sleep 20
done
.venv/bin/python manage.py relay_outbox --status
.venv/bin/python manage.py check_invariants --mail-dir "$OUT/mail" --outbox-grace 30
