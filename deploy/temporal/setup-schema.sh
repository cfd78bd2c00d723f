#!/bin/sh
# One-shot before the Temporal server starts (docker-compose.yml, service temporal-schema):
# creates Temporal's two databases in the shared Postgres if missing and brings their schema
# to the version this admin-tools image ships. Every step is idempotent, so it runs on each
# `docker compose up`, and upgrading the image tags upgrades the schema first.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"

sql_tool() { # database, command...
  db=$1
  shift
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" --db "$db" "$@"
}

for schema in temporal:temporal visibility:temporal_visibility; do
  dir=${schema%%:*}
  db=${schema#*:}
  sql_tool "$db" create
  # Version tables and 0.0 on a new database; a no-op on one that is already further.
  sql_tool "$db" setup-schema -v 0.0
  sql_tool "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"
done
echo "Temporal schema is up to date"
