#!/bin/sh
# The image's entrypoint: one role per container, configured from the environment
# (.env.example lists every variable).
set -eu
role="${1:-rasa}"
# One OpenBLAS thread (a spinning second one cost most of a core) and two malloc arenas
# instead of 8 per core (about 100 MB less RSS): docs/benchmark.md, 2026-12-04.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
[ "$#" -gt 0 ] && shift
case "$role" in
  rasa)
    # A message is too small a batch for more TensorFlow threads (docs/benchmark.md).
    export TF_INTER_OP_PARALLELISM_THREADS="${TF_INTER_OP_PARALLELISM_THREADS:-1}"
    export TF_INTRA_OP_PARALLELISM_THREADS="${TF_INTRA_OP_PARALLELISM_THREADS:-1}"
    # endpoints.yml reads these two; the action servers sit behind a service or balancer
    export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:?set ACTION_ENDPOINT_URL, e.g. http://actions:5055/webhook}"
    export TRACKER_STORE_URL="${TRACKER_STORE_URL:?set TRACKER_STORE_URL (PostgreSQL)}"
    exec rasa run --model "${QC_MODEL_PATH:-models/quickconnect.tar.gz}" \
      --endpoints endpoints.yml --credentials credentials.yml \
      --interface 0.0.0.0 --port "${RASA_PORT:-5005}" "$@"
    ;;
  actions)
    exec rasa run actions --actions actions --port "${ACTION_SERVER_PORT:-5055}" "$@"
    ;;
  worker)
    exec python -m quickconnect.outbox run "$@"  # emails, SMS, scheduled jobs; any number
    ;;
  migrate)
    exec python -m quickconnect.db.migrate "$@"  # Alembic to head; run before new servers
    ;;
  seed)
    exec python -m quickconnect.seed "$@"  # migrate and load the demo data (demos only)
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
