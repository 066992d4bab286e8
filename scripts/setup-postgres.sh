#!/usr/bin/env bash
# Installs PostgreSQL's server binaries (initdb, pg_ctl, postgres) and the
# postgres user for the catalog tests (internal/pgtest), on Debian as root,
# only when they are missing. The tests start their own throw-away server;
# nothing is started here.
set -euo pipefail

have_pg() {
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && return 0
  done
  return 1
}
have_user() { [ "$(id -u)" != 0 ] || id postgres >/dev/null 2>&1; }

if have_pg && have_user; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup-postgres.sh: installing postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
elif [ "${CI:-}" = true ]; then
  echo "setup-postgres.sh: PostgreSQL is missing and cannot be installed (not root or no apt-get)" >&2
  exit 1
else
  echo "setup-postgres.sh: PostgreSQL is missing: the catalog tests that need it will be skipped" >&2
  exit 0
fi
if [ "${CI:-}" = true ] && ! { have_pg && have_user; }; then
  echo "setup-postgres.sh: PostgreSQL is still missing after the install" >&2
  exit 1
fi
