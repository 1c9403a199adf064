#!/bin/sh
# The image's entry point. `serve` (the default): gunicorn with gunicorn.conf.py on
# $HOST:$PORT (0.0.0.0:5000), after migrating when PARLOR_MIGRATE_ON_START=1.
# `migrate`: the database migrations, then the built-in roles, environment vendors and first
# admin (`flask bootstrap`), then exit. Anything else runs as given.
set -eu

# A configuration production cannot start with (a missing secret) is said at once, in a line.
check_config() {
    python3 -c 'import sys, config
try:
    config.load_config()
except config.ConfigError as exc:
    sys.exit(f"parlor-entrypoint: {exc}")'
}

migrate() {
    check_config
    # In a stack the database may still be starting: keep trying for up to a minute.
    tries=30
    until flask --app run db upgrade; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ]; then
            echo "parlor-entrypoint: the migrations did not run (is the database reachable?)" >&2
            exit 1
        fi
        echo "parlor-entrypoint: retrying the migrations in 2 s" >&2
        sleep 2
    done
    flask --app run bootstrap
}

command="${1:-serve}"
case "$command" in
    serve)
        check_config
        case "${PARLOR_MIGRATE_ON_START:-0}" in
            1 | true | yes | on) migrate ;;
        esac
        exec gunicorn --config gunicorn.conf.py --bind "${HOST:-0.0.0.0}:${PORT:-5000}"
        ;;
    migrate)
        migrate
        ;;
    *)
        exec "$@"
        ;;
esac
