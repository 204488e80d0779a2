#!/usr/bin/env bash
# The CSV upload benchmark in one command (see loadtest/bench_import.py): gunicorn with two
# sync workers and the default 30 s timeout (as in the security probe), a Celery worker,
# PostgreSQL and Redis, the demo data; then both probe files are uploaded twice at once and
# each request is timed. FOLLOW=1 also follows the 50,000-row check until the worker is done;
# CONFIRM=1 (with FOLLOW=1) then confirms it and follows the import.
#
#   createdb -h 127.0.0.1 -U root bench_import   # once
#   loadtest/bench_import.sh                      # logs in $OUT (default /tmp/bench-import)
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8812}"
OUT="${OUT:-/tmp/bench-import}"
export DATABASE_URL="${DATABASE_URL:-postgres://root@127.0.0.1:5432/bench_import}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/6}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-$REDIS_URL}"
export DEBUG=0 SECRET_KEY="${SECRET_KEY:-bench-only-0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcd}"
export ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=0 STATIC_MANIFEST=0
export EMAIL_URL="filemail://$OUT/mail"

rm -rf "$OUT" && mkdir -p "$OUT/mail"
.venv/bin/python manage.py migrate --noinput >"$OUT/migrate.log"
.venv/bin/python manage.py seed_demo >"$OUT/seed.log" 2>&1 || true  # already there: fine

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
.venv/bin/python -m gunicorn makeup.wsgi --bind "127.0.0.1:$PORT" --workers 2 --timeout 30 \
  --log-level warning >"$OUT/gunicorn.log" 2>&1 &
pids+=($!)
.venv/bin/celery -A makeup worker -l warning -c 1 >"$OUT/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz/" >/dev/null && break; sleep 0.2; done

.venv/bin/python loadtest/bench_import.py --url "http://127.0.0.1:$PORT" ${FOLLOW:+--follow} ${CONFIRM:+--confirm}
status=$?
grep -i "timeout\|killed" "$OUT/gunicorn.log" || echo "gunicorn: no worker timeout"
exit $status
