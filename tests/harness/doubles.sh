# shellcheck shell=bash
# HTTP test doubles (tests/doubles/NAME/NAME-double.js, built on
# tests/doubles/lib): start any of them on a free port, over HTTP, HTTPS or
# HTTPS with client certificates, stopped at cleanup like every other service
# of the harness.  Sourced by services.sh; call harness_init first.
#
#   start_double NAME [--tls | --mtls] [DOUBLE OPTIONS...]
#       starts the double on a port from harness_free_port, waits (at most
#       10 s) until it printed "NAME-double listening on PORT" and answers
#       GET /__double/health, and registers its stop at cleanup (the
#       watchdog's too, if the shell is killed).  --tls: HTTPS with the
#       harness's test CA (doubles_make_tls); --mtls: also requires a client
#       certificate signed by that CA.  With X = NAME upper-cased, exports
#         X_DOUBLE_URL X_DOUBLE_PORT X_DOUBLE_PID X_DOUBLE_ADMIN (URL/__double)
#         X_DOUBLE_LOG (its stdout and stderr) X_DOUBLE_SCHEME
#       and with TLS X_DOUBLE_CACERT X_DOUBLE_CLIENT_CERT X_DOUBLE_CLIENT_KEY,
#       then runs _double_env_NAME "$@" if defined, which exports what the
#       double's clients read (vault: VAULT_ADDR, VAULT_TOKEN, ...).  Several
#       doubles, even of one name, may run at once: save the variables.
#   stop_double NAME|PID           stop the last NAME started, or that process
#   double_curl NAME CURL-ARGS...  curl with NAME's CA and client certificate
#   double_admin NAME METHOD PATH [JSON]   e.g. double_admin s3 GET /log
#   double_fault NAME JSON         add fault rules (POST /__double/faults)
#   double_log NAME                the request log as JSON (GET /__double/log)
#   double_reset NAME              faults and log cleared (POST /__double/reset)
#   doubles_make_tls               the test CA and certificates, once per
#                                  harness folder, in $DOUBLES_TLS_DIR: ca.pem,
#                                  server.pem/.key (127.0.0.1, localhost),
#                                  client.pem/.key, other-ca.pem and
#                                  other-client.pem/.key (an unrelated CA)
#
# The Vault double's wrappers, as its tests use them:
#   start_vault_double [OPTS]      start_double vault; VAULT_ADDR VAULT_TOKEN
#                                  VAULT_DOUBLE_PID VAULT_DOUBLE_ADMIN VAULT_DOUBLE_LOG
#   start_vault_double_tls [--mtls] [OPTS]   also VAULT_CACERT VAULT_CLIENT_CERT
#                                  VAULT_CLIENT_KEY VAULT_DOUBLE_TLS_DIR
#   vault_double_admin ['{"sealed":true}']   POST (or, no argument, GET) /__double/state
#                                  of the double at $VAULT_DOUBLE_ADMIN
#   vault_double_curl CURL-ARGS... curl with $VAULT_CACERT and the client cert for https
#   stop_vault_double [PID]        default $VAULT_DOUBLE_PID
#   vault_double_make_tls          doubles_make_tls; sets VAULT_DOUBLE_TLS_DIR
#
# The Kubernetes double's (tests/doubles/kubernetes/README.md):
#   start_kubernetes_double [--plain] [OPTS]   start_double kubernetes --tls (HTTPS
#                                  unless --plain) with a fresh bearer token in a
#                                  0600 file unless OPTS give --token-file; then
#                                  _double_env_kubernetes exports
#                                  DRCTL_KUBERNETES_API_URL DRCTL_KUBERNETES_TOKEN_FILE
#                                  DRCTL_KUBERNETES_CA_FILE (https only)
#                                  KUBERNETES_DOUBLE_TOKEN_FILE KUBERNETES_DOUBLE_NAMESPACE
#                                  (and start_double's KUBERNETES_DOUBLE_URL, _ADMIN, ...)
#   kubernetes_double_curl CURL-ARGS...  curl with the double's CA and the bearer
#                                  token (read from the token file into a 0600
#                                  header file: never on a command line)
#   kubernetes_double_admin METHOD PATH [JSON]   e.g. kubernetes_double_admin POST /state '{"compact":true}'
#   kubernetes_rollout_status deployment|statefulset NAME [NAMESPACE]
#                                  prints what "kubectl rollout status" would say of the
#                                  object now; 0 done, 1 waiting, 2 failed (progress
#                                  deadline exceeded / not a RollingUpdate), 3 no answer
#   kubernetes_rollout_wait deployment|statefulset NAME [NAMESPACE] [SECONDS]
#                                  polls kubernetes_rollout_status until done (0) or
#                                  failed or SECONDS (default 30) passed (1)

_DOUBLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../doubles" && pwd)

_double_var() { # NAME SUFFIX -> the variable's name, e.g. vault URL -> VAULT_DOUBLE_URL
	local n=${1^^}
	printf '%s_DOUBLE_%s' "${n//[^A-Z0-9]/_}" "$2"
}
_double_get() { local v; v=$(_double_var "$1" "$2"); printf '%s' "${!v:-}"; }
_double_set() { local v; v=$(_double_var "$1" "$2"); printf -v "$v" '%s' "$3"; export "${v?}"; }

# double_available NAME: is there a double of that name?
double_available() { [ -f "$_DOUBLES_DIR/$1/$1-double.js" ]; }

doubles_make_tls() {
	[ -n "${HARNESS_DIR:-}" ] || { _harness_die "doubles_make_tls: call harness_init first"; return 1; }
	local d="$HARNESS_DIR/doubles-tls"
	DOUBLES_TLS_DIR=$d
	export DOUBLES_TLS_DIR
	[ -s "$d/other-client.pem" ] && return 0
	mkdir -p "$d"
	(
		set -e
		cd "$d"
		local curve=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
		local ca_ext=(-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign")
		openssl req -x509 "${curve[@]}" -keyout ca.key -out ca.pem -days 3650 -subj "/CN=drctl test doubles CA" "${ca_ext[@]}" 2>/dev/null
		openssl req -x509 "${curve[@]}" -keyout other-ca.key -out other-ca.pem -days 3650 -subj "/CN=unrelated test CA" "${ca_ext[@]}" 2>/dev/null
		openssl req -new "${curve[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 825 -extfile server.ext 2>/dev/null
		printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' >client.ext
		openssl req -new "${curve[@]}" -keyout client.key -out client.csr -subj "/CN=drctl test client" 2>/dev/null
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 825 -extfile client.ext 2>/dev/null
		openssl req -new "${curve[@]}" -keyout other-client.key -out other-client.csr -subj "/CN=unrelated test client" 2>/dev/null
		openssl x509 -req -in other-client.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -out other-client.pem -days 825 -extfile client.ext 2>/dev/null
		chmod 600 ./*.key
	) || { _harness_die "doubles_make_tls: openssl failed in $d"; return 1; }
}

double_curl() {
	local name=$1 args=(-sS)
	shift
	if [ "$(_double_get "$name" SCHEME)" = https ]; then
		args+=(--cacert "$(_double_get "$name" CACERT)")
		local cert
		cert=$(_double_get "$name" CLIENT_CERT)
		[ -z "$cert" ] || args+=(--cert "$cert" --key "$(_double_get "$name" CLIENT_KEY)")
	fi
	curl "${args[@]}" "$@"
}

double_admin() { # NAME METHOD PATH [JSON]
	local name=$1 method=$2 path=$3
	local args=(--fail-with-body -X "$method")
	[ $# -lt 4 ] || args+=(-H 'Content-Type: application/json' --data-binary "$4")
	double_curl "$name" "${args[@]}" "$(_double_get "$name" ADMIN)$path"
}
double_fault() { double_admin "$1" POST /faults "$2" >/dev/null; }
double_log() { double_admin "$1" GET /log; }
double_reset() { double_admin "$1" POST /reset; }

# Wait until the double printed its readiness line and answers its health
# endpoint; 0 ready, 1 gone or not answering, 2 its port was taken.
_double_wait() { # NAME PID PORT LOG
	local name=$1 pid=$2 port=$3 log=$4 code n
	for ((n = 0; n < 100; n++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			grep -q EADDRINUSE "$log" 2>/dev/null && return 2
			_harness_log "$name double (pid $pid) exited; its log:"
			cat "$log" >&2
			return 1
		fi
		if grep -q "^$name-double listening on $port " "$log" 2>/dev/null; then
			code=$(double_curl "$name" -o /dev/null -w '%{http_code}' "$(_double_get "$name" ADMIN)/health" 2>/dev/null) || true
			[ "$code" != 200 ] || return 0
		fi
		sleep 0.1
	done
	_harness_log "$name double did not answer on $(_double_get "$name" URL) within 10 s; its log:"
	cat "$log" >&2
	return 1
}

start_double() {
	[ -n "${HARNESS_DIR:-}" ] || { _harness_die "start_double: call harness_init first"; return 1; }
	local name=${1:?start_double NAME [--tls|--mtls] [OPTIONS]}
	shift
	local js="$_DOUBLES_DIR/$name/$name-double.js" tls=none
	[ -f "$js" ] || { _harness_die "start_double: no double named $name ($js)"; return 1; }
	case ${1:-} in
	--tls) tls=tls; shift ;;
	--mtls) tls=mtls; shift ;;
	esac
	local tls_args=() scheme=http
	if [ "$tls" != none ]; then
		doubles_make_tls || return 1
		scheme=https
		tls_args=(--tls-cert "$DOUBLES_TLS_DIR/server.pem" --tls-key "$DOUBLES_TLS_DIR/server.key")
		[ "$tls" != mtls ] || tls_args+=(--tls-client-ca "$DOUBLES_TLS_DIR/ca.pem")
	fi
	local attempt port pid log rc
	for attempt in 1 2 3; do
		port=$(harness_free_port) || return 1
		log="$HARNESS_DIR/$name-double-$port.log"
		node "$js" --port "$port" "${tls_args[@]}" "$@" </dev/null >"$log" 2>&1 &
		pid=$!
		harness_track_pid "$pid"
		echo "$pid $port $name" >>"$HARNESS_DIR/.doubles"
		_double_set "$name" PID "$pid"
		_double_set "$name" PORT "$port"
		_double_set "$name" SCHEME "$scheme"
		_double_set "$name" URL "$scheme://127.0.0.1:$port"
		_double_set "$name" ADMIN "$scheme://127.0.0.1:$port/__double"
		_double_set "$name" LOG "$log"
		if [ "$tls" = none ]; then
			_double_set "$name" CACERT ""
			_double_set "$name" CLIENT_CERT ""
			_double_set "$name" CLIENT_KEY ""
		else
			_double_set "$name" CACERT "$DOUBLES_TLS_DIR/ca.pem"
			_double_set "$name" CLIENT_CERT "$DOUBLES_TLS_DIR/client.pem"
			_double_set "$name" CLIENT_KEY "$DOUBLES_TLS_DIR/client.key"
		fi
		rc=0
		_double_wait "$name" "$pid" "$port" "$log" || rc=$?
		if [ "$rc" = 0 ]; then
			if declare -F "_double_env_$name" >/dev/null; then "_double_env_$name" "$@"; fi
			_harness_log "$name double on $scheme://127.0.0.1:$port (pid $pid, log $log)"
			return 0
		fi
		stop_double "$pid"
		if [ "$rc" != 2 ] || [ "$attempt" = 3 ]; then
			_harness_die "the $name double did not start"
			return 1
		fi
		_harness_log "port $port was taken; trying another"
	done
}

stop_double() { # NAME | PID
	local pid=${1:?stop_double NAME|PID} port name
	case $pid in *[!0-9]*) pid=$(_double_get "$1" PID) ;; esac
	[ -n "$pid" ] || return 0
	_harness_stop_tracked "$pid"
	if [ -f "$HARNESS_DIR/.doubles" ]; then
		read -r _ port name < <(awk -v p="$pid" '$1 == p' "$HARNESS_DIR/.doubles") || true
		[ -z "${port:-}" ] || _harness_release_port "$port"
		sed -i "/^$pid /d" "$HARNESS_DIR/.doubles"
		if [ -n "${name:-}" ] && [ "$(_double_get "$name" PID)" = "$pid" ]; then _double_set "$name" PID ""; fi
	fi
	return 0
}

# ---------------------------------------------------------------- the Vault double

# What Vault's clients read, after start_double vault.
_double_env_vault() {
	local token=root prev='' a
	for a in "$@"; do
		case $a in --root-token=*) token=${a#--root-token=} ;; esac
		[ "$prev" != --root-token ] || token=$a
		prev=$a
	done
	VAULT_ADDR=$VAULT_DOUBLE_URL
	VAULT_TOKEN=$token
	export VAULT_ADDR VAULT_TOKEN
	if [ "$VAULT_DOUBLE_SCHEME" = https ]; then
		VAULT_DOUBLE_TLS_DIR=$DOUBLES_TLS_DIR
		export VAULT_CACERT=$VAULT_DOUBLE_CACERT VAULT_CLIENT_CERT=$VAULT_DOUBLE_CLIENT_CERT \
			VAULT_CLIENT_KEY=$VAULT_DOUBLE_CLIENT_KEY VAULT_DOUBLE_TLS_DIR
	else
		unset VAULT_CACERT VAULT_CLIENT_CERT VAULT_CLIENT_KEY
	fi
}

start_vault_double() { start_double vault "$@"; }

start_vault_double_tls() {
	local mode=--tls
	if [ "${1:-}" = --mtls ]; then mode=--mtls; shift; fi
	start_double vault "$mode" "$@"
}

vault_double_make_tls() {
	doubles_make_tls || return 1
	VAULT_DOUBLE_TLS_DIR=$DOUBLES_TLS_DIR
	export VAULT_DOUBLE_TLS_DIR
}

# curl for the double at $VAULT_ADDR (tests switch between several doubles by
# setting VAULT_ADDR and VAULT_DOUBLE_ADMIN).
vault_double_curl() {
	local args=(-sS)
	if [ "${VAULT_ADDR#https}" != "$VAULT_ADDR" ]; then
		args+=(--cacert "$VAULT_CACERT")
		[ -z "${VAULT_CLIENT_CERT:-}" ] || args+=(--cert "$VAULT_CLIENT_CERT" --key "$VAULT_CLIENT_KEY")
	fi
	curl "${args[@]}" "$@"
}

vault_double_admin() {
	if [ $# -eq 0 ]; then
		vault_double_curl --fail-with-body "$VAULT_DOUBLE_ADMIN/state"
	else
		vault_double_curl --fail-with-body -X POST -H 'Content-Type: application/json' --data-binary "$1" "$VAULT_DOUBLE_ADMIN/state" >/dev/null
	fi
}

stop_vault_double() {
	local pid=${1:-${VAULT_DOUBLE_PID:-}}
	[ -z "$pid" ] || stop_double "$pid"
}

# ---------------------------------------------------------------- the S3 double and s3rver
#
#   start_s3_double [OPTS]         start_double s3 with SigV4 required: unless
#                                  OPTS give --access-key, a fresh key id and a
#                                  secret (in a 0600 file, passed as
#                                  --secret-key-file) are made; exports what
#                                  drctl and AWS tools read: AWS_ENDPOINT_URL
#                                  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
#                                  AWS_REGION (AWS_SESSION_TOKEN with
#                                  --session-token, AWS_CA_BUNDLE with --tls),
#                                  and S3_DOUBLE_BUCKET (the first --bucket or
#                                  --lock-bucket), S3_DOUBLE_SECRET_FILE
#   (start_double s3 ... does the same exports through _double_env_s3.)
#   s3_double_env                  export the AWS_* variables for the last S3
#                                  double again (after s3rver_env)
#   start_s3rver [BUCKET]          s3rver (npm package, tests/doubles/package.json)
#                                  on a free port with a data folder in
#                                  $HARNESS_DIR, with BUCKET (default
#                                  drctl-test) made at start; stopped at
#                                  cleanup.  Exports S3RVER_URL S3RVER_PORT
#                                  S3RVER_PID S3RVER_DIR S3RVER_LOG
#                                  S3RVER_BUCKET and its fixed credentials
#                                  S3RVER_ACCESS_KEY S3RVER_SECRET_KEY (S3RVER)
#   s3rver_env                     export AWS_ENDPOINT_URL ... for s3rver
#   s3rver_repository_conf PREFIX KEY_ID_FILE SECRET_FILE
#                                  print the [repository] keys of drctl.conf
#                                  for a repository under PREFIX in the
#                                  s3rver bucket, its credentials read from
#                                  those files
#   stop_s3rver

_double_env_s3() {
	local prev='' a key='' secret='' secret_file='' region=us-east-1 token='' token_file='' bucket=''
	for a in "$@"; do
		case $prev in
		--access-key) key=$a ;;
		--secret-key) secret=$a ;;
		--secret-key-file) secret_file=$a ;;
		--region) region=$a ;;
		--session-token) token=$a ;;
		--session-token-file) token_file=$a ;;
		--bucket | --lock-bucket) [ -n "$bucket" ] || bucket=$a ;;
		esac
		prev=$a
	done
	[ -z "$secret_file" ] || secret=$(cat "$secret_file")
	[ -z "$token_file" ] || token=$(cat "$token_file")
	# A double that verifies no signature still gets signed requests.
	[ -n "$key" ] || { key=S3DOUBLEANYKEY; secret=s3-double-accepts-any-signature; }
	S3_DOUBLE_ACCESS_KEY=$key S3_DOUBLE_SECRET_KEY=$secret S3_DOUBLE_REGION=$region S3_DOUBLE_SESSION_TOKEN=$token
	S3_DOUBLE_BUCKET=$bucket
	export S3_DOUBLE_ACCESS_KEY S3_DOUBLE_SECRET_KEY S3_DOUBLE_REGION S3_DOUBLE_SESSION_TOKEN S3_DOUBLE_BUCKET
	s3_double_env
}

s3_double_env() {
	export AWS_ENDPOINT_URL=$S3_DOUBLE_URL AWS_ACCESS_KEY_ID=$S3_DOUBLE_ACCESS_KEY \
		AWS_SECRET_ACCESS_KEY=$S3_DOUBLE_SECRET_KEY AWS_REGION=$S3_DOUBLE_REGION
	if [ -n "${S3_DOUBLE_SESSION_TOKEN:-}" ]; then export AWS_SESSION_TOKEN=$S3_DOUBLE_SESSION_TOKEN; else unset AWS_SESSION_TOKEN; fi
	if [ "$S3_DOUBLE_SCHEME" = https ]; then export AWS_CA_BUNDLE=$S3_DOUBLE_CACERT; else unset AWS_CA_BUNDLE; fi
}

start_s3_double() {
	local a tls=() args=()
	case ${1:-} in --tls | --mtls) tls=("$1"); shift ;; esac
	for a in "$@"; do [ "$a" != --access-key ] || { start_double s3 "${tls[@]}" "$@"; return; }; done
	[ -n "${HARNESS_DIR:-}" ] || { _harness_die "start_s3_double: call harness_init first"; return 1; }
	S3_DOUBLE_SECRET_FILE=$(mktemp "$HARNESS_DIR/s3-secret.XXXXXX")
	chmod 600 "$S3_DOUBLE_SECRET_FILE"
	head -c 30 /dev/urandom | base64 | tr -d '\n/+=' >"$S3_DOUBLE_SECRET_FILE"
	export S3_DOUBLE_SECRET_FILE
	args=(--access-key "AKIA$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" --secret-key-file "$S3_DOUBLE_SECRET_FILE")
	start_double s3 "${tls[@]}" "${args[@]}" "$@"
}

start_s3rver() {
	[ -n "${HARNESS_DIR:-}" ] || { _harness_die "start_s3rver: call harness_init first"; return 1; }
	local bucket=${1:-drctl-test} js="$_DOUBLES_DIR/node_modules/s3rver/bin/s3rver.js" attempt port pid dir log n code
	[ -f "$js" ] || { _harness_die "s3rver is not installed in $_DOUBLES_DIR/node_modules (run scripts/install-deps.sh)"; return 1; }
	for attempt in 1 2 3; do
		port=$(harness_free_port) || return 1
		dir="$HARNESS_DIR/s3rver-$port" log="$HARNESS_DIR/s3rver-$port.log"
		mkdir -p "$dir"
		# s3rver makes its continuation tokens with DES, which Node 20's
		# OpenSSL 3 has only in the legacy provider: without it every
		# listing past one page answers 500.
		NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--openssl-legacy-provider" \
			node "$js" -d "$dir" -a 127.0.0.1 -p "$port" --configure-bucket "$bucket" </dev/null >"$log" 2>&1 &
		pid=$!
		harness_track_pid "$pid"
		for ((n = 0; n < 100; n++)); do
			kill -0 "$pid" 2>/dev/null || break
			code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null) || true
			[ "$code" != 200 ] || break
			sleep 0.1
		done
		if [ "$code" = 200 ]; then
			S3RVER_URL="http://127.0.0.1:$port" S3RVER_PORT=$port S3RVER_PID=$pid S3RVER_DIR=$dir S3RVER_LOG=$log
			S3RVER_BUCKET=$bucket S3RVER_ACCESS_KEY=S3RVER S3RVER_SECRET_KEY=S3RVER # s3rver's built-in account
			export S3RVER_URL S3RVER_PORT S3RVER_PID S3RVER_DIR S3RVER_LOG S3RVER_BUCKET S3RVER_ACCESS_KEY S3RVER_SECRET_KEY
			_harness_log "s3rver on $S3RVER_URL (pid $pid, bucket $bucket, log $log)"
			return 0
		fi
		_harness_stop_pid "$pid" TERM
		wait "$pid" 2>/dev/null || true
		_harness_release_port "$port"
		if [ "$attempt" = 3 ] || ! grep -q EADDRINUSE "$log" 2>/dev/null; then
			cat "$log" >&2
			_harness_die "s3rver did not start"
			return 1
		fi
		_harness_log "port $port was taken; trying another"
	done
}

s3rver_env() {
	export AWS_ENDPOINT_URL=$S3RVER_URL AWS_ACCESS_KEY_ID=$S3RVER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3RVER_SECRET_KEY AWS_REGION=us-east-1
	unset AWS_SESSION_TOKEN AWS_CA_BUNDLE
}

s3rver_repository_conf() { # PREFIX KEY_ID_FILE SECRET_FILE
	printf 'type = s3\nbucket = %s\nprefix = %s\nendpoint = %s\nregion = us-east-1\nforce_path_style = true\n' \
		"$S3RVER_BUCKET" "$1" "$S3RVER_URL"
	printf 'access_key_id_file = %s\nsecret_access_key_file = %s\n' "$2" "$3"
}

stop_s3rver() {
	[ -n "${S3RVER_PID:-}" ] || return 0
	_harness_stop_pid "$S3RVER_PID" TERM
	wait "$S3RVER_PID" 2>/dev/null || true
	sed -i "/^$S3RVER_PID\$/d" "$HARNESS_DIR/.pids"
	_harness_release_port "$S3RVER_PORT"
	unset S3RVER_PID
}

# ---------------------------------------------------------------- the Kubernetes double

# What drctl's Kubernetes client reads, after start_double kubernetes.
_double_env_kubernetes() {
	local tf='' ns=ai-agents prev='' a
	for a in "$@"; do
		case $a in
		--token-file=*) [ -n "$tf" ] || tf=${a#--token-file=} ;;
		--namespace=*) ns=${a#--namespace=} ;;
		esac
		if [ "$prev" = --token-file ] && [ -z "$tf" ]; then tf=$a; fi
		[ "$prev" != --namespace ] || ns=$a
		prev=$a
	done
	DRCTL_KUBERNETES_API_URL=$KUBERNETES_DOUBLE_URL
	DRCTL_KUBERNETES_TOKEN_FILE=$tf
	KUBERNETES_DOUBLE_TOKEN_FILE=$tf
	KUBERNETES_DOUBLE_NAMESPACE=$ns
	export DRCTL_KUBERNETES_API_URL DRCTL_KUBERNETES_TOKEN_FILE KUBERNETES_DOUBLE_TOKEN_FILE KUBERNETES_DOUBLE_NAMESPACE
	if [ "$KUBERNETES_DOUBLE_SCHEME" = https ]; then
		export DRCTL_KUBERNETES_CA_FILE=$KUBERNETES_DOUBLE_CACERT
	else
		unset DRCTL_KUBERNETES_CA_FILE
	fi
}

start_kubernetes_double() {
	local mode=--tls a
	if [ "${1:-}" = --plain ]; then mode=''; shift; fi
	local args=("$@") have_token=0
	for a in "$@"; do case $a in --token-file | --token-file=*) have_token=1 ;; esac; done
	if [ "$have_token" = 0 ]; then
		local tf
		tf=$(mktemp "$HARNESS_DIR/kubernetes-token.XXXXXX") || return 1
		chmod 600 "$tf"
		# a projected service-account token looks like a JWT; the double takes it as opaque
		printf 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImRvdWJsZSJ9.%s.%s' "$(openssl rand -hex 24)" "$(openssl rand -hex 16)" >"$tf"
		args=(--token-file "$tf" "${args[@]}")
	fi
	if [ -n "$mode" ]; then start_double kubernetes "$mode" "${args[@]}"; else start_double kubernetes "${args[@]}"; fi
}

kubernetes_double_curl() {
	local hdr="$HARNESS_DIR/kubernetes-auth-${KUBERNETES_DOUBLE_PORT}.hdr" args=(-sS)
	if [ -n "${KUBERNETES_DOUBLE_TOKEN_FILE:-}" ]; then
		(
			umask 077
			printf 'Authorization: Bearer %s\n' "$(cat "$KUBERNETES_DOUBLE_TOKEN_FILE")" >"$hdr"
		)
		args+=(-H "@$hdr")
	fi
	[ "$KUBERNETES_DOUBLE_SCHEME" != https ] || args+=(--cacert "$KUBERNETES_DOUBLE_CACERT")
	curl "${args[@]}" "$@"
}

kubernetes_double_admin() { double_admin kubernetes "$@"; }

# kubectl's verdict on a rollout, from kubernetes/kubectl
# pkg/polymorphichelpers/rollout_status.go (DeploymentStatusViewer and
# StatefulSetStatusViewer), on the object as the API returns it.
# shellcheck disable=SC2016 # jq's $variables, not the shell's
_KUBERNETES_ROLLOUT_JQ='
def n: . // 0;
.metadata.name as $name |
if $kind == "deployment" then
  if (.metadata.generation | n) <= (.status.observedGeneration | n) then
    ([.status.conditions[]? | select(.type == "Progressing")] | first) as $c |
    if $c != null and $c.reason == "ProgressDeadlineExceeded" then
      {code: 2, msg: "error: deployment \"\($name)\" exceeded its progress deadline"}
    elif .spec.replicas != null and (.status.updatedReplicas | n) < .spec.replicas then
      {code: 1, msg: "Waiting for deployment \"\($name)\" rollout to finish: \(.status.updatedReplicas | n) out of \(.spec.replicas) new replicas have been updated..."}
    elif (.status.replicas | n) > (.status.updatedReplicas | n) then
      {code: 1, msg: "Waiting for deployment \"\($name)\" rollout to finish: \((.status.replicas | n) - (.status.updatedReplicas | n)) old replicas are pending termination..."}
    elif (.status.availableReplicas | n) < (.status.updatedReplicas | n) then
      {code: 1, msg: "Waiting for deployment \"\($name)\" rollout to finish: \(.status.availableReplicas | n) of \(.status.updatedReplicas | n) updated replicas are available..."}
    else {code: 0, msg: "deployment \"\($name)\" successfully rolled out"} end
  else {code: 1, msg: "Waiting for deployment spec update to be observed..."} end
else
  if .spec.updateStrategy.type != "RollingUpdate" then
    {code: 2, msg: "error: rollout status is only available for RollingUpdate strategy type"}
  elif (.status.observedGeneration | n) == 0 or (.metadata.generation | n) > (.status.observedGeneration | n) then
    {code: 1, msg: "Waiting for statefulset spec update to be observed..."}
  elif .spec.replicas != null and (.status.readyReplicas | n) < .spec.replicas then
    {code: 1, msg: "Waiting for \(.spec.replicas - (.status.readyReplicas | n)) pods to be ready..."}
  elif .spec.updateStrategy.rollingUpdate != null then
    if .spec.replicas != null and .spec.updateStrategy.rollingUpdate.partition != null
       and (.status.updatedReplicas | n) < (.spec.replicas - .spec.updateStrategy.rollingUpdate.partition) then
      {code: 1, msg: "Waiting for partitioned roll out to finish: \(.status.updatedReplicas | n) out of \(.spec.replicas - .spec.updateStrategy.rollingUpdate.partition) new pods have been updated..."}
    else {code: 0, msg: "partitioned roll out complete: \(.status.updatedReplicas | n) new pods have been updated..."} end
  elif (.status.updateRevision // "") != (.status.currentRevision // "") then
    {code: 1, msg: "waiting for statefulset rolling update to complete \(.status.updatedReplicas | n) pods at revision \(.status.updateRevision)..."}
  else {code: 0, msg: "statefulset rolling update complete \(.status.currentReplicas | n) pods at revision \(.status.currentRevision)..."} end
end'

kubernetes_rollout_status() { # deployment|statefulset NAME [NAMESPACE]
	local kind=$1 name=$2 ns=${3:-${KUBERNETES_DOUBLE_NAMESPACE:-ai-agents}} obj verdict
	obj=$(kubernetes_double_curl --fail "$KUBERNETES_DOUBLE_URL/apis/apps/v1/namespaces/$ns/${kind}s/$name") || return 3
	verdict=$(printf '%s' "$obj" | jq -c --arg kind "$kind" "$_KUBERNETES_ROLLOUT_JQ") || return 3
	printf '%s\n' "$(printf '%s' "$verdict" | jq -r .msg)"
	return "$(printf '%s' "$verdict" | jq -r .code)"
}

kubernetes_rollout_wait() { # deployment|statefulset NAME [NAMESPACE] [SECONDS]
	local deadline=$((SECONDS + ${4:-30})) rc
	while :; do
		rc=0
		kubernetes_rollout_status "$1" "$2" "${3:-}" >/dev/null || rc=$?
		[ "$rc" != 0 ] || return 0
		[ "$rc" != 2 ] || return 1
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
