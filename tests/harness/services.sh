# shellcheck shell=bash
# Service harness: throwaway PostgreSQL 15, Redis 7 and HTTP test doubles
# (Vault, ...) on loopback, each in a temporary folder and on a port of its
# own, for integration tests and the demo.  Source this file, then:
#
#   harness_init                 temp folder $HARNESS_DIR + EXIT/INT/TERM trap
#   harness_on_exit 'CMD'        run CMD at cleanup (before services stop)
#   harness_free_port            print a free loopback TCP port, reserved
#                                until cleanup (safe under ctest -j)
#   start_postgres / stop_postgres
#       exports PGHOST=127.0.0.1 PGPORT PGUSER=postgres PG_BIN PG_DATA_DIR
#       PG_SOCKET_DIR PG_PID PG_ADMIN_USER=drctl_admin PG_ADMIN_PASSWORD_FILE
#       (user postgres: trust; every other role: scram-sha-256 over TCP).
#       A second cluster (a drill's scratch server): save those variables,
#       `unset PG_PID; start_postgres`; it gets a folder of its own and the
#       harness stops both at the end.
#   start_redis [ARGS] / stop_redis
#       exports REDIS_PORT REDIS_URL REDIS_PID
#   start_pushgateway / stop_pushgateway
#       a Prometheus Pushgateway (Debian's prometheus-pushgateway); exports
#       PUSHGATEWAY_URL PUSHGATEWAY_PORT PUSHGATEWAY_PID PUSHGATEWAY_DIR
#       (its persistence file and log are in that folder)
#   harness_track_pid PID        stop PID (TERM, then KILL) at cleanup
#   start_double NAME [--tls|--mtls] [ARGS] / stop_double NAME|PID
#       an HTTP test double (tests/doubles/NAME) on a free port; exports
#       NAME_DOUBLE_URL, _PORT, _PID, _ADMIN ... (see doubles.sh), and for
#       the Vault double VAULT_ADDR, VAULT_TOKEN (start_vault_double, ...),
#       for the S3 double AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ... (start_s3_double)
#   start_s3rver [BUCKET] / stop_s3rver
#       s3rver (npm, an independent S3 implementation); exports S3RVER_URL ...
#
# Cleanup runs on exit, also on failure or a signal; a watchdog started by
# harness_init does it too if the owning shell is killed with SIGKILL.
# Works with `set -euo pipefail` callers.  As root, PostgreSQL runs as the
# postgres user (it refuses root); otherwise as the current user.

_HARNESS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_HARNESS_LIB_FILE="$_HARNESS_LIB_DIR/$(basename "${BASH_SOURCE[0]}")"
# Shared by every harness user on the machine: one folder per reserved port.
HARNESS_PORT_LOCKS=${HARNESS_PORT_LOCKS:-/tmp/drctl-harness-ports}
HARNESS_PORT_MIN=${HARNESS_PORT_MIN:-20000}
HARNESS_PORT_MAX=${HARNESS_PORT_MAX:-32000} # below Linux's ephemeral range

_harness_log() { printf 'harness: %s\n' "$*" >&2; }
_harness_die() {
	_harness_log "ERROR: $*"
	return 1
}

harness_init() {
	# Idempotent within one shell; a subshell gets a harness of its own.
	if [ -n "${HARNESS_DIR:-}" ] && [ "${_HARNESS_OWNER:-}" = "$BASHPID" ] && [ -d "$HARNESS_DIR" ]; then
		return 0
	fi
	local base=${TMPDIR:-/tmp}
	HARNESS_DIR=$(mktemp -d "$base/drctl-harness.XXXXXX") || return 1
	chmod 0755 "$HARNESS_DIR"
	if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 &&
		! runuser -u postgres -- test -x "$HARNESS_DIR" 2>/dev/null; then
		# The postgres user cannot reach $TMPDIR: fall back to /tmp.
		rmdir "$HARNESS_DIR"
		HARNESS_DIR=$(mktemp -d /tmp/drctl-harness.XXXXXX) || return 1
		chmod 0755 "$HARNESS_DIR"
	fi
	_HARNESS_OWNER=$BASHPID
	_HARNESS_ON_EXIT=()
	_HARNESS_DONE=0
	unset PG_PID REDIS_PID
	: >"$HARNESS_DIR/.pids"
	: >"$HARNESS_DIR/.ports"

	# Keep an EXIT trap the caller set before us: it runs as an on-exit hook.
	local prev
	prev=$(trap -p EXIT)
	if [ -n "$prev" ]; then
		prev=$(eval "_harness_arg3 $prev") # trap -- 'CMD' EXIT
		[ "$prev" = _harness_exit ] || _HARNESS_ON_EXIT+=("$prev")
	fi
	trap _harness_exit EXIT
	trap '_harness_signal 130' INT
	trap '_harness_signal 143' TERM
	trap '_harness_signal 129' HUP

	local owner=$BASHPID # ($BASHPID inside `cmd &` would be the child's)
	# shellcheck disable=SC2016 # expanded by the watchdog shell
	# Watchdog in its own session: if this shell dies without running its
	# trap (SIGKILL, e.g. a ctest timeout), stop what it started.
	setsid bash -c '
		owner=$1 dir=$2 lib=$3
		while kill -0 "$owner" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done
		if [ -d "$dir" ]; then source "$lib"; _harness_reap "$dir"; fi
	' harness-watchdog "$owner" "$HARNESS_DIR" "$_HARNESS_LIB_FILE" </dev/null >/dev/null 2>&1 &
	_HARNESS_WATCHDOG=$!
	return 0
}

_harness_arg3() { printf '%s' "$3"; }

harness_on_exit() {
	_HARNESS_ON_EXIT+=("$*")
}

harness_track_pid() {
	echo "$1" >>"$HARNESS_DIR/.pids"
}

_harness_signal() {
	_harness_cleanup
	trap - EXIT
	exit "$1"
}

_harness_exit() {
	local rc=$?
	_harness_cleanup
	return $rc
}

_harness_cleanup() {
	[ "${_HARNESS_OWNER:-}" = "$BASHPID" ] || return 0
	[ "${_HARNESS_DONE:-1}" = 0 ] || return 0
	_HARNESS_DONE=1
	set +e # the shell is exiting; finish the cleanup whatever fails
	local i
	# Caller hooks, last registered first.  Errors do not stop the cleanup.
	for ((i = ${#_HARNESS_ON_EXIT[@]} - 1; i >= 0; i--)); do
		(eval "${_HARNESS_ON_EXIT[$i]}") || _harness_log "on-exit hook failed: ${_HARNESS_ON_EXIT[$i]}"
	done
	if [ -n "${_HARNESS_WATCHDOG:-}" ]; then
		kill "$_HARNESS_WATCHDOG" 2>/dev/null || true
		wait "$_HARNESS_WATCHDOG" 2>/dev/null || true
	fi
	if [ -n "${HARNESS_DIR:-}" ] && [ -d "$HARNESS_DIR" ]; then
		_harness_reap "$HARNESS_DIR"
	fi
	# Reap our own children quietly.
	if [ -n "${REDIS_PID:-}" ]; then wait "$REDIS_PID" 2>/dev/null; fi
	return 0
}

# Wait up to $2 tenths of a second for process $1 to be gone.
_harness_wait_gone() {
	local pid=$1 n=${2:-100}
	while kill -0 "$pid" 2>/dev/null && [ "$n" -gt 0 ]; do
		# A zombie child of ours counts as gone.
		[ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	! kill -0 "$pid" 2>/dev/null || [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ]
}

_harness_stop_pid() {
	local pid=$1 sig=${2:-TERM}
	kill -0 "$pid" 2>/dev/null || return 0
	kill -"$sig" "$pid" 2>/dev/null || true
	if ! _harness_wait_gone "$pid" 150; then
		_harness_log "process $pid did not stop on SIG$sig; killing it"
		kill -KILL "$pid" 2>/dev/null || true
		_harness_wait_gone "$pid" 50 || true
	fi
}

# Stop everything recorded in a harness folder and remove it.  Used by the
# trap and by the watchdog (which has only the folder to go by).
_harness_reap() {
	local dir=$1 pid port
	local pgdir
	for pgdir in "$dir"/pg "$dir"/pg[0-9]*; do
		[ -d "$pgdir" ] && _harness_stop_pg_dir "$pgdir" 2>/dev/null
	done
	if [ -f "$dir/.pids" ]; then
		while read -r pid; do
			[ -n "$pid" ] && _harness_stop_pid "$pid" TERM
		done < <(tac "$dir/.pids")
	fi
	if [ -f "$dir/.ports" ]; then
		while read -r port; do
			[ -n "$port" ] && rm -rf "${HARNESS_PORT_LOCKS:?}/$port"
		done <"$dir/.ports"
	fi
	rm -rf "$dir"
}

# ---------------------------------------------------------------- ports

# A port is taken if any TCP socket (v4 or v6, any state) uses it locally.
_harness_port_in_use() {
	local hex
	hex=$(printf ':%04X ' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{print $2" "}' | grep -qF "$hex"
}

harness_free_port() {
	[ -n "${HARNESS_DIR:-}" ] || { _harness_die "harness_free_port: call harness_init first"; return 1; }
	mkdir -p "$HARNESS_PORT_LOCKS" 2>/dev/null
	chmod 1777 "$HARNESS_PORT_LOCKS" 2>/dev/null || true
	local tries port owner span=$((HARNESS_PORT_MAX - HARNESS_PORT_MIN))
	for ((tries = 0; tries < 200; tries++)); do
		port=$((HARNESS_PORT_MIN + (RANDOM * 32768 + RANDOM) % span))
		# Reserve first (mkdir is atomic), then check nobody listens there.
		if ! mkdir "$HARNESS_PORT_LOCKS/$port" 2>/dev/null; then
			owner=$(cat "$HARNESS_PORT_LOCKS/$port/owner" 2>/dev/null || true)
			# Stale reservation of a harness that is gone: take it over.
			if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
				rm -rf "${HARNESS_PORT_LOCKS:?}/$port"
			fi
			continue
		fi
		echo "$_HARNESS_OWNER" >"$HARNESS_PORT_LOCKS/$port/owner"
		if _harness_port_in_use "$port"; then
			rm -rf "${HARNESS_PORT_LOCKS:?}/$port"
			continue
		fi
		echo "$port" >>"$HARNESS_DIR/.ports"
		echo "$port"
		return 0
	done
	_harness_die "no free port found in $HARNESS_PORT_MIN-$HARNESS_PORT_MAX"
}

_harness_release_port() {
	rm -rf "${HARNESS_PORT_LOCKS:?}/$1"
	[ -f "$HARNESS_DIR/.ports" ] && sed -i "/^$1\$/d" "$HARNESS_DIR/.ports"
	return 0
}

# ---------------------------------------------------------------- servers

# _harness_serve WHAT LOG READY TENTHS LAUNCH [ARGS...]: start a server on a
# port from harness_free_port.  `LAUNCH PORT [ARGS...]` starts it in the
# background (the server is its $!), writing its log to LOG; it is up when
# `READY PORT` succeeds, waited for TENTHS tenths of a second at most.  A
# port taken between harness_free_port and the server's bind (LOG says
# "address already in use" or EADDRINUSE) is given up for another, three
# tries in all.  Sets _HARNESS_SERVED_PID and _HARNESS_SERVED_PORT.
_harness_serve() {
	local what=$1 log=$2 ready=$3 tenths=$4 launch=$5 attempt port pid n
	shift 5
	for attempt in 1 2 3; do
		port=$(harness_free_port) || return 1
		"$launch" "$port" "$@"
		pid=$!
		harness_track_pid "$pid"
		for ((n = 0; n < tenths; n++)); do
			kill -0 "$pid" 2>/dev/null || break
			! "$ready" "$port" || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null && "$ready" "$port"; then
			_HARNESS_SERVED_PID=$pid _HARNESS_SERVED_PORT=$port
			return 0
		fi
		_harness_stop_pid "$pid" KILL
		wait "$pid" 2>/dev/null || true
		_harness_release_port "$port"
		if [ "$attempt" = 3 ] || ! grep -qiE 'address already in use|EADDRINUSE' "$log" 2>/dev/null; then
			cat "$log" >&2 2>/dev/null
			_harness_die "$what did not start"
			return 1
		fi
		_harness_log "port $port was taken; trying another"
	done
}

# Stop a process the harness tracks (TERM, then KILL), reap it and stop
# tracking it.  Its port is the caller's to release.
_harness_stop_tracked() { # PID
	_harness_stop_pid "$1" TERM
	wait "$1" 2>/dev/null || true
	[ ! -f "$HARNESS_DIR/.pids" ] || sed -i "/^$1\$/d" "$HARNESS_DIR/.pids"
}

# Does an HTTP GET of URL answer 200?
_harness_http_ok() { # URL
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" = 200 ]
}

# ---------------------------------------------------------------- PostgreSQL

_harness_pg_bin() {
	if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
		echo /usr/lib/postgresql/15/bin
	elif command -v initdb >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v initdb)")"
	else
		return 1
	fi
}

# Run a command as the user PostgreSQL runs as, from a folder it can read.
_harness_as_pg() {
	if [ "$(id -u)" = 0 ]; then
		(cd "$HARNESS_DIR" && runuser -u postgres -- "$@")
	else
		(cd "$HARNESS_DIR" && "$@")
	fi
}

_harness_stop_pg_dir() {
	local pgdir=$1 pid
	[ -f "$pgdir/data/postmaster.pid" ] || return 0
	pid=$(head -n1 "$pgdir/data/postmaster.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	# SIGINT = fast shutdown (what pg_ctl stop -m fast sends).
	_harness_stop_pid "$pid" INT
}

start_postgres() {
	[ -n "${HARNESS_DIR:-}" ] || { _harness_die "start_postgres: call harness_init first"; return 1; }
	[ -z "${PG_PID:-}" ] || { _harness_die "start_postgres: PostgreSQL already running (pid $PG_PID)"; return 1; }
	PG_BIN=$(_harness_pg_bin) || { _harness_die "PostgreSQL binaries not found (run scripts/install-deps.sh)"; return 1; }
	local pgdir="$HARNESS_DIR/pg" sock password attempt port n=1
	while [ -e "$pgdir" ]; do # a second cluster: a folder of its own
		n=$((n + 1))
		pgdir="$HARNESS_DIR/pg$n"
	done
	sock="$pgdir/sock"
	mkdir -p "$pgdir" "$sock"
	# Unix socket paths are limited to 107 bytes.
	if [ $((${#sock} + 20)) -gt 100 ]; then
		sock=$(mktemp -d /tmp/drctl-pgsock.XXXXXX)
		harness_on_exit "rm -rf '$sock'"
	fi
	chmod 0700 "$pgdir"
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || { _harness_die "running as root but there is no postgres user"; return 1; }
		chown postgres: "$pgdir" "$sock"
	fi

	password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	PG_ADMIN_PASSWORD_FILE="$pgdir-admin-password"
	(umask 077 && printf '%s\n' "$password" >"$PG_ADMIN_PASSWORD_FILE")
	chmod 0600 "$PG_ADMIN_PASSWORD_FILE"

	if ! _harness_as_pg "$PG_BIN/initdb" -D "$pgdir/data" -U postgres -E UTF8 --locale=C \
		--auth-local=trust --auth-host=scram-sha-256 --no-sync >"$pgdir/initdb.log" 2>&1; then
		cat "$pgdir/initdb.log" >&2
		_harness_die "initdb failed"
		return 1
	fi
	# postgres itself: trust on loopback too, so PG* env alone connects;
	# every other role (drctl_admin, test roles) needs its password.
	_harness_as_pg tee "$pgdir/data/pg_hba.conf" >/dev/null <<-EOF
		local all all                trust
		host  all postgres 127.0.0.1/32 trust
		host  all all      127.0.0.1/32 scram-sha-256
		host  all postgres ::1/128      trust
		host  all all      ::1/128      scram-sha-256
	EOF

	for attempt in 1 2 3; do
		port=$(harness_free_port) || return 1
		_harness_as_pg tee -a "$pgdir/data/postgresql.conf" >/dev/null <<-EOF
			# drctl test harness
			listen_addresses = '127.0.0.1'
			port = $port
			unix_socket_directories = '$sock'
			fsync = off
			synchronous_commit = off
			full_page_writes = off
			shared_buffers = 32MB
			logging_collector = off
			log_min_messages = warning
		EOF
		if _harness_as_pg "$PG_BIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 60 start \
			>"$pgdir/pg_ctl.log" 2>&1; then
			break
		fi
		_harness_release_port "$port"
		if [ "$attempt" = 3 ] || ! grep -q 'could not bind\|Address already in use' "$pgdir/postgres.log" 2>/dev/null; then
			cat "$pgdir/pg_ctl.log" "$pgdir/postgres.log" >&2 2>/dev/null
			_harness_die "PostgreSQL did not start"
			return 1
		fi
		_harness_log "port $port was taken; trying another"
	done

	PG_PID=$(head -n1 "$pgdir/data/postmaster.pid")
	export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
	export PG_BIN PG_DATA_DIR="$pgdir/data" PG_SOCKET_DIR="$sock" PG_PID PG_DIR="$pgdir"
	export PG_ADMIN_USER=drctl_admin PG_ADMIN_PASSWORD_FILE
	unset PGPASSWORD PGPASSFILE PGSERVICE PGSSLMODE
	local n=0
	until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" -t 2; do
		n=$((n + 1))
		if [ $n -ge 60 ]; then
			cat "$pgdir/postgres.log" >&2
			_harness_die "PostgreSQL on port $PGPORT is not ready"
			return 1
		fi
		sleep 0.5
	done
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$PGPORT" -U postgres -d postgres \
		-c "CREATE ROLE drctl_admin LOGIN SUPERUSER PASSWORD '$password'" >/dev/null ||
		{ _harness_die "cannot create role drctl_admin"; return 1; }
	_harness_log "PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$PGPORT (pid $PG_PID, data $PG_DATA_DIR)"
}

# psql as tests and benchmarks run it on the server start_postgres started
# (PG* set): no psqlrc, quiet, stopping at the first error.
psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# The PostgreSQL fixture of tests/data/postgres: its roles, and a database
# NAME holding its tables.
harness_pg_fixture() { # NAME
	local data="$_HARNESS_LIB_DIR/../data/postgres"
	psql_ -f "$data/roles.sql" && "$PG_BIN/createdb" "$1" && psql_ -d "$1" -f "$data/fixture.sql" >/dev/null
}

# The checksums of every table of database NAME
# (tests/data/postgres/table-checksums.sql): equal sums, equal data.
harness_pg_sums() { # NAME
	psql_ -At -d "$1" -f "$_HARNESS_LIB_DIR/../data/postgres/table-checksums.sql"
}

# drctl's [postgres] settings, in its environment, for the harness's server:
# the admin over TCP, connected to CONNECT_DB (default postgres), backing up
# DATABASES (comma-separated).
harness_drctl_postgres() { # DATABASES [CONNECT_DB]
	export DRCTL_POSTGRES_CONNINFO="host=127.0.0.1 port=$PGPORT user=$PG_ADMIN_USER dbname=${2:-postgres}"
	export DRCTL_POSTGRES_PASSWORD_FILE="$PG_ADMIN_PASSWORD_FILE" DRCTL_POSTGRES_DATABASES=$1
}

stop_postgres() {
	[ -n "${PG_PID:-}" ] || return 0
	_harness_stop_pg_dir "$PG_DIR"
	_harness_release_port "$PGPORT"
	rm -rf "$PG_DIR" "$PG_ADMIN_PASSWORD_FILE"
	unset PG_PID PGHOST PGPORT PG_DATA_DIR PG_SOCKET_DIR PG_DIR
}

# ---------------------------------------------------------------- Redis

_harness_redis_ping() {
	local reply
	reply=$(redis-cli -h 127.0.0.1 -p "$1" ping 2>&1) || true
	case "$reply" in
	PONG | NOAUTH*) return 0 ;; # NOAUTH: up, started with --requirepass
	*) return 1 ;;
	esac
}

_harness_launch_redis() { # PORT [ARGS]
	local port=$1
	shift
	redis-server --port "$port" --bind 127.0.0.1 --dir "$REDIS_DIR" --dbfilename "dump-$port.rdb" --save "" --appendonly no \
		--daemonize no --logfile "$REDIS_DIR/redis.log" "$@" </dev/null >/dev/null 2>&1 &
}

# shellcheck disable=SC2120 # extra arguments are optional
start_redis() {
	[ -n "${HARNESS_DIR:-}" ] || { _harness_die "start_redis: call harness_init first"; return 1; }
	[ -z "${REDIS_PID:-}" ] || { _harness_die "start_redis: Redis already running (pid $REDIS_PID)"; return 1; }
	command -v redis-server >/dev/null || { _harness_die "redis-server not found (run scripts/install-deps.sh)"; return 1; }
	export REDIS_DIR="$HARNESS_DIR/redis"
	mkdir -p "$REDIS_DIR"
	_harness_serve Redis "$REDIS_DIR/redis.log" _harness_redis_ping 300 _harness_launch_redis "$@" || return 1
	REDIS_PID=$_HARNESS_SERVED_PID
	export REDIS_PORT=$_HARNESS_SERVED_PORT REDIS_URL="redis://127.0.0.1:$_HARNESS_SERVED_PORT" REDIS_PID
	_harness_log "Redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"
}

stop_redis() {
	[ -n "${REDIS_PID:-}" ] || return 0
	_harness_stop_tracked "$REDIS_PID"
	_harness_release_port "$REDIS_PORT"
	unset REDIS_PID REDIS_PORT REDIS_URL
}

# ---------------------------------------------------------------- Pushgateway

_harness_launch_pushgateway() { # PORT
	prometheus-pushgateway --web.listen-address="127.0.0.1:$1" --persistence.file="$PUSHGATEWAY_DIR/metrics.data" \
		--log.level=info </dev/null >"$PUSHGATEWAY_DIR/pushgateway.log" 2>&1 &
}

_harness_pushgateway_ready() { _harness_http_ok "http://127.0.0.1:$1/-/ready"; }

start_pushgateway() {
	[ -n "${HARNESS_DIR:-}" ] || { _harness_die "start_pushgateway: call harness_init first"; return 1; }
	[ -z "${PUSHGATEWAY_PID:-}" ] || { _harness_die "start_pushgateway: already running (pid $PUSHGATEWAY_PID)"; return 1; }
	command -v prometheus-pushgateway >/dev/null ||
		{ _harness_die "prometheus-pushgateway not found (run scripts/install-deps.sh)"; return 1; }
	export PUSHGATEWAY_DIR="$HARNESS_DIR/pushgateway"
	mkdir -p "$PUSHGATEWAY_DIR"
	_harness_serve "the Pushgateway" "$PUSHGATEWAY_DIR/pushgateway.log" _harness_pushgateway_ready 100 \
		_harness_launch_pushgateway || return 1
	PUSHGATEWAY_PID=$_HARNESS_SERVED_PID
	export PUSHGATEWAY_PID PUSHGATEWAY_PORT=$_HARNESS_SERVED_PORT PUSHGATEWAY_URL="http://127.0.0.1:$_HARNESS_SERVED_PORT"
	_harness_log "Pushgateway $(prometheus-pushgateway --version 2>&1 | awk 'NR == 1 {print $3}') on 127.0.0.1:$PUSHGATEWAY_PORT (pid $PUSHGATEWAY_PID)"
}

stop_pushgateway() {
	[ -n "${PUSHGATEWAY_PID:-}" ] || return 0
	_harness_stop_tracked "$PUSHGATEWAY_PID"
	_harness_release_port "$PUSHGATEWAY_PORT"
	unset PUSHGATEWAY_PID PUSHGATEWAY_PORT PUSHGATEWAY_URL
}

# ---------------------------------------------------------------- HTTP doubles

# start_double NAME (the Vault double and the others in tests/doubles/), and
# the Vault double's wrappers: see doubles.sh.
# shellcheck source=tests/harness/doubles.sh
source "$_HARNESS_LIB_DIR/doubles.sh"
