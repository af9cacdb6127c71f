#!/usr/bin/env bash
# THE demo command: install what is missing, build drctl, start a throwaway
# local platform (PostgreSQL and Redis on loopback, the Vault API double when
# present), and run drctl's main job against it: init, backup, list, verify,
# restore, and compare the restored files with the originals.  Every drctl
# command is printed before it runs ("+ drctl ..."), so this doubles as a
# tour of the CLI.  Everything is stopped and removed on exit, also when a
# step fails; DEMO_KEEP=1 keeps the work folder (config, keys, repository)
# for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

step() { printf '\n### %s\n' "$*"; }
# Print a command (as a reader would type it), then run it.
run() {
	local shown=("$@")
	shown=("${shown[@]//"$W"/\$W}")
	printf '+ %s\n' "${shown[*]}"
	"$@" || {
		local rc=$?
		printf '\ndemo: FAILED (exit status %d): %s\n' "$rc" "$*" >&2
		exit "$rc"
	}
}

step "set-up: dependencies and build"
scripts/install-deps.sh
scripts/build.sh normal
[ -x "$ROOT/build/drctl" ] || {
	echo "demo: build/drctl was not built" >&2
	exit 1
}
export PATH="$ROOT/build:$PATH"

step "a throwaway platform on loopback"
# shellcheck source=tests/harness/services.sh
source tests/harness/services.sh
harness_init
start_postgres
start_redis
if declare -F start_vault_double >/dev/null && [ -f "${VAULT_DOUBLE_JS:-/nonexistent}" ]; then
	start_vault_double
fi

if [ -n "${DEMO_KEEP:-}" ]; then
	W=$(mktemp -d "${TMPDIR:-/tmp}/drctl-demo.XXXXXX")
	harness_on_exit "echo 'demo: kept the work folder $W'"
else
	W="$HARNESS_DIR/demo"
	mkdir -p "$W"
fi
W=$(cd "$W" && pwd -P)
echo "work folder: \$W = $W"

# Demo data for the files component: a (self-signed) TLS certificate and its
# key, an application config, and a nested folder.
mkdir -p "$W/files/tls" "$W/files/app/conf.d/nested"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=demo.internal" -keyout "$W/files/tls/demo.key" -out "$W/files/tls/demo.crt" 2>/dev/null
chmod 0600 "$W/files/tls/demo.key"
cat >"$W/files/app/app.conf" <<EOF
# demo application config
listen = 0.0.0.0:8443
tls_cert = /etc/demo/tls/demo.crt
database = postgres://app@db.internal/app
EOF
printf 'feature_x = on\n' >"$W/files/app/conf.d/10-features.conf"
printf 'deeply nested\n' >"$W/files/app/conf.d/nested/notes.txt"
head -c 65536 /dev/urandom >"$W/files/app/conf.d/nested/blob.bin"
echo "demo files:"
(cd "$W/files" && find . -type f | sort | sed 's/^/  /')

step "drctl init: a config, a signing key and an age identity"
run drctl --config "$W/drctl.conf" init --repository "$W/repo" --state-dir "$W/state"
# The remaining commands find the config through DRCTL_CONFIG.  Any config
# key can also come from the environment as DRCTL_<SECTION>_<KEY>.
run export DRCTL_CONFIG="$W/drctl.conf"
run export DRCTL_FILES_PATHS="$W/files"

step "back up the files component"
run drctl backup --component files

step "list the backup sets"
run drctl list

step "verify the newest set: signatures and hashes, then every member too"
run drctl verify latest
run drctl verify latest --deep

step "restore the files into a new folder and compare"
run drctl restore files --backup latest --target "$W/restored"
# Files come back under their original absolute path inside the target.
run diff -r "$W/files" "$W/restored$W/files"
echo "restored files are identical to the originals"

# ---------------------------------------------------------------------------
# LATER STEPS: the postgres, redis and vault components.
# The servers are already running (PGHOST/PGPORT/PG_ADMIN_USER/
# PG_ADMIN_PASSWORD_FILE, REDIS_URL, and VAULT_ADDR/VAULT_TOKEN when the
# double is present; see tests/harness/services.sh).  To add, per component:
#   1. seed some data (psql ... / redis-cli -p "$REDIS_PORT" SET ... / curl $VAULT_ADDR ...)
#   2. point drctl at the server (run export DRCTL_<COMPONENT>_<KEY>=...)
#   3. run drctl backup --component <component>; run drctl verify latest --deep
#   4. change or drop the data, run drctl restore <component> --backup latest ...,
#      and check the data is back
# ---------------------------------------------------------------------------

step "done"
echo "demo OK: backed up, listed, verified and restored the files component"
echo "(cleaning up: stopping the servers and removing the temporary folders)"
