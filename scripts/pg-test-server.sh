#!/usr/bin/env bash
# A throwaway PostgreSQL server for certplan's tests, in a temporary directory.
#
#   eval "$(scripts/pg-test-server.sh start)"   # prints the exports below
#   go test ./...                               # the PostgreSQL tests now run
#   scripts/pg-test-server.sh stop "$CERTPLAN_TEST_POSTGRES_DIR"
#
# start: initdb into a new temporary directory (as the postgres user when run as
# root: initdb refuses root), listen on 127.0.0.1 on a free port and on a socket
# inside that directory, and print shell exports:
#   CERTPLAN_TEST_POSTGRES      postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
#   CERTPLAN_TEST_POSTGRES_DIR  the directory, for stop
# Loopback connections are trusted (no password), except for members of the
# role certplan_password_auth, which must give a password (scram-sha-256):
# tests create such roles to check authentication failures and that a
# password never leaks. The server has no TLS, so sslmode=require fails.
#
# stop DIR: stop the server and remove DIR.
# down DIR / up DIR: stop the server at once (as a crash would) / start it
# again on the same port, keeping its data: for tests of a server restart.
#
# PG_BIN overrides the directory of initdb and pg_ctl (default: the newest
# /usr/lib/postgresql/*/bin, else $PATH). Nothing is downloaded; on Debian:
# apt-get install -y postgresql.
set -euo pipefail

pg_bin() {
	if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$d" ]; then echo "$d"; return; fi
	d=$(command -v initdb 2>/dev/null || true)
	if [ -n "$d" ]; then dirname "$d"; return; fi
	echo "pg-test-server: no PostgreSQL found (initdb): apt-get install -y postgresql, or set PG_BIN" >&2
	exit 1
}

# as_owner runs a command as the server's owner: postgres when we are root.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

start() {
	local bin dir port
	bin=$(pg_bin)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/certplan-pg.XXXXXX")
	chmod 0755 "$dir"
	if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
	as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	cat >"$dir/data/pg_hba.conf" <<'EOF'
# certplan test server: loopback only.
local all all                                  trust
host  all +certplan_password_auth 127.0.0.1/32 scram-sha-256
host  all +certplan_password_auth ::1/128      scram-sha-256
host  all all                     127.0.0.1/32 trust
host  all all                     ::1/128      trust
EOF
	# A free port: try a few at random until the server starts on one.
	local tries=0
	while :; do
		port=$((20000 + RANDOM % 40000))
		if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=200" start >/dev/null 2>&1; then
			break
		fi
		tries=$((tries + 1))
		if [ $tries -ge 10 ]; then
			echo "pg-test-server: the server did not start; its log:" >&2
			cat "$dir/server.log" >&2 || true
			exit 1
		fi
	done
	echo "$port" >"$dir/port"
	as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
		-c "CREATE ROLE certplan_password_auth NOLOGIN" >/dev/null
	echo "export CERTPLAN_TEST_POSTGRES='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
	echo "export CERTPLAN_TEST_POSTGRES_DIR='$dir'"
}

stop() {
	local dir=${1:-${CERTPLAN_TEST_POSTGRES_DIR:-}}
	if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
		echo "pg-test-server: stop DIR: no server directory given (CERTPLAN_TEST_POSTGRES_DIR)" >&2
		exit 1
	fi
	as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}

down() {
	as_owner "$(pg_bin)/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null
}

up() {
	local port
	port=$(cat "$1/port")
	as_owner "$(pg_bin)/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $1 -c fsync=on -c max_connections=200" start >/dev/null
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
down) down "${2:?usage: $0 down DIR}" ;;
up) up "${2:?usage: $0 up DIR}" ;;
*)
	echo "usage: $0 start | stop DIR | down DIR | up DIR" >&2
	exit 2
	;;
esac
