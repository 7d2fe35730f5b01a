#!/usr/bin/env bash
# `make ui`: the Dagster UI on 127.0.0.1:3000 over the same instance and lake as `make demo`,
# with the sample site served on 127.0.0.1:8765 so the crawl schedule and job have a site to crawl.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DAGSTER_HOME:=$PWD/.dagster_home}"
export DAGSTER_HOME
# The project's instance config (run queue, per-batch run limit, run monitoring, no telemetry), created
# and migrated once before the webserver and daemon open it.
.venv/bin/python -c 'from resources.instance import prepare_instance; prepare_instance()' >/dev/null
# telemetry and the "Join the community" dialog off (goldpan/instance.py); runs killed since the last
# start are marked failed (assets/recovery.py); the crawl schedule may reach the sample site on 127.0.0.1
.venv/bin/python -m goldpan.instance "$DAGSTER_HOME" >/dev/null
.venv/bin/python -m assets.recovery
export GOLDPAN_ALLOW_PRIVATE="${GOLDPAN_ALLOW_PRIVATE:-1}"

.venv/bin/python -m sample.server --port 8765 &
site=$!
trap 'kill "$site" 2>/dev/null || true' EXIT

echo "Dagster UI: http://127.0.0.1:3000  (lake: ${GOLDPAN_LAKE:-lake}, instance: $DAGSTER_HOME)"
# `dagster dev` started from a script inherits an ignored SIGINT and then ignores SIGTERM too;
# restore the default handler so Ctrl-C (and SIGTERM) stop it.
.venv/bin/python -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
  .venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000
