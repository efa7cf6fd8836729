#!/usr/bin/env bash
# make fuzz: runs every fuzz target of the module, one at a time, each for ${FUZZTIME:-60s}.
#
#   scripts/fuzz.sh [PACKAGES...]     default ./...
#
#   FUZZTIME=10s scripts/fuzz.sh      shorter (or FUZZTIME=100000x: a number of inputs)
#   FUZZ_PARALLEL=2 scripts/fuzz.sh   fuzzing workers (default: GOMAXPROCS, i.e. every CPU)
#   FUZZ_MATCH=Lecteur scripts/fuzz.sh   only the targets whose name matches this regular expression
#
# The targets are found with `go test -list`, so a new Fuzz function is picked up without editing
# this script. Each runs alone (`go test -fuzz` takes one target of one package at a time) and the
# script goes on after a failure, so that one run reports every target. It exits 1 when any target
# failed: a crasher is then written under the package's testdata/fuzz/FuzzName/, which `go test` replays
# as part of the seed corpus from then on. Fix the bug, and commit that file with the fix.
# The inputs that merely widened coverage stay in Go's cache ($(go env GOCACHE)/fuzz), not in the tree.
#
# Some targets fuzz through a real PostgreSQL (rest's FuzzConsultationBody): like `make test`, the script
# starts a throwaway cluster unless AGLAE_TEST_DATABASE_URL is set already, and removes it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${AGLAE_TEST_DATABASE_URL:-}" ]; then
	tmp=$(mktemp -d /tmp/aglae-connector-fuzz.XXXXXX)
	chmod 755 "$tmp"
	cleanup() { scripts/pg.sh destroy "$tmp/pg" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
	trap cleanup EXIT INT TERM
	AGLAE_TEST_DATABASE_URL=$(PG_FSYNC=off PG_SYNCHRONOUS_COMMIT=off scripts/pg.sh start "$tmp/pg")
	export AGLAE_TEST_DATABASE_URL
fi

fuzztime=${FUZZTIME:-60s}
match=${FUZZ_MATCH:-.}
parallel=()
[ -n "${FUZZ_PARALLEL:-}" ] && parallel=(-parallel "$FUZZ_PARALLEL")
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)

log() { echo "fuzz.sh: $*" >&2; }

# `go test -list` prints each package's matching names, then a line "ok  <package> <time>". A package
# whose tests do not build is reported, and the script fuzzes the others, then fails.
failed=()
if ! list=$(go test -list '^Fuzz' "${pkgs[@]}" 2>&1); then
	log "go test -list failed: some tests do not build"
	grep -v '^\(ok\|?\|Fuzz\)' <<<"$list" >&2 || true
	failed+=("go test -list")
fi
targets=()
names=()
while IFS= read -r line; do
	case "$line" in
	Fuzz*) names+=("$line") ;;
	ok*)
		pkg=$(awk '{print $2}' <<<"$line")
		for n in "${names[@]}"; do
			[[ $n =~ $match ]] && targets+=("$pkg $n")
		done
		names=()
		;;
	FAIL* | '?'*) names=() ;;
	esac
done <<<"$list"

if [ ${#targets[@]} -eq 0 ]; then
	log "no fuzz target found in ${pkgs[*]}"
	exit 1
fi
log "${#targets[@]} targets, ${fuzztime} each"

before=$(git status --porcelain --untracked-files=all -- '*/testdata/fuzz/*' 2>/dev/null || true)
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	log "$name ($pkg)"
	if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "${parallel[@]}" "$pkg"; then
		failed+=("$name ($pkg)")
	fi
done

after=$(git status --porcelain --untracked-files=all -- '*/testdata/fuzz/*' 2>/dev/null || true)
if [ "$before" != "$after" ]; then
	log "new or changed seed corpus files (the failing inputs):"
	diff <(echo "$before") <(echo "$after") | sed -n 's/^> /  /p' >&2 || true
fi
if [ ${#failed[@]} -gt 0 ]; then
	log "FAILED: ${failed[*]}"
	log "replay one with: go test -run 'FuzzName/FILE' PACKAGE"
	exit 1
fi
log "every target ran ${fuzztime} without a failure"
