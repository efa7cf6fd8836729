# The two commands: `make run` (a local database with demo data, ready to query) and `make test`.
SHELL := /bin/bash
BIN := bin/aglae-connector
RUNDIR := .pg/run
DEMO_DOSSIERS ?= 20000

.PHONY: all build run stop test clean

all: build

build:
	CGO_ENABLED=0 go build -trimpath -o $(BIN) ./cmd/aglae-connector

## run: start a project-local PostgreSQL (in .pg/, git-ignored), migrate, load demo data and testdata/
run: build
	@url=$$(scripts/pg.sh start $(RUNDIR)) && export DATABASE_URL="$$url" && \
	$(BIN) migrate && \
	$(BIN) demo --dossiers $(DEMO_DOSSIERS) | $(BIN) import --quiet - && \
	$(BIN) import --quiet testdata/extract.jsonl && \
	echo && echo "Database ready. Try:" && \
	echo "  export DATABASE_URL='$$url'" && \
	echo "  $(BIN) check 1111037734L --annee 2014" && \
	echo "  $(BIN) check 2014MON1111037734L --nom Boulet --prenom Amandine --date-naissance 1996-11-28" && \
	echo "Stop the database with: make stop"

## stop: stop the database `make run` started (its data stays in .pg/)
stop:
	@scripts/pg.sh stop $(RUNDIR)

## test: unit and integration tests against a throwaway PostgreSQL, with the race detector
test:
	@scripts/test.sh

clean: stop
	scripts/pg.sh destroy $(RUNDIR)
	rm -rf bin
