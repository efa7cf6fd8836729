# The two commands: `make run` (the service on localhost:8080 over demo data) and `make test`.
SHELL := /bin/bash
BIN := bin/aglae-connector
RUNDIR := .pg/run
STATE := .run
LISTEN ?= 127.0.0.1:8080
METRICS_LISTEN ?= 127.0.0.1:9464
DEMO_DOSSIERS ?= 20000

FUZZTIME ?= 60s
SOAK_DURATION ?= 10m
SOAK_RATE ?= 1000

.PHONY: all build run stop test lint test-resilience fuzz bench bench-saison soak generate check-generated clean

all: build

build:
	CGO_ENABLED=0 go build -trimpath -o $(BIN) ./cmd/aglae-connector

## run: a project-local PostgreSQL (data in .pg/, git-ignored), migrated and loaded with demo data and
## testdata/, and the service listening on $(LISTEN) in the background (log in .run/serve.log); it exits
## non-zero, naming the port, when $(LISTEN) or $(METRICS_LISTEN) is taken by another process
run: build
	@scripts/run.sh $(BIN) $(RUNDIR) $(STATE) $(LISTEN) $(DEMO_DOSSIERS) $(METRICS_LISTEN)

## stop: stop the service and the database `make run` started (the data stays in .pg/)
stop:
	@if [ -f $(STATE)/serve.pid ]; then kill $$(cat $(STATE)/serve.pid) 2>/dev/null || true; rm -f $(STATE)/serve.pid; fi
	@scripts/pg.sh stop $(RUNDIR)

## test: unit and integration tests against a throwaway PostgreSQL, with the race detector
test:
	@scripts/test.sh

## lint: go vet and staticcheck on the Go code, and the OpenAPI description through Redocly's recommended rules
lint:
	@scripts/lint.sh

## test-resilience: database outage and restart, SIGTERM and burst under load, read replicas, hostile
## clients beside a well-behaved one (real PostgreSQL clusters of their own)
test-resilience:
	@scripts/test.sh -tags resilience -run 'TestDatabaseOutageUnderLoad|TestRestartCostsNoLookup|TestSIGTERMUnderLoad|TestBurstIsShed|TestReadReplicas|TestHostileLoad' -v ./cmd/aglae-connector/

## fuzz: every fuzz target of the module for $(FUZZTIME) each; a crasher lands in the package's testdata/fuzz/ (fix it and commit it)
fuzz:
	@FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## bench: the load harness (cmd/bench) on a throwaway PostgreSQL: the import, the HTTP and database
## ceilings, REST, SOAP and the batch re-check; prints the figures and writes bench-results.json
## (smaller: make bench BENCH_FLAGS='--dossiers 20000 --duration 3s --recheck 20000')
bench:
	go build -o bin/bench ./cmd/bench
	bin/bench $(BENCH_FLAGS)

## bench-saison: a national season on a throwaway PostgreSQL (cmd/bench saison): 1,000,000 dossiers,
## 80 establishments, 5,000,000 consultations over 120 days through the journal, 120 nightly imports each
## followed by the re-check, the retention purge; prints the log's size, the follow-up and control-list
## p95, the re-check and purge times, and writes bench-saison-results.json
## (smaller: make bench-saison BENCH_SAISON_FLAGS='--dossiers 100000 --consultations 500000')
bench-saison:
	go build -o bin/bench ./cmd/bench
	bin/bench saison $(BENCH_SAISON_FLAGS)

## soak: REST and SOAP lookups open-loop at $(SOAK_RATE)/s, twice a national peak of 500/s, for
## $(SOAK_DURATION): errors and lost consultations must be 0; writes soak-results.json
soak:
	go build -o bin/bench ./cmd/bench
	bin/bench --soak $(SOAK_DURATION) --rate $(SOAK_RATE) $(BENCH_FLAGS)

## generate: regenerate the Go types of the WSDL with gowsdl
generate:
	go tool gowsdl -d internal/soap -p wsconnecteur -o connecteur.go wsdl/connecteur.wsdl
	go build ./internal/soap/...

## check-generated: fail when regenerating would change the committed code
check-generated: generate
	@git diff --exit-code -- internal/soap/wsconnecteur || { echo "generated code is stale: run make generate and commit" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- internal/soap/wsconnecteur)" || { echo "make generate created files that are not committed" >&2; exit 1; }

clean: stop
	scripts/pg.sh destroy $(RUNDIR)
	rm -rf bin $(STATE)
