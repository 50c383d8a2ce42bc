#!/usr/bin/env bash
# Start the local PostgreSQL 15 cluster when it is installed and not running, and make sure
# the test role and database exist. Tests read ADVIES_TEST_PG_URL (default below).
set -euo pipefail
command -v pg_ctlcluster >/dev/null 2>&1 || { echo "pg_ctlcluster ontbreekt"; exit 1; }
if ! pg_lsclusters --no-header 2>/dev/null | grep -q "^15 *main .*online"; then
  pg_ctlcluster --skip-systemctl-redirect 15 main start
fi
for _ in $(seq 1 30); do
  su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
  sleep 0.5
done
su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='advies'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"create role advies login superuser password 'advies'\""
su postgres -c "psql -qtAc \"select 1 from pg_database where datname='advies_test'\"" | grep -q 1 ||
  su postgres -c "createdb -O advies advies_test"
echo "PostgreSQL draait (advies_test)."
