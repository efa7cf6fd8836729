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

LISTEN_ADDR=$listen nohup "$bin" serve >"$state/serve.log" 2>&1 &
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

  curl -s $base/v1/boursiers/1111037734L?annee=2014

  curl -s -H 'Content-Type: application/json' \\
    -d '{"identifiant":"2025D12345K","anneeUniversitaire":2025,"nom":"Okonkwo","prenom":"Chiamaka","dateNaissance":"2006-06-06"}' \\
    $base/v1/consultations

  curl -s -H 'Content-Type: text/xml; charset=utf-8' --data-binary @testdata/soap/consulterBoursier.xml $base/ws/connecteur

  export DATABASE_URL='$url'
  $bin check 1111037734L --annee 2014

WSDL: $base/ws/connecteur?wsdl   OpenAPI: $base/openapi.yaml
Stop with: make stop
MSG
