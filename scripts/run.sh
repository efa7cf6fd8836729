#!/usr/bin/env bash
# make run: database, migrations, demo data, then the service in the background.
set -euo pipefail
bin=$1 rundir=$2 state=$3 listen=$4 dossiers=$5
mkdir -p "$state"

if [ -f "$state/serve.pid" ]; then
	kill "$(cat "$state/serve.pid")" 2>/dev/null || true
	rm -f "$state/serve.pid"
	sleep 0.5
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

SPOOL_DIR=$PWD/$state/spool METRICS_LISTEN=127.0.0.1:9464 LISTEN_ADDR=$listen nohup "$bin" serve >"$state/serve.log" 2>&1 &
echo $! >"$state/serve.pid"
base=http://$listen
for _ in $(seq 1 50); do
	if curl -fsS "$base/readyz" >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$(cat "$state/serve.pid")" 2>/dev/null; then
		echo "the service did not start:" >&2
		tail -20 "$state/serve.log" >&2
		exit 1
	fi
	sleep 0.2
done
curl -fsS "$base/readyz" >/dev/null

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
WSDL: $base/ws/connecteur?wsdl   OpenAPI: $base/openapi.yaml   Metrics: http://127.0.0.1:9464/metrics
Stop with: make stop
MSG
