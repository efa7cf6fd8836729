#!/usr/bin/env bash
# make test: starts a throwaway PostgreSQL cluster, runs the unit and integration tests with the race
# detector against it, and removes the cluster whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d /tmp/aglae-connector-test.XXXXXX)
chmod 755 "$tmp"
cleanup() { scripts/pg.sh destroy "$tmp/pg" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

# Durability is of no use to a throwaway cluster: skip the fsyncs.
export PG_FSYNC=off PG_SYNCHRONOUS_COMMIT=off
AGLAE_TEST_DATABASE_URL=$(scripts/pg.sh start "$tmp/pg")
export AGLAE_TEST_DATABASE_URL

# Four packages at a time on two cores: most of a package's time is spent waiting on PostgreSQL, a JVM
# or a browser, not on the CPU. (go vet runs in make lint.)
go test -race -count=1 -p "${TEST_PACKAGES_PARALLEL:-4}" "${@:-./...}"
