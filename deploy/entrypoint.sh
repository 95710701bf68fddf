#!/bin/sh
# The image's entry point: `api`, `worker` or `drw ...` (see deploy/Dockerfile).
set -eu
role="${1:-api}"
[ "$#" -gt 0 ] && shift
case "$role" in
  api) exec node /app/dist/cli/start.js --api-only "$@" ;;
  worker) exec node /app/dist/workers/main.js "$@" ;;
  drw) exec node /app/bin/drw.js "$@" ;;
  *) echo "drw image: unknown role '$role' (api, worker, drw)" >&2; exit 2 ;;
esac
