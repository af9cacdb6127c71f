#!/usr/bin/env bash
# The service harness works: a throwaway PostgreSQL and Redis start on ports
# of their own, libpq and hiredis reach them (tests/tools/smoke_services),
# and the harness's cleanup leaves no process and no folder behind: on a
# normal exit, on a failing exit, on SIGTERM, and (through the watchdog) when
# the owning shell is killed with SIGKILL.
set -euo pipefail
: "${DRCTL_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${DRCTL_BUILD_DIR:?set DRCTL_BUILD_DIR to the CMake build folder}"
HARNESS="$DRCTL_SOURCE_DIR/tests/harness/services.sh"
SMOKE="$DRCTL_BUILD_DIR/tests/smoke_services"
# shellcheck source=tests/harness/services.sh
source "$HARNESS"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
[ -x "$SMOKE" ] || fail "$SMOKE not built (cmake --build $DRCTL_BUILD_DIR --target smoke_services)"

echo "== both services up, reached through libpq and hiredis"
harness_init
start_postgres
start_redis
"$SMOKE" || fail "smoke_services could not use the harness's PostgreSQL/Redis (PGPORT=$PGPORT REDIS_PORT=$REDIS_PORT)"
[ "$(stat -c %a "$PG_ADMIN_PASSWORD_FILE")" = 600 ] || fail "$PG_ADMIN_PASSWORD_FILE is not mode 0600"
PGPASSWORD=$(cat "$PG_ADMIN_PASSWORD_FILE") "$PG_BIN/psql" -X -qAt -U "$PG_ADMIN_USER" -c 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user' |
	grep -qx t || fail "$PG_ADMIN_USER cannot log in over TCP with its password"
if PGPASSWORD=wrong "$PG_BIN/psql" -X -qAt -U "$PG_ADMIN_USER" -c 'SELECT 1' >/dev/null 2>&1; then
	fail "$PG_ADMIN_USER logged in with a wrong password: host connections must use scram-sha-256"
fi
echo "ok drctl_admin: scram-sha-256 password login over TCP"
stop_redis
stop_postgres

# Start services in a child shell, which exits in the way given; print what
# it started so the parent can check that it is all gone.
run_child() { # $1: exit|fail|term|kill
	local mode=$1 info
	info=$(mktemp "${TMPDIR:-/tmp}/drctl-harness-info.XXXXXX")
	set +e
	bash -c '
		set -euo pipefail
		source "$1"
		harness_init
		harness_on_exit "touch $2.hook"
		start_postgres 2>/dev/null
		start_redis 2>/dev/null
		echo "$HARNESS_DIR $PG_PID $REDIS_PID $PGPORT $REDIS_PORT" >"$2"
		case $3 in
		exit) exit 0 ;;
		fail) false ;;
		term) kill -TERM $$; sleep 30 ;;
		kill) kill -KILL $$ ;;
		esac
	' child "$HARNESS" "$info" "$mode"
	child_rc=$?
	set -e
	read -r c_dir c_pg c_redis c_pgport c_redisport <"$info" || fail "$mode: child did not start its services"
	rm -f "$info"
	local n=0
	# After SIGKILL the watchdog needs a moment (it polls every second).
	while { [ -d "$c_dir" ] || kill -0 "$c_pg" 2>/dev/null || kill -0 "$c_redis" 2>/dev/null; } && [ $n -lt 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ ! -d "$c_dir" ] || fail "$mode: harness folder $c_dir still exists after cleanup"
	! kill -0 "$c_pg" 2>/dev/null || fail "$mode: postgres (pid $c_pg) still running after cleanup"
	! kill -0 "$c_redis" 2>/dev/null || fail "$mode: redis-server (pid $c_redis) still running after cleanup"
	! pgrep -f "$c_dir" >/dev/null || fail "$mode: processes using $c_dir remain: $(pgrep -af "$c_dir")"
	[ ! -e "$HARNESS_PORT_LOCKS/$c_pgport" ] || fail "$mode: port $c_pgport still reserved"
	[ ! -e "$HARNESS_PORT_LOCKS/$c_redisport" ] || fail "$mode: port $c_redisport still reserved"
	if [ "$mode" != kill ]; then
		[ -e "$info.hook" ] || fail "$mode: the harness_on_exit hook did not run"
	fi
	rm -f "$info.hook"
	echo "ok cleanup after $mode (child exit status $child_rc): no process, folder or port reservation left"
}

echo "== cleanup leaves nothing behind"
run_child exit
[ "$child_rc" = 0 ] || fail "exit: the harness changed the child's exit status 0 to $child_rc"
run_child fail
[ "$child_rc" = 1 ] || fail "fail: the harness changed the child's exit status 1 to $child_rc"
run_child term
[ "$child_rc" = 143 ] || fail "term: expected exit status 143 after SIGTERM, got $child_rc"
run_child kill

echo "PASS services smoke"
