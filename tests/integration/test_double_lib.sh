#!/usr/bin/env bash
# Conformance test of the test doubles' library (tests/doubles/lib) and of
# the harness's start_double (tests/harness/doubles.sh), through the echo
# double (tests/doubles/echo), seen from the client's side with curl and a
# raw socket client: methods such as LIST, keep-alive and pipelining,
# Content-Length and chunked request bodies (extensions, trailers, bad
# framing), Expect: 100-continue (sent when the handler reads the body; an
# early answer goes out without it and closes the connection), routing (405,
# 404), XML out and in, every fault switch (a status with a body and a count,
# skip, query match, always, a 200 with an error body, a delay, a stall, a
# reset after N request body bytes, a response cut after N bytes, a flag),
# the admin endpoint (faults listed, removed, reset), the request log (secret
# headers and query parameters never in it), TLS and mTLS (no client
# certificate, or one from another CA, is refused), and the harness (two
# doubles at once, stop_double, the watchdog stopping a double of a shell
# killed with SIGKILL).
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
require_tools node curl jq openssl sha256sum
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init
RAW="$DRCTL_SOURCE_DIR/tests/doubles/lib/raw-client.js"

# c CURL-ARGS: curl the echo double -> $ST (status), $BODY, $CRC (curl's exit status)
c() {
  set +e
  ST=$(double_curl echo -o "$T/body" -w '%{http_code}' "$@" 2>"$T/curl.err"); CRC=$?
  set -e
  BODY=$(tr -d '\0' <"$T/body" 2>/dev/null || true)
}
eq() { [ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"; pass_note "$1"; }
has() { case "$3" in *"$2"*) pass_note "$1" ;; *) fail "$1: [$3] should contain [$2]" ;; esac; }
lacks() { case "$3" in *"$2"*) fail "$1: [$3] should not contain [$2]" ;; *) pass_note "$1" ;; esac; }
j() { jq -r "$1" <<<"$BODY"; }
fault() { double_admin echo POST /faults "$1" | jq -r '.faults[0].id'; }
last_log() { double_log echo | jq -c "[.requests[] | select($1)] | last"; }
# raw FILE-OF-BYTES... : send through the raw client -> $RAW_END (fin|reset|open), $RAW_OUT
raw() {
  local steps=() f
  for f in "$@"; do case $f in await=* | shut) steps+=("$f") ;; *) steps+=("send=$f") ;; esac; done
  RAW_END=$(node "$RAW" --port "$ECHO_DOUBLE_PORT" --out "$T/raw.out" --timeout-ms 5000 "${steps[@]}")
  RAW_OUT=$(tr -d '\r' <"$T/raw.out")
}
# shellcheck disable=SC2059 # the format is the bytes
bytes() { printf "$1" >"$T/$2"; } # bytes 'PRINTF-FORMAT' NAME

echo "== start_double"
start_double echo
kill -0 "${ECHO_DOUBLE_PID:?}" || fail "ECHO_DOUBLE_PID should be a live process"
eq "ECHO_DOUBLE_URL on the port it exported" "http://127.0.0.1:$ECHO_DOUBLE_PORT" "$ECHO_DOUBLE_URL"
grep -q "^echo-double listening on $ECHO_DOUBLE_PORT (http)$" "$ECHO_DOUBLE_LOG" || fail "readiness line missing from $ECHO_DOUBLE_LOG"
pass_note "the double printed its readiness line"
BODY=$(double_admin echo GET /health)
eq "GET /__double/health" "echo true $ECHO_DOUBLE_PORT" "$(j '"\(.double) \(.ready) \(.port)"')"
U=$ECHO_DOUBLE_URL

echo "== methods, routing, keep-alive, pipelining"
c -X LIST "$U/echo/a/b?x=1"
eq "method LIST reaches the handler" "200 LIST /echo/a/b a/b 1" "$ST $(j '"\(.method) \(.path) \(.params.rest) \(.query.x)"')"
c -X POST -H 'Content-Type: application/json' --data-binary '{}' "$U/objects/x"
eq "a route for other methods: 405" 405 "$ST"
has "405 names the allowed methods" "PUT" "$(double_curl echo -s -o /dev/null -D - -X POST "$U/objects/x" | tr -d '\r' | grep -i '^allow:')"
c "$U/nowhere"; eq "no route: 404 with the double's error body" '404 no route for GET /nowhere' "$ST $(j .error)"
double_admin echo DELETE /log
eq "three requests on one connection (curl's new connections)" "1 0 0 " \
  "$(double_curl echo -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects} ' "$U/echo/1" "$U/echo/2" "$U/echo/3")"
eq "the log shows one connection, requests 1 2 3" "1 1,2,3" \
  "$(double_log echo | jq -r '[.requests[].connection] | unique | length' | tr -d '\n') $(double_log echo | jq -r '[.requests[].connection_request] | map(tostring) | join(",")')"
bytes 'GET /echo/one HTTP/1.1\r\nHost: x\r\n\r\nGET /echo/two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' pipe.req
raw "$T/pipe.req"
eq "pipelined: two answers in order, then the server closes (Connection: close)" "2 fin" \
  "$(grep -c '^HTTP/1.1 200 OK$' <<<"$RAW_OUT") $RAW_END"
[ "$(grep -o '"path":"/echo/[a-z]*"' <<<"$RAW_OUT" | tr '\n' ' ')" = '"path":"/echo/one" "path":"/echo/two" ' ] || fail "pipelined answers out of order: $RAW_OUT"
pass_note "pipelined answers are in request order"
bytes 'GET /echo/old HTTP/1.0\r\n\r\n' http10.req
raw "$T/http10.req"
eq "HTTP/1.0 without keep-alive: answered, then closed" "fin" "$RAW_END"
has "HTTP/1.0 answer says Connection: close" "Connection: close" "$RAW_OUT"

echo "== request bodies"
head -c 3000000 /dev/urandom >"$T/3m.bin"
SUM=$(sha256sum "$T/3m.bin" | cut -d' ' -f1)
c -H 'Expect:' --data-binary "@$T/3m.bin" "$U/echo/len"
eq "Content-Length body arrives whole" "false $SUM" "$(j '"\(.chunked) \(.body_sha256)"')"
c -H 'Expect:' -H 'Transfer-Encoding: chunked' --data-binary "@$T/3m.bin" "$U/echo/chunked"
eq "chunked body arrives whole" "true $SUM" "$(j '"\(.chunked) \(.body_sha256)"')"
bytes 'POST /echo/ext HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n' ext.req
raw "$T/ext.req"
eq "chunk extensions and trailers" "$(printf 'hello world' | sha256sum | cut -d' ' -f1) 11" \
  "$(sed -n 's/.*"body_sha256":"\([0-9a-f]*\)".*/\1/p' <<<"$RAW_OUT") $(sed -n 's/.*"body_bytes":\([0-9]*\).*/\1/p' <<<"$RAW_OUT")"
bytes 'POST /echo/bad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n' badchunk.req
raw "$T/badchunk.req"
eq "a bad chunk size: 400, connection closed" "400 fin" "$(sed -n '1s/^HTTP\/1.1 \([0-9]*\).*/\1/p' <<<"$RAW_OUT") $RAW_END"
bytes 'POST /echo/bad HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n' badlen.req
raw "$T/badlen.req"
eq "a bad Content-Length: 400" "400" "$(sed -n '1s/^HTTP\/1.1 \([0-9]*\).*/\1/p' <<<"$RAW_OUT")"

echo "== Expect: 100-continue"
set +e
V=$(double_curl echo -v -o "$T/body" -w '%{http_code}' -H 'Expect: 100-continue' --data-binary "@$T/3m.bin" "$U/echo/continue" 2>"$T/v.err")
set -e
eq "with Expect: the upload succeeds" "200 true $SUM" "$V $(jq -r '"\(.expect_continue) \(.body_sha256)"' "$T/body")"
grep -q '^< HTTP/1.1 100 Continue' "$T/v.err" || fail "curl saw no 100 Continue: $(cat "$T/v.err")"
pass_note "100 Continue is sent when the handler reads the body"
bytes 'PUT /objects/e HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n' expect-head.req
bytes 'hello world' expect-body.req
raw "$T/expect-head.req" "await=100 Continue" "$T/expect-body.req" shut
eq "raw: 100 Continue, then the body, then 201" "1 201" \
  "$(grep -c '^HTTP/1.1 100 Continue$' <<<"$RAW_OUT") $(grep '^HTTP/1.1 ' <<<"$RAW_OUT" | tail -1 | cut -d' ' -f2)"
ID=$(fault '{"method":"PUT","path":"/objects/early","status":503,"body":"SlowDown"}')
bytes 'PUT /objects/early HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n' early.req
raw "$T/early.req"
eq "an early answer: no 100 Continue, the 503, then the connection closes" "0 503 fin" \
  "$(grep -c '100 Continue' <<<"$RAW_OUT" || true) $(sed -n '1s/^HTTP\/1.1 \([0-9]*\).*/\1/p' <<<"$RAW_OUT") $RAW_END"
has "an early answer says Connection: close" "Connection: close" "$RAW_OUT"
c "$U/objects/early"; eq "the body of the refused PUT was never stored" 404 "$ST"

echo "== fault: status, count, method and path match"
c -T "$T/3m.bin" "$U/objects/x"; eq "PUT an object" 201 "$ST"
ID=$(fault '{"method":"GET","path":"/objects/*","status":503,"count":2,"headers":{"Content-Type":"application/xml","Retry-After":"1"},"body":"<Error><Code>SlowDown</Code></Error>"}')
c "$U/objects/x"; eq "1st matching GET: the rule's status" 503 "$ST"
eq "the rule's body" "<Error><Code>SlowDown</Code></Error>" "$BODY"
has "the rule's headers" "Retry-After: 1" "$(double_curl echo -s -o /dev/null -D - "$U/objects/x" | tr -d '\r')"
c -T "$T/3m.bin" "$U/objects/x"; eq "another method does not match" 201 "$ST"
c "$U/echo/x"; eq "another path does not match" 200 "$ST"
c "$U/objects/x"; eq "count 2 used up: answered for real" 200 "$ST"
eq "rule fired 2 times, 0 left" "2 0" "$(double_admin echo GET /faults | jq -r ".faults[] | select(.id == $ID) | \"\(.fired) \(.remaining)\"")"
eq "the log names the rule" "{\"id\":$ID,\"action\":\"status\"}" "$(last_log '.status == 503' | jq -c .fault)"

echo "== fault: skip, query, always, removal"
fault '{"path":"/echo/q","query":{"part":"2"},"skip":1,"status":500}' >/dev/null
c "$U/echo/q?part=1"; eq "query does not match" 200 "$ST"
c "$U/echo/q?part=2"; eq "skip 1: the first match is let through" 200 "$ST"
c "$U/echo/q?part=2"; eq "then the fault" 500 "$ST"
c "$U/echo/q?part=2"; eq "then done" 200 "$ST"
ID=$(fault '{"always":true,"status":500}')
c "$U/echo/a"; A1=$ST; c "$U/objects/x"; A2=$ST; c -X LIST "$U/echo/b"; A3=$ST
eq "always, every path and method" "500 500 500" "$A1 $A2 $A3"
eq "the default error body is the double's" "injected fault (rule $ID)" "$(j .error)"
eq "the admin endpoint is never faulted" 200 "$(double_curl echo -o /dev/null -w '%{http_code}' "$ECHO_DOUBLE_ADMIN/log")"
double_admin echo DELETE "/faults/$ID"
c "$U/echo/a"; eq "rule removed" 200 "$ST"
c -X DELETE "$ECHO_DOUBLE_ADMIN/faults/$ID"; eq "removing it again: 404" 404 "$ST"

echo "== fault: a 200 with an error body, a JSON body"
fault '{"method":"POST","path":"/echo/complete","status":200,"headers":{"Content-Type":"application/xml"},"body":"<Error><Code>InternalError</Code></Error>"}' >/dev/null
c -X POST --data-binary x "$U/echo/complete"; eq "200 with an error body" "200 <Error><Code>InternalError</Code></Error>" "$ST $BODY"
fault '{"path":"/echo/conflict","status":409,"json":{"kind":"Status","reason":"AlreadyExists"}}' >/dev/null
c "$U/echo/conflict"; eq "a JSON body" "409 AlreadyExists" "$ST $(j .reason)"

echo "== fault: delay"
c "$U/echo/slow"; UNDELAYED=$(j '"\(.method) \(.path)"')
ID=$(fault '{"path":"/echo/slow","action":"delay","ms":400}')
c "$U/echo/slow"; eq "a delayed request answers as an undelayed one" "200 $UNDELAYED" "$ST $(j '"\(.method) \(.path)"')"
eq "the log: the delay fault, at least its 400 ms" "delay true" \
  "$(last_log '.path == "/echo/slow"' | jq -r '"\(.fault.action) \(.duration_ms >= 400)"')"

echo "== fault: stall"
ID=$(fault '{"path":"/echo/stall","action":"stall"}')
c --max-time 2 "$U/echo/stall"; eq "a stall never answers (curl gives up: 28)" "28 000" "$CRC $ST"
eq "the log: stalled, no status" "stall null" "$(last_log '.path == "/echo/stall"' | jq -r '"\(.fault.action) \(.status)"')"
c --max-time 2 "$U/echo/stall"; eq "count 1: the next one answers" 200 "$ST"

echo "== fault: reset after N request body bytes"
ID=$(fault '{"method":"PUT","path":"/objects/big","action":"reset","after_bytes":65536}')
c -T "$T/3m.bin" "$U/objects/big"
case $CRC in 55 | 56) pass_note "the upload fails with a connection reset (curl $CRC)" ;; *) fail "reset: curl exit $CRC, expected 55 or 56: $(cat "$T/curl.err")" ;; esac
eq "the log: reset after 65536 of 3000000 bytes, no answer" "reset null true true" \
  "$(last_log '.path == "/objects/big"' | jq -r '"\(.fault.action) \(.status) \(.body_bytes >= 65536 and .body_bytes < 3000000) \(.aborted)"')"
c "$U/objects/big"; eq "the handler never saw the reset PUT" 404 "$ST"
fault '{"path":"/echo/rst","action":"reset","after_bytes":0}' >/dev/null
bytes 'GET /echo/rst HTTP/1.1\r\nHost: x\r\n\r\n' rst.req
raw "$T/rst.req"
eq "reset at once: a TCP reset, no bytes" "reset 0" "$RAW_END $(wc -c <"$T/raw.out" | tr -d ' ')"

echo "== fault: response cut after N bytes"
head -c 100000 /dev/urandom >"$T/100k.bin"
c -T "$T/100k.bin" "$U/objects/c"
fault '{"method":"GET","path":"/objects/c","action":"cut","after_bytes":1000}' >/dev/null
c "$U/objects/c"
eq "200, then the connection closes after 1000 of 100000 bytes (curl 18)" "200 18 1000" "$ST $CRC $(wc -c <"$T/body" | tr -d ' ')"
cmp -s <(head -c 1000 "$T/100k.bin") "$T/body" || fail "the cut body should be the object's first 1000 bytes"
pass_note "the cut body is the start of the real one"
fault '{"path":"/stream/*","action":"cut","after_bytes":50000}' >/dev/null
c "$U/stream/200000"; eq "a chunked stream cut after 50000 bytes" "200 18 50000" "$ST $CRC $(wc -c <"$T/body" | tr -d ' ')"
fault '{"path":"/echo/cutown","action":"cut","after_bytes":10,"status":200,"body":"<Result>0123456789abcdef</Result>"}' >/dev/null
c "$U/echo/cutown"; eq "cut of the rule's own answer" "200 18 <Result>01" "$ST $CRC $BODY"
c "$U/objects/c"; eq "cut used up: the whole object" "200 100000" "$ST $(wc -c <"$T/body" | tr -d ' ')"

echo "== fault: flag (a double's own fault, e.g. a bad Content-MD5)"
fault '{"method":"PUT","path":"/echo/flagged","action":"flag","name":"bad_md5"}' >/dev/null
c -X PUT --data-binary x "$U/echo/flagged"; eq "the handler sees the flag" '["bad_md5"]' "$(jq -c .flags <<<"$BODY")"
c -X PUT --data-binary x "$U/echo/flagged"; eq "once" '[]' "$(jq -c .flags <<<"$BODY")"

echo "== fault rules are checked"
c -X POST --data-binary '{"path":"/x","status":500,"cuont":2}' "$ECHO_DOUBLE_ADMIN/faults"
eq "an unknown key: 400 naming it" "400 true" "$ST $(j '.error | contains("\"cuont\"")')"
c -X POST --data-binary '{"action":"explode"}' "$ECHO_DOUBLE_ADMIN/faults"
eq "an unknown action: 400" 400 "$ST"
c -X POST --data-binary '{"action":"reset"}' "$ECHO_DOUBLE_ADMIN/faults"
eq "reset without after_bytes: 400" 400 "$ST"

echo "== XML"
c "$U/xml"
has "XML declaration" '<?xml version="1.0" encoding="UTF-8"?>' "$BODY"
has "root with its namespace" '<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' "$BODY"
has "repeated elements, text escaped" '<Bucket><Name>a</Name>' "$BODY"
has "escaping" '<Name>b&lt;c&gt;</Name>' "$BODY"
c -X POST --data-binary '<?xml version="1.0"?><!-- c --><Delete xmlns="x"><Object><Key>a&amp;b</Key></Object><Object><Key><![CDATA[<raw>]]></Key></Object><Quiet>true</Quiet></Delete>' "$U/xml"
eq "XML parsed: elements, entities, CDATA" "Delete a&b <raw> true" "$(j '"\(.name) \(.children[0].children[0].text) \(.children[1].children[0].text) \(.children[2].text)"')"
c -X POST --data-binary '<Delete><Object></Delete>' "$U/xml"
eq "malformed XML: 400" 400 "$ST"

echo "== the request log hides secrets"
double_admin echo DELETE /log
c -H 'Authorization: Bearer sekrit-AAA' -H 'X-Vault-Token: sekrit-BBB' -H 'Cookie: s=sekrit-CCC' \
  -H 'X-Amz-Security-Token: sekrit-DDD' -H 'X-Request-Id: rid-1' "$U/echo/s?X-Amz-Signature=sekrit-EEE&keep=1"
eq "the request went through" 200 "$ST"
LOG=$(double_log echo)
lacks "no secret value in the request log" sekrit "$LOG"
lacks "no secret value in the double's output" sekrit "$(cat "$ECHO_DOUBLE_LOG")"
E=$(jq -c '.requests[0]' <<<"$LOG")
eq "secret headers logged as present" "true true true true" \
  "$(jq -r '.secrets | "\(.authorization) \(.["x-vault-token"]) \(.cookie) \(.["x-amz-security-token"])"' <<<"$E")"
eq "an absent secret header logged as absent" false "$(jq -r '.secrets["proxy-authorization"]' <<<"$E")"
eq "chosen headers logged with their value" rid-1 "$(jq -r '.headers["x-request-id"]' <<<"$E")"
eq "secret query parameters redacted" "X-Amz-Signature=(redacted)&keep=1" "$(jq -r .query <<<"$E")"
double_reset echo
eq "reset: no rules, empty log, no objects" "0 0 404" \
  "$(double_admin echo GET /faults | jq '.faults | length') $(double_log echo | jq '.requests | length') $(double_curl echo -o /dev/null -w '%{http_code}' "$U/objects/x")"

echo "== TLS"
OLD_PID=$ECHO_DOUBLE_PID
stop_double echo
! kill -0 "$OLD_PID" 2>/dev/null || fail "stop_double echo should stop the last echo double (pid $OLD_PID)"
eq "stop_double NAME clears its PID variable" "" "$ECHO_DOUBLE_PID"
start_double echo --tls
eq "TLS: https URL" "https://127.0.0.1:$ECHO_DOUBLE_PORT" "$ECHO_DOUBLE_URL"
c "$ECHO_DOUBLE_URL/echo/tls"; eq "TLS with the test CA" 200 "$ST"
set +e; curl -sS -o /dev/null --cacert "$DOUBLES_TLS_DIR/other-ca.pem" "$ECHO_DOUBLE_URL/echo/x" 2>/dev/null; rc=$?; set -e
eq "TLS with another CA: refused (curl 60)" 60 "$rc"
eq "TLS by name localhost" 200 "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ECHO_DOUBLE_CACERT" "https://localhost:$ECHO_DOUBLE_PORT/echo/x")"
bytes 'GET /echo/a HTTP/1.1\r\nHost: x\r\n\r\nGET /echo/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' tlspipe.req
RAW_END=$(node "$RAW" --port "$ECHO_DOUBLE_PORT" --tls-ca "$ECHO_DOUBLE_CACERT" --out "$T/raw.out" "send=$T/tlspipe.req")
eq "TLS: keep-alive and pipelining" "2 fin" "$(grep -c '^HTTP/1.1 200 OK' "$T/raw.out") $RAW_END"
fault '{"method":"PUT","path":"/objects/tls","action":"reset","after_bytes":65536}' >/dev/null
c -T "$T/3m.bin" "$ECHO_DOUBLE_URL/objects/tls"
case $CRC in 55 | 56) pass_note "TLS: the reset fault resets the TCP connection (curl $CRC)" ;; *) fail "TLS reset: curl exit $CRC: $(cat "$T/curl.err")" ;; esac
TLS_PID=$ECHO_DOUBLE_PID TLS_PORT=$ECHO_DOUBLE_PORT

echo "== mTLS"
start_double echo --mtls
eq "a second double runs beside the first" "true true" \
  "$([ "$ECHO_DOUBLE_PORT" != "$TLS_PORT" ] && echo true) $(kill -0 "$TLS_PID" && echo true)"
c "$ECHO_DOUBLE_URL/echo/m"; eq "mTLS with the client certificate" 200 "$ST"
eq "the log records the client certificate" "true drctl test client" "$(last_log '.path == "/echo/m"' | jq -r '"\(.client_cert) \(.client_cert_cn)"')"
set +e; code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$ECHO_DOUBLE_CACERT" "$ECHO_DOUBLE_URL/echo/x" 2>/dev/null); rc=$?; set -e
eq "mTLS without a client certificate: refused, no answer" "true 000" "$([ "$rc" != 0 ] && echo true) $code"
set +e
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$ECHO_DOUBLE_CACERT" --cert "$DOUBLES_TLS_DIR/other-client.pem" \
  --key "$DOUBLES_TLS_DIR/other-client.key" "$ECHO_DOUBLE_URL/echo/x" 2>/dev/null); rc=$?
set -e
eq "mTLS with a certificate from another CA: refused, no answer" "true 000" "$([ "$rc" != 0 ] && echo true) $code"
eq "the refused clients never reached the log" 0 "$(double_log echo | jq '[.requests[] | select(.path == "/echo/x")] | length')"

echo "== harness"
stop_double "$TLS_PID"
! kill -0 "$TLS_PID" 2>/dev/null || fail "stop_double PID should stop that double"
[ ! -e "$HARNESS_PORT_LOCKS/$TLS_PORT" ] || fail "stop_double should release port $TLS_PORT"
pass_note "stop_double PID stops it and releases its port"
set +e; (start_double nosuch) 2>"$T/nosuch.err"; rc=$?; set -e
eq "start_double of an unknown double fails" 1 "$rc"
has "and says which" "no double named nosuch" "$(cat "$T/nosuch.err")"
info="$T/child.info"
set +e
(bash -c 'set -euo pipefail; source "$1"; harness_init; start_double echo --tls 2>/dev/null
  echo "$HARNESS_DIR $ECHO_DOUBLE_PID $ECHO_DOUBLE_PORT" >"$2"; kill -KILL $$' child \
  "$DRCTL_SOURCE_DIR/tests/harness/services.sh" "$info"; true) 2>/dev/null # (no "Killed" notice)
set -e
read -r c_dir c_pid c_port <"$info" || fail "the child shell did not start its double"
for _ in $(seq 1 300); do { [ -d "$c_dir" ] || kill -0 "$c_pid" 2>/dev/null; } || break; sleep 0.1; done
! kill -0 "$c_pid" 2>/dev/null || fail "the double (pid $c_pid) of a SIGKILLed shell is still running"
[ ! -d "$c_dir" ] || fail "the harness folder $c_dir of a SIGKILLed shell is still there"
[ ! -e "$HARNESS_PORT_LOCKS/$c_port" ] || fail "port $c_port of a SIGKILLed shell is still reserved"
pass_note "the watchdog stops the double of a shell killed with SIGKILL"

echo "$CHECKS passed, 0 failed"
