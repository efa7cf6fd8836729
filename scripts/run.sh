#!/usr/bin/env bash
# make run: database, migrations, demo data, then the service in the background.
set -euo pipefail
bin=$1 rundir=$2 state=$3 listen=$4 dossiers=$5 metrics=${6:-127.0.0.1:9464}
mkdir -p "$state"

# taken ADDR: whether something accepts TCP connections on ADDR (host:port, [v6]:port).
taken() {
	local host=${1%:*} port=${1##*:}
	host=${host#[}
	host=${host%]}
	[ -z "$host" ] && host=127.0.0.1
	(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# A previous `make run`'s service is ours to replace: stop it and wait for its ports.
if [ -f "$state/serve.pid" ]; then
	old=$(cat "$state/serve.pid")
	kill "$old" 2>/dev/null || true
	rm -f "$state/serve.pid"
	for _ in $(seq 1 50); do
		kill -0 "$old" 2>/dev/null || break
		sleep 0.1
	done
fi

# Anything else on our ports is another process: say which port and how to choose another, rather than
# let the readiness probe below get its answer from that process.
if taken "$listen"; then
	echo "make run: $listen is already in use by another process; choose another address, for example:" >&2
	echo "  make run LISTEN=127.0.0.1:8081" >&2
	exit 1
fi
if taken "$metrics"; then
	echo "make run: the metrics address $metrics is already in use by another process; choose another, for example:" >&2
	echo "  make run METRICS_LISTEN=127.0.0.1:9465" >&2
	exit 1
fi

url=$(scripts/pg.sh start "$rundir")
export DATABASE_URL=$url
"$bin" migrate
# Demo data first, then testdata/, whose expected answers the tests assert.
"$bin" demo --dossiers "$dossiers" | "$bin" import --quiet -
"$bin" import --quiet testdata/extract.jsonl

# A demo API client: the previous one is revoked, a new one created; its secret is shown once, here.
if [ -f "$state/client.json" ]; then
	old=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$state/client.json")
	[ -n "$old" ] && "$bin" clients revoke "$old" >/dev/null 2>&1 || true
fi
(umask 077 && "$bin" clients add --nom "Démo make run" --uai 0781944P --debit 100000 --rafale 100000 --json >"$state/client.json")
id=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$state/client.json")
secret=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$state/client.json")

SPOOL_DIR=$PWD/$state/spool METRICS_LISTEN=$metrics LISTEN_ADDR=$listen nohup "$bin" serve >"$state/serve.log" 2>&1 &
pid=$!
echo $pid >"$state/serve.pid"
base=http://$listen

# Ready means: the process started here is alive, has logged that it listens (so the port is its own),
# and answers /readyz. Another process that took the port meanwhile cannot pass for it.
fail() {
	echo "make run: the service did not start: $*" >&2
	tail -20 "$state/serve.log" >&2
	rm -f "$state/serve.pid"
	kill "$pid" 2>/dev/null || true
	exit 1
}
ready=
for _ in $(seq 1 100); do
	if ! kill -0 "$pid" 2>/dev/null; then
		if grep -q 'address already in use' "$state/serve.log"; then
			fail "an address it needs ($listen or $metrics) is already in use by another process (make run LISTEN=... METRICS_LISTEN=...)"
		fi
		fail "it exited (log: $state/serve.log)"
	fi
	if grep -q '"msg":"listening"' "$state/serve.log" && curl -fsS "$base/readyz" >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 0.2
done
[ -n "$ready" ] || fail "no answer on $base/readyz after 20 s"
kill -0 "$pid" 2>/dev/null || fail "it exited (log: $state/serve.log)"

cat <<MSG

The connector is listening on $base (log: $state/serve.log). Try:

  curl -s -H 'Authorization: Bearer $secret' '$base/v1/boursiers/1111037734L?annee=2014'

  curl -s -H 'Authorization: Bearer $secret' -H 'Content-Type: application/json' \\
    -d '{"identifiant":"2025D12345K","anneeUniversitaire":2025,"nom":"Okonkwo","prenom":"Chiamaka","dateNaissance":"2006-06-06"}' \\
    $base/v1/consultations

  curl -s -u '$id:$secret' -H 'Content-Type: text/xml; charset=utf-8' \\
    --data-binary @testdata/soap/consulterBoursier.xml $base/ws/connecteur

  export DATABASE_URL='$url'
  $bin check 1111037734L --annee 2014

The demo API client is $id (its secret is in $state/client.json). Without credentials, lookups get 401.
WSDL: $base/ws/connecteur?wsdl   OpenAPI: $base/openapi.yaml   Metrics: http://$metrics/metrics
Stop with: make stop
MSG
