#!/usr/bin/env bash
# A throwaway or project-local PostgreSQL cluster, for `make run` and `make test`.
#
#   scripts/pg.sh start DIR   create (once) and start a cluster whose data and unix socket live in DIR;
#                             prints the DATABASE_URL of its `aglae` database on stdout
#   scripts/pg.sh url DIR     prints that URL
#   scripts/pg.sh stop DIR    stops it (data kept)
#   scripts/pg.sh destroy DIR stops it and removes DIR
#
# It installs Debian's postgresql package when the server binaries are missing. PostgreSQL refuses to run
# as root: as root the server runs as the `postgres` system user, and DIR must then be somewhere that user
# can reach (callers pass a folder under a temporary directory, see the Makefile). The cluster listens on
# its unix socket only (no TCP port), with trust authentication: nothing else on the machine can reach it
# but local users, and no password is asked.
set -euo pipefail

cmd=${1:?usage: pg.sh start|url|stop|destroy DIR}
dir=${2:?usage: pg.sh start|url|stop|destroy DIR}
port=${PGPORT_LOCAL:-5432}

log() { echo "pg.sh: $*" >&2; }

bindir() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
	done
	if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
		pg_config --bindir
		return 0
	fi
	return 1
}

ensure_server() {
	if ! bindir >/dev/null; then
		log "PostgreSQL server binaries not found: installing Debian's postgresql package"
		if [ "$(id -u)" -ne 0 ]; then
			log "run as root, or install the postgresql package yourself"
			exit 1
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq postgresql >&2
	fi
}

# as_owner runs a command as the cluster's owner: postgres when we are root, ourselves otherwise.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@") # from a folder postgres can enter
	else
		"$@"
	fi
}

# resolve sets dir to a folder the server's owner can reach. As root, a DIR inside a folder private to root
# (a checkout under /root) is a symbolic link to a folder under /tmp named after DIR.
resolve() {
	mkdir -p "$(dirname "$dir")"
	dir=$(cd "$(dirname "$dir")" && pwd)/$(basename "$dir")
	if [ -L "$dir" ]; then
		dir=$(readlink -f "$dir")
		return
	fi
	if [ "$(id -u)" -eq 0 ] && [ "${1:-}" = create ]; then
		local parent
		parent=$(dirname "$dir")
		mkdir -p "$parent"
		if ! (cd / && runuser -u postgres -- test -x "$parent"); then
			local real
			real=/tmp/aglae-connector-pg-$(echo "$(cd "$parent" && pwd)/$(basename "$dir")" | cksum | cut -d' ' -f1)
			mkdir -p "$real"
			ln -sfn "$real" "$dir"
			dir=$real
		fi
	fi
}

url() {
	echo "postgres://postgres@/aglae?host=$dir&port=$port&sslmode=disable"
}

start() {
	ensure_server
	resolve create
	local bin
	bin=$(bindir)
	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
		if ! (cd / && runuser -u postgres -- test -w "$dir"); then
			log "the postgres user cannot write to $dir (is a parent folder private to root?)"
			exit 1
		fi
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; exit 1; }
		cat >>"$dir/data/postgresql.conf" <<-EOF
			listen_addresses = ''
			unix_socket_directories = '$dir'
			port = $port
			max_connections = 200
			shared_buffers = 256MB
			fsync = ${PG_FSYNC:-on}
			synchronous_commit = ${PG_SYNCHRONOUS_COMMIT:-on}
			full_page_writes = ${PG_FSYNC:-on}
			log_min_messages = warning
		EOF
	fi
	if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
			{ cat "$dir/server.log" >&2; exit 1; }
	fi
	if ! as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -Atqc \
		"SELECT 1 FROM pg_database WHERE datname = 'aglae'" | grep -q 1; then
		as_owner "$bin/createdb" -h "$dir" -p "$port" -U postgres aglae
	fi
	url
}

stop() {
	local bin
	bin=$(bindir) || return 0
	if [ -f "$dir/data/PG_VERSION" ]; then
		as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

case "$cmd" in
start) start ;;
url)
	resolve
	url
	;;
stop)
	resolve
	stop
	;;
destroy)
	link=$dir
	resolve
	stop
	rm -rf "$dir"
	if [ -L "$link" ]; then rm -f "$link"; fi
	;;
*)
	log "unknown command $cmd"
	exit 2
	;;
esac
