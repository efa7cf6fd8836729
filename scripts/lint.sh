#!/usr/bin/env bash
# make lint: go vet and staticcheck on the Go code, and the OpenAPI description linted by an independent linter
# (Redocly's recommended rules). Redocly's CLI is installed from npm, at a pinned version, into a cache
# folder outside the checkout the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

go vet ./...
go tool staticcheck ./...

redocly_version=2.77.0
tools=${XDG_CACHE_HOME:-$HOME/.cache}/aglae-connector/redocly-$redocly_version
if [ ! -x "$tools/node_modules/.bin/redocly" ]; then
	command -v npm >/dev/null || { echo "lint.sh: npm is needed to install Redocly's CLI" >&2; exit 1; }
	mkdir -p "$tools"
	npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "@redocly/cli@$redocly_version" >&2
fi
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$tools/node_modules/.bin/redocly" lint api/openapi.yaml
