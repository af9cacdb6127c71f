#!/usr/bin/env bash
# Conformance test of the S3 double (tests/doubles/s3) against the Amazon S3
# API Reference (https://docs.aws.amazon.com/AmazonS3/latest/API/), seen from
# the client's side: curl signs every request with its own SigV4 signer
# (--aws-sigv4), an implementation independent of the double's verifier.
# Covers: SigV4 (good, wrong secret, unknown key, no header, skewed clock,
# wrong region, missing x-amz-content-sha256, session tokens); path-style
# and virtual-hosted addressing; keys with spaces, %, +, =, UTF-8; PUT, GET
# with ranges (206, 416), HEAD, DELETE, conditional writes; Content-MD5,
# x-amz-content-sha256 and x-amz-checksum-* checks; ListObjectsV2 (prefix,
# delimiter, max-keys, continuation, start-after, encoding-type, more than
# 1000 objects); multipart uploads (ETag form, EntityTooSmall, InvalidPart,
# InvalidPartOrder, part numbers, abort, ListParts, ListMultipartUploads);
# Object Lock (configuration, retention headers, versions, delete markers,
# protected versions, governance bypass, default retention, multipart);
# every fault switch the README lists (with counts, and the request log
# showing what was resent); the admin state; TLS; and a smoke test of
# s3rver, the independent S3 implementation the harness also starts.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
require_tools node curl jq openssl sha256sum python3 base64
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init

EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
eq() { [ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"; pass_note "$1"; }
has() { case "$3" in *"$2"*) pass_note "$1" ;; *) fail "$1: [$3] should contain [$2]" ;; esac; }
lacks() { case "$3" in *"$2"*) fail "$1: [$3] should not contain [$2]" ;; *) pass_note "$1" ;; esac; }
# xv XPATH [FILE]: the texts of the matching elements of an XML answer (namespaces
# dropped), one a line; "ROOT" gives the root element with its namespace.
cat >"$T/xv.py" <<'PY'
import signal, sys, xml.etree.ElementTree as ET
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
try:
    root = ET.fromstring(open(sys.argv[2], 'rb').read())
except ET.ParseError:
    sys.exit(0)  # no XML (an empty answer): no matches
if sys.argv[1] == 'ROOT':
    print(root.tag); sys.exit(0)
for el in root.iter():
    el.tag = el.tag.split('}')[-1]
for el in root.findall(sys.argv[1]):
    print(el.text or '')
PY
xv() { python3 "$T/xv.py" "$1" "${2:-$T/body}"; }
hdr() { tr -d '\r' <"$T/hdr" | awk -v h="${1,,}" -F': ' 'tolower($1) == h { v = substr($0, length($1) + 3) } END { print v }'; }
md5b64() { openssl dgst -md5 -binary "$1" | base64; }
sha() { sha256sum "$1" | cut -c1-64; }

# creds KEY SECRET [REGION]: the curl config every signed request reads (no secret on argv)
creds() {
	printf 'user = "%s:%s"\naws-sigv4 = "aws:amz:%s:s3"\n' "$1" "$2" "${3:-us-east-1}" >"$T/creds.curlrc"
	chmod 600 "$T/creds.curlrc"
}
# s3 METHOD PATH [CURL-ARGS]: a request signed by curl -> $ST $BODY $CRC, headers in $T/hdr.
# $PH is the x-amz-content-sha256 to send (default: the empty body's hash).
s3() {
	local m=$1 p=$2 how=(-X "$1")
	shift 2
	[ "$m" != HEAD ] || how=(-I)
	set +e
	ST=$(curl -sS -K "$T/creds.curlrc" "${CURL_TLS[@]}" -o "$T/body" -D "$T/hdr" -w '%{http_code}' "${how[@]}" \
		-H "x-amz-content-sha256: ${PH:-$EMPTY_SHA}" "$@" "$BASE$p" 2>"$T/curl.err")
	CRC=$?
	set -e
	BODY=$(tr -d '\0' <"$T/body" 2>/dev/null || true)
	if [ "$m" = HEAD ]; then BODY=; : >"$T/body"; fi # (curl -I writes the head there)
}
# put FILE PATH [CURL-ARGS]: PutObject / UploadPart of FILE, its SHA-256 signed
put() { local f=$1 p=$2; shift 2; PH=$(sha "$f") s3 PUT "$p" -T "$f" "$@"; }
state() { double_admin s3 GET /state; }
mkfile() { head -c "$2" /dev/urandom >"$T/$1"; }

echo "== start_s3_double and the environment drctl reads"
start_s3_double --bucket plain --lock-bucket locked
BASE=$S3_DOUBLE_URL CURL_TLS=()
eq "AWS_ENDPOINT_URL is the double" "$S3_DOUBLE_URL" "$AWS_ENDPOINT_URL"
eq "AWS_REGION" us-east-1 "$AWS_REGION"
eq "AWS_SECRET_ACCESS_KEY is the secret the double checks" "$(cat "$S3_DOUBLE_SECRET_FILE")" "$AWS_SECRET_ACCESS_KEY"
eq "S3_DOUBLE_BUCKET is the first bucket" plain "$S3_DOUBLE_BUCKET"
grep -q "^s3-double listening on $S3_DOUBLE_PORT (http)$" "$S3_DOUBLE_LOG" || fail "no readiness line in $S3_DOUBLE_LOG"
lacks "the secret is not on the double's command line" "$AWS_SECRET_ACCESS_KEY" "$(tr '\0' ' ' </proc/"$S3_DOUBLE_PID"/cmdline)"
creds "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"

echo "== SigV4 (Authenticating Requests: AWS Signature Version 4; Error responses)"
s3 GET /
eq "ListBuckets signed by curl: 200" 200 "$ST"
eq "ListBuckets names both buckets" "locked plain" "$(xv Buckets/Bucket/Name | tr '\n' ' ' | sed 's/ $//')"
eq "documents carry S3's namespace" "{http://s3.amazonaws.com/doc/2006-03-01/}ListAllMyBucketsResult" "$(xv ROOT)"
[[ $(hdr x-amz-request-id) =~ ^[0-9A-F]{16}$ ]] || fail "no x-amz-request-id: $(cat "$T/hdr")"
pass_note "x-amz-request-id on the answer"
creds "$AWS_ACCESS_KEY_ID" wrong-secret
s3 GET /plain
eq "wrong secret: 403 SignatureDoesNotMatch" "403 SignatureDoesNotMatch" "$ST $(xv Code)"
eq "its body gives the canonical request the double computed" "GET" "$(xv CanonicalRequest | sed -n 1p)"
eq "and the access key id" "$AWS_ACCESS_KEY_ID" "$(xv AWSAccessKeyId)"
creds AKIANOSUCHKEY "$AWS_SECRET_ACCESS_KEY"
s3 GET /plain
eq "unknown access key: 403 InvalidAccessKeyId" "403 InvalidAccessKeyId AKIANOSUCHKEY" "$ST $(xv Code) $(xv AWSAccessKeyId)"
creds "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" eu-west-1
s3 GET /plain
eq "wrong region: 400 AuthorizationHeaderMalformed naming the right one" "400 AuthorizationHeaderMalformed us-east-1" "$ST $(xv Code) $(xv Region)"
creds "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
ST=$(curl -sS -o "$T/body" -w '%{http_code}' "$BASE/plain?list-type=2")
eq "no Authorization header: 403 AccessDenied" "403 AccessDenied" "$ST $(xv Code)"
ST=$(curl -sS -K "$T/creds.curlrc" -o "$T/body" -w '%{http_code}' "$BASE/plain?list-type=2")
eq "signed without x-amz-content-sha256: 400 InvalidRequest" "400 Missing required header for this request: x-amz-content-sha256" "$ST $(xv Message)"
double_admin s3 POST /state '{"clock_offset_ms": 960000}' >/dev/null
s3 GET /plain
eq "the double's clock 16 minutes ahead: 403 RequestTimeTooSkewed" "403 RequestTimeTooSkewed 900000" "$ST $(xv Code) $(xv MaxAllowedSkewMilliseconds)"
double_admin s3 POST /state '{"clock_offset_ms": 840000}' >/dev/null
s3 GET /plain
eq "14 minutes is within the 15 allowed" 200 "$ST"
double_admin s3 POST /state '{"clock_offset_ms": 0}' >/dev/null
s3 GET "/plain?list-type=2&prefix=x"
eq "query sorted by name as the canonical request wants it: 200" 200 "$ST"
s3 GET "/plain?prefix=x&list-type=2"
eq "curl 7.88 signs the query unsorted: S3 (and the double) refuse it" "403 SignatureDoesNotMatch" "$ST $(xv Code)"
eq "the log names the access key, never the secret" "$AWS_ACCESS_KEY_ID" "$(double_log s3 | jq -r '[.requests[] | select(.s3_op == "ListObjectsV2")][-1].access_key')"
lacks "no secret in the request log" "$AWS_SECRET_ACCESS_KEY" "$(double_log s3)"

# A second signer, written here from the SigV4 documentation (Python's hmac),
# for what curl cannot send: it writes a whole request for the raw client.
# sign.py METHOD PATH QUERY PAYLOAD-HASH [UNSIGNED-HEADER-LINE...]; AK, SK, HOSTPORT from the environment.
cat >"$T/sign.py" <<'PY'
import datetime, hashlib, hmac, os, sys, urllib.parse
method, path, query, payload = sys.argv[1:5]
unsigned = sys.argv[5:]
ak, sk, host = os.environ['AK'], os.environ['SK'], os.environ['HOSTPORT']
now = datetime.datetime.now(datetime.timezone.utc)
amzdate, day = now.strftime('%Y%m%dT%H%M%SZ'), now.strftime('%Y%m%d')
enc = lambda s, safe: urllib.parse.quote(s, safe=safe)
# S3 reads a "+" in a path as a space: the canonical URI is the decoded path encoded once.
canon_uri = enc(urllib.parse.unquote_plus(path), '/')
pairs = sorted((enc(urllib.parse.unquote_plus(n), ''), enc(urllib.parse.unquote_plus(v), ''))
               for n, _, v in (p.partition('=') for p in query.split('&') if p))
canon_query = '&'.join(n + '=' + v for n, v in pairs)
headers = {'host': host, 'x-amz-content-sha256': payload, 'x-amz-date': amzdate}
signed = ';'.join(sorted(headers))
canon = '\n'.join([method, canon_uri, canon_query, ''.join(f'{k}:{headers[k]}\n' for k in sorted(headers)), signed, payload])
scope = f'{day}/us-east-1/s3/aws4_request'
sts = '\n'.join(['AWS4-HMAC-SHA256', amzdate, scope, hashlib.sha256(canon.encode()).hexdigest()])
k = ('AWS4' + sk).encode()
for part in (day, 'us-east-1', 's3', 'aws4_request'):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
target = path + ('?' + query if query else '')
lines = [f'{method} {target} HTTP/1.1'] + [f'{k}: {v}' for k, v in headers.items()] + unsigned + [
    f'Authorization: AWS4-HMAC-SHA256 Credential={ak}/{scope}, SignedHeaders={signed}, Signature={sig}',
    'Content-Length: 0', 'Connection: close']
sys.stdout.write('\r\n'.join(lines) + '\r\n\r\n')
PY
# raw_signed METHOD PATH QUERY [UNSIGNED-HEADER-LINE...] -> $ST, the body in $T/body
raw_signed() {
	AK=$AWS_ACCESS_KEY_ID SK=$AWS_SECRET_ACCESS_KEY HOSTPORT=127.0.0.1:$S3_DOUBLE_PORT python3 "$T/sign.py" "$1" "$2" "$3" "$EMPTY_SHA" "${@:4}" >"$T/raw.req"
	node "$DRCTL_SOURCE_DIR/tests/doubles/lib/raw-client.js" --port "$S3_DOUBLE_PORT" --out "$T/raw.out" send="$T/raw.req" >/dev/null
	ST=$(head -1 "$T/raw.out" | awk '{print $2}')
	sed '1,/^\r$/d' "$T/raw.out" >"$T/body"
}
raw_signed GET /plain "list-type=2&prefix=x"
eq "signed by the second signer (Python): 200" 200 "$ST"
raw_signed GET /plain "list-type=2" "x-amz-meta-extra: not signed"
eq "an x-amz-* header left out of SignedHeaders: 403 AccessDenied naming it" "403 AccessDenied x-amz-meta-extra" "$ST $(xv Code) $(xv HeadersNotSigned)"
printf 'GET /plain HTTP/1.1\r\nHost: x\r\nAuthorization: AWS AKIAEXAMPLE:c2lnbmF0dXJl\r\nConnection: close\r\n\r\n' >"$T/v2.req"
node "$DRCTL_SOURCE_DIR/tests/doubles/lib/raw-client.js" --port "$S3_DOUBLE_PORT" --out "$T/raw.out" send="$T/v2.req" >/dev/null
sed '1,/^\r$/d' "$T/raw.out" >"$T/body"
eq "Signature Version 2: 400 InvalidRequest" "400 InvalidRequest" "$(head -1 "$T/raw.out" | awk '{print $2}') $(xv Code)"

echo "== keys and addressing (PutObject, GetObject; path-style and virtual-hosted-style requests)"
printf 'hello, S3\n' >"$T/hello"
put "$T/hello" "/plain/dir/a%20b%2Bc%3Dd%25e"
eq "PUT a key with space, +, =, %: 200" 200 "$ST"
eq "ETag is the quoted MD5" "\"$(openssl dgst -md5 -hex "$T/hello" | awk '{print $NF}')\"" "$(hdr ETag)"
eq "no x-amz-version-id in a bucket never versioned" "" "$(hdr x-amz-version-id)"
s3 GET "/plain?list-type=2&prefix=dir%2F"
eq "the key is stored decoded" "dir/a b+c=d%e" "$(xv Contents/Key)"
s3 GET "/plain/dir/a%20b%2Bc%3Dd%25e"
eq "GET it back" "200 hello, S3" "$ST $BODY"
s3 GET "/plain/dir/a+b%2Bc%3Dd%25e"
# S3 reads a raw "+" in a path as a space and signs the key it decoded:
# a client that signs the "+" as it sent it is refused.
eq "a raw + in the path is a space: the canonical URI has %20" "403 SignatureDoesNotMatch /plain/dir/a%20b%2Bc%3Dd%25e" "$ST $(xv Code) $(xv CanonicalRequest | sed -n 2p)"
raw_signed GET "/plain/dir/a+b%2Bc%3Dd%25e" ""
eq "signed as S3 decodes it (the second signer): the key \"a b+c=d%e\"" "200 hello, S3" "$ST $(cat "$T/body")"
put "$T/hello" "/plain/%E6%97%A5%E6%9C%AC/%C3%A9t%C3%A9%20%F0%9F%98%80"
s3 GET "/plain?list-type=2&prefix=%E6%97%A5"
eq "UTF-8 keys (3- and 4-byte characters)" "日本/été 😀" "$(xv Contents/Key)"
s3 GET "/plain/bad%zzkey"
eq "a malformed %-escape: 400 InvalidURI" "400 InvalidURI" "$ST $(xv Code)"
BASE="http://plain.localhost:$S3_DOUBLE_PORT" s3 GET "/dir/a%20b%2Bc%3Dd%25e" --resolve "plain.localhost:$S3_DOUBLE_PORT:127.0.0.1"
eq "virtual-hosted style (Host: plain.localhost), signed: 200" "200 hello, S3" "$ST $BODY"
s3 GET /nosuchbucket/x
eq "missing bucket: 404 NoSuchBucket naming it" "404 NoSuchBucket nosuchbucket" "$ST $(xv Code) $(xv BucketName)"

echo "== objects (PutObject, HeadObject, GetObject with Range, DeleteObject)"
mkfile obj 1000
put "$T/obj" /plain/obj -H 'Content-Type: application/x-test' -H 'x-amz-meta-origin: conformance'
eq "PUT with Content-Type and metadata" 200 "$ST"
s3 HEAD /plain/obj
eq "HEAD: 200, Content-Length, Content-Type, metadata" "200 1000 application/x-test conformance" "$ST $(hdr Content-Length) $(hdr Content-Type) $(hdr x-amz-meta-origin)"
has "HEAD: Last-Modified is an HTTP date" "GMT" "$(hdr Last-Modified)"
eq "HEAD: Accept-Ranges" bytes "$(hdr Accept-Ranges)"
s3 GET /plain/obj
cmp -s "$T/body" "$T/obj" || fail "GET returned other bytes"
pass_note "GET returns the bytes PUT stored"
s3 GET /plain/obj -H 'Range: bytes=10-19'
eq "Range bytes=10-19: 206, Content-Range, 10 bytes" "206 bytes 10-19/1000 10" "$ST $(hdr Content-Range) $(wc -c <"$T/body")"
cmp -s "$T/body" <(tail -c +11 "$T/obj" | head -c 10) || fail "range bytes differ"
pass_note "the range's bytes are the object's bytes 10..19"
s3 GET /plain/obj -H 'Range: bytes=-100'
eq "suffix range bytes=-100" "206 bytes 900-999/1000" "$ST $(hdr Content-Range)"
s3 GET /plain/obj -H 'Range: bytes=990-5000'
eq "a range past the end is cut to it" "206 bytes 990-999/1000" "$ST $(hdr Content-Range)"
s3 GET /plain/obj -H 'Range: bytes=1000-'
eq "a range starting at the size: 416 InvalidRange" "416 InvalidRange bytes */1000 1000" "$ST $(xv Code) $(hdr Content-Range) $(xv ActualObjectSize)"
s3 GET /plain/obj -H 'Range: bytes=0-1,5-6'
eq "several ranges: ignored, the whole object" "200 1000" "$ST $(wc -c <"$T/body")"
s3 HEAD /plain/nothing
eq "HEAD of a missing key: 404" 404 "$ST"
put "$T/hello" /plain/obj -H 'If-None-Match: *'
eq "If-None-Match: * on an existing key: 412 PreconditionFailed" "412 PreconditionFailed" "$ST $(xv Code)"
put "$T/hello" /plain/fresh -H 'If-None-Match: *'
eq "If-None-Match: * on a new key: 200" 200 "$ST"
s3 GET /plain/obj -H "If-None-Match: \"$(openssl dgst -md5 -hex "$T/obj" | awk '{print $NF}')\""
eq "GET If-None-Match with the ETag: 304" 304 "$ST"
s3 DELETE /plain/obj
eq "DELETE: 204" 204 "$ST"
s3 GET /plain/obj
eq "then GET: 404 NoSuchKey naming the key" "404 NoSuchKey obj" "$ST $(xv Code) $(xv Key)"
s3 DELETE /plain/never-there
eq "DELETE of a missing key: 204 all the same" 204 "$ST"
set +e
ST=$(curl -sS -K "$T/creds.curlrc" -o "$T/body" -w '%{http_code}' -H 'Transfer-Encoding: chunked' -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	--data-binary @"$T/hello" -X PUT "$BASE/plain/chunked")
set -e
eq "PUT without Content-Length (chunked): 411 MissingContentLength" "411 MissingContentLength" "$ST $(xv Code)"

echo "== integrity (Content-MD5, x-amz-content-sha256, x-amz-checksum-*)"
put "$T/hello" /plain/md5 -H "Content-MD5: $(md5b64 "$T/hello")"
eq "right Content-MD5: 200" 200 "$ST"
put "$T/hello" /plain/md5bad -H "Content-MD5: $(md5b64 "$T/obj")"
eq "wrong Content-MD5: 400 BadDigest" "400 BadDigest" "$ST $(xv Code)"
put "$T/hello" /plain/md5bad -H "Content-MD5: not-base64"
eq "malformed Content-MD5: 400 InvalidDigest" "400 InvalidDigest" "$ST $(xv Code)"
PH=$(sha "$T/obj") s3 PUT /plain/shabad -T "$T/hello"
eq "x-amz-content-sha256 of other bytes: 400 XAmzContentSHA256Mismatch" "400 XAmzContentSHA256Mismatch $(sha "$T/hello")" "$ST $(xv Code) $(xv S3ComputedContentSHA256)"
s3 HEAD /plain/shabad
eq "and nothing was stored" 404 "$ST"
PH=UNSIGNED-PAYLOAD s3 PUT /plain/unsigned -T "$T/hello"
eq "UNSIGNED-PAYLOAD: 200" 200 "$ST"
put "$T/hello" /plain/sum -H "x-amz-checksum-sha256: $(openssl dgst -sha256 -binary "$T/hello" | base64)"
eq "right x-amz-checksum-sha256: 200" 200 "$ST"
put "$T/hello" /plain/sum -H "x-amz-checksum-sha256: $(openssl dgst -sha256 -binary "$T/obj" | base64)"
eq "wrong x-amz-checksum-sha256: 400 BadDigest" "400 BadDigest" "$ST $(xv Code)"
printf '123456789' >"$T/nine"
put "$T/nine" /plain/crc -H 'x-amz-checksum-crc32: y/Q5Jg==' -H 'x-amz-checksum-crc32c: 4waSgw=='
eq "CRC32 and CRC32C of \"123456789\" (the check values cbf43926, e3069283): 200" 200 "$ST"

for k in d1 d2; do put "$T/hello" "/plain/del/$k"; done
printf '<Delete><Object><Key>del/d1</Key></Object><Object><Key>del/d2</Key></Object></Delete>' >"$T/delete.xml"
put "$T/delete.xml" "/plain?delete=" -X POST
eq "DeleteObjects without Content-MD5: 400 InvalidRequest" "400 InvalidRequest" "$ST $(xv Code)"
put "$T/delete.xml" "/plain?delete=" -X POST -H "Content-MD5: $(md5b64 "$T/delete.xml")"
eq "DeleteObjects: both Deleted" "200 del/d1 del/d2" "$ST $(xv Deleted/Key | paste -sd' ')"
s3 HEAD /plain/del/d2
eq "and gone" 404 "$ST"

echo "== ListObjectsV2 (prefix, delimiter, max-keys, continuation-token, start-after, encoding-type)"
for k in a/1 a/2 a/b/3 b/1 c "sp ace"; do put "$T/hello" "/plain/l/${k// /%20}"; done
s3 GET "/plain?delimiter=%2F&list-type=2&prefix=l%2F"
eq "delimiter /: the keys and CommonPrefixes at that level" "l/c l/sp ace|l/a/ l/b/|4" \
	"$(xv Contents/Key | paste -sd' ')|$(xv CommonPrefixes/Prefix | paste -sd' ')|$(xv KeyCount)"
s3 GET "/plain?list-type=2&max-keys=2&prefix=l%2F"
eq "max-keys=2: two keys, truncated, a token" "l/a/1 l/a/2 true 2 2" "$(xv Contents/Key | paste -sd' ') $(xv IsTruncated) $(xv KeyCount) $(xv MaxKeys)"
tok=$(xv NextContinuationToken)
s3 GET "/plain?continuation-token=$(jq -rn --arg t "$tok" '$t|@uri')&list-type=2&max-keys=2&prefix=l%2F"
eq "the token continues after them" "l/a/b/3 l/b/1 true" "$(xv Contents/Key | paste -sd' ') $(xv IsTruncated)"
eq "ContinuationToken echoed" "$tok" "$(xv ContinuationToken)"
s3 GET "/plain?delimiter=%2F&list-type=2&max-keys=1&prefix=l%2F"
eq "delimiter with max-keys=1: one common prefix" "l/a/ true" "$(xv CommonPrefixes/Prefix) $(xv IsTruncated)"
s3 GET "/plain?continuation-token=$(jq -rn --arg t "$(xv NextContinuationToken)" '$t|@uri')&delimiter=%2F&list-type=2&max-keys=1&prefix=l%2F"
eq "its token goes on after every key under that prefix" "l/b/" "$(xv CommonPrefixes/Prefix)"
s3 GET "/plain?continuation-token=bm90LWEtdG9rZW4&list-type=2"
eq "a bad token: 400 InvalidArgument" "400 InvalidArgument" "$ST $(xv Code)"
s3 GET "/plain?list-type=2&prefix=l%2F&start-after=l%2Fb%2F1"
eq "start-after" "l/c l/sp ace false" "$(xv Contents/Key | paste -sd' ') $(xv IsTruncated)"
s3 GET "/plain?encoding-type=url&list-type=2&prefix=l%2Fsp"
eq "encoding-type=url: keys URL-encoded" "l/sp+ace url" "$(xv Contents/Key) $(xv EncodingType)"
s3 GET "/plain?list-type=2&max-keys=-1"
eq "negative max-keys: 400 InvalidArgument" "400 InvalidArgument" "$ST $(xv Code)"
{
	cat "$T/creds.curlrc"
	printf 'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"\nwrite-out = "%%{http_code}\\n"\n'
	for i in $(seq -w 1 1005); do printf 'url = "%s/plain/many/k%s"\nupload-file = "%s"\n' "$BASE" "$i" "$T/nine"; done
} >"$T/bulk.curlrc"
eq "1005 objects PUT (curl --parallel, each signed)" 1005 "$(curl -sS --no-progress-meter --parallel --parallel-max 16 -K "$T/bulk.curlrc" | grep -c '^200$')"
s3 GET "/plain?list-type=2&prefix=many%2F"
eq "default page: 1000 keys, MaxKeys 1000, truncated" "1000 1000 1000 true" "$(xv Contents/Key | wc -l) $(xv KeyCount) $(xv MaxKeys) $(xv IsTruncated)"
last=$(xv Contents/Key | tail -1)
s3 GET "/plain?continuation-token=$(jq -rn --arg t "$(xv NextContinuationToken)" '$t|@uri')&list-type=2&prefix=many%2F"
eq "the next page: the last 5, not truncated" "5 many/k1001 false" "$(xv Contents/Key | wc -l) $(xv Contents/Key | sed -n 1p) $(xv IsTruncated)"
eq "the first page ended at k1000" many/k1000 "$last"
s3 GET "/plain?list-type=2&max-keys=5000&prefix=many%2F"
eq "max-keys above 1000 gives 1000" "1000 1000" "$(xv Contents/Key | wc -l) $(xv MaxKeys)"

echo "== multipart upload (CreateMultipartUpload, UploadPart, CompleteMultipartUpload, ListParts, ListMultipartUploads, Abort)"
mkfile p1 $((5 * 1024 * 1024)); mkfile p2 $((5 * 1024 * 1024)); mkfile p3 12345
s3 POST "/plain/big?uploads="
eq "CreateMultipartUpload: 200 InitiateMultipartUploadResult" "200 {http://s3.amazonaws.com/doc/2006-03-01/}InitiateMultipartUploadResult big" "$ST $(xv ROOT) $(xv Key)"
up=$(xv UploadId)
for n in 1 2 3; do
	put "$T/p$n" "/plain/big?partNumber=$n&uploadId=$up"
	[ "$ST" = 200 ] || fail "UploadPart $n: $ST $BODY"
	pe[n]=$(hdr ETag)
done
e1=${pe[1]} e2=${pe[2]} e3=${pe[3]}
eq "UploadPart answers each part's quoted MD5" "\"$(openssl dgst -md5 -hex "$T/p2" | awk '{print $NF}')\"" "$e2"
s3 GET "/plain/big?uploadId=$up"
eq "ListParts: the three parts and sizes" "1 2 3|5242880 5242880 12345" "$(xv Part/PartNumber | paste -sd' ')|$(xv Part/Size | paste -sd' ')"
s3 GET "/plain?uploads="
eq "ListMultipartUploads: the upload, with Initiated" "$up big" "$(xv Upload/UploadId) $(xv Upload/Key)"
[[ $(xv Upload/Initiated) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$ ]] || fail "Initiated is not ISO 8601: $(xv Upload/Initiated)"
pass_note "Initiated is an ISO 8601 time"
complete_body() { # PART:ETAG ... -> $T/complete.xml
	{ printf '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
		for pe in "$@"; do printf '<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>' "${pe%%:*}" "${pe#*:}"; done
		printf '</CompleteMultipartUpload>'; } >"$T/complete.xml"
}
complete_body "2:$e2" "1:$e1"
put "$T/complete.xml" "/plain/big?uploadId=$up" -X POST
eq "parts out of order: 400 InvalidPartOrder" "400 InvalidPartOrder" "$ST $(xv Code)"
complete_body "1:$e1" "2:\"0123456789abcdef0123456789abcdef\"" "3:$e3"
put "$T/complete.xml" "/plain/big?uploadId=$up" -X POST
eq "a wrong ETag: 400 InvalidPart" "400 InvalidPart 2" "$ST $(xv Code) $(xv PartNumber)"
complete_body "1:$e1" "2:$e2" "4:$e3"
put "$T/complete.xml" "/plain/big?uploadId=$up" -X POST
eq "a part never uploaded: 400 InvalidPart" "400 InvalidPart" "$ST $(xv Code)"
complete_body "1:$e1" "2:$e2" "3:$e3"
put "$T/complete.xml" "/plain/big?uploadId=$up" -X POST
eq "CompleteMultipartUpload: 200 CompleteMultipartUploadResult" "200 big plain" "$ST $(xv Key) $(xv Bucket)"
want="\"$(for n in 1 2 3; do openssl dgst -md5 -binary "$T/p$n"; done | openssl dgst -md5 -hex | awk '{print $NF}')-3\""
eq "the multipart ETag: MD5 of the parts' MD5s, -3" "$want" "$(xv ETag)"
s3 GET /plain/big
cmp -s "$T/body" <(cat "$T/p1" "$T/p2" "$T/p3") || fail "the completed object is not the parts in order"
pass_note "the object is the three parts in order"
eq "GET's ETag is the multipart one" "$want" "$(hdr ETag)"
s3 GET "/plain/big?uploadId=$up"
eq "the upload is gone: ListParts 404 NoSuchUpload" "404 NoSuchUpload" "$ST $(xv Code)"
s3 POST "/plain/small?uploads="; up=$(xv UploadId)
mkfile s1 1048576
put "$T/s1" "/plain/small?partNumber=1&uploadId=$up"; e1=$(hdr ETag)
put "$T/hello" "/plain/small?partNumber=2&uploadId=$up"; e2=$(hdr ETag)
complete_body "1:$e1" "2:$e2"
put "$T/complete.xml" "/plain/small?uploadId=$up" -X POST
eq "a 1 MiB part that is not the last: 400 EntityTooSmall" "400 EntityTooSmall 1048576 5242880" "$ST $(xv Code) $(xv ProposedSize) $(xv MinSizeAllowed)"
complete_body "1:$e1"
put "$T/complete.xml" "/plain/small?uploadId=$up" -X POST
eq "the last part may be small: completes with part 1 alone" "200 1" "$ST $(xv ETag | sed 's/.*-//; s/"//')"
s3 POST "/plain/gone?uploads="; up=$(xv UploadId)
for n in 0 10001 x; do
	put "$T/hello" "/plain/gone?partNumber=$n&uploadId=$up"
	eq "partNumber=$n: 400 InvalidArgument" "400 InvalidArgument" "$ST $(xv Code)"
done
put "$T/hello" "/plain/gone?partNumber=10000&uploadId=$up"
eq "partNumber=10000: 200" 200 "$ST"
s3 DELETE "/plain/gone?uploadId=$up"
eq "AbortMultipartUpload: 204" 204 "$ST"
put "$T/hello" "/plain/gone?partNumber=1&uploadId=$up"
eq "a part of an aborted upload: 404 NoSuchUpload" "404 NoSuchUpload $up" "$ST $(xv Code) $(xv UploadId)"
s3 DELETE "/plain/gone?uploadId=$up"
eq "aborting it again: 404 NoSuchUpload" 404 "$ST"

echo "== Object Lock and versions"
s3 GET "/locked?object-lock="
eq "GetObjectLockConfiguration of a lock bucket" "200 Enabled" "$ST $(xv ObjectLockEnabled)"
s3 GET "/plain?object-lock="
eq "of a plain bucket: 404 ObjectLockConfigurationNotFoundError" "404 ObjectLockConfigurationNotFoundError" "$ST $(xv Code)"
s3 GET "/locked?versioning="
eq "Object Lock turned versioning on" Enabled "$(xv Status)"
s3 GET "/plain?versioning="
eq "a plain bucket was never versioned: no Status" "200 " "$ST $(xv Status)"
until=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
lock=(-H "x-amz-object-lock-mode: COMPLIANCE" -H "x-amz-object-lock-retain-until-date: $until")
put "$T/hello" /locked/doc "${lock[@]}"
eq "lock headers without Content-MD5: 400 InvalidRequest" "400 Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters" "$ST $(xv Message)"
put "$T/hello" /plain/doc "${lock[@]}" -H "Content-MD5: $(md5b64 "$T/hello")"
eq "lock headers on a plain bucket: 400 InvalidRequest" "400 Bucket is missing Object Lock Configuration" "$ST $(xv Message)"
put "$T/hello" /locked/doc -H "x-amz-object-lock-mode: COMPLIANCE" -H "Content-MD5: $(md5b64 "$T/hello")"
eq "a mode without a date: 400 InvalidArgument" "400 InvalidArgument" "$ST $(xv Code)"
put "$T/hello" /locked/sdk "${lock[@]}" -H "x-amz-sdk-checksum-algorithm: SHA256"
eq "x-amz-sdk-checksum-algorithm without its x-amz-checksum-* header is no checksum: 400" 400 "$ST"
s3 HEAD /locked/sdk
eq "and nothing was stored" 404 "$ST"
put "$T/hello" /locked/sum "${lock[@]}" -H "x-amz-checksum-sha256: $(openssl dgst -sha256 -binary "$T/hello" | base64)"
eq "lock headers with x-amz-checksum-sha256 instead of Content-MD5: 200" 200 "$ST"
s3 HEAD /locked/sum
eq "and the object has the retention" "COMPLIANCE ${until%Z}.000Z" "$(hdr x-amz-object-lock-mode) $(hdr x-amz-object-lock-retain-until-date)"
s3 POST "/plain/mp?uploads=" "${lock[@]}"
eq "CreateMultipartUpload with lock headers on a plain bucket: 400 InvalidRequest" "400 InvalidRequest Bucket is missing Object Lock Configuration" "$ST $(xv Code) $(xv Message)"
s3 HEAD /plain/doc
eq "the refused PUT stored nothing" 404 "$ST"
put "$T/hello" /locked/doc -H "x-amz-object-lock-mode: COMPLIANCE" -H "x-amz-object-lock-retain-until-date: 2001-01-01T00:00:00Z" -H "Content-MD5: $(md5b64 "$T/hello")"
eq "a date in the past: 400 InvalidArgument" "400 InvalidArgument" "$ST $(xv Code)"
put "$T/hello" /locked/doc "${lock[@]}" -H "Content-MD5: $(md5b64 "$T/hello")"
eq "COMPLIANCE until tomorrow, with Content-MD5: 200 and a version id" "200 32" "$ST $(hdr x-amz-version-id | tr -d '\n' | wc -c)"
v1=$(hdr x-amz-version-id)
s3 HEAD /locked/doc
eq "HEAD shows the retention" "COMPLIANCE ${until%Z}.000Z $v1" "$(hdr x-amz-object-lock-mode) $(hdr x-amz-object-lock-retain-until-date) $(hdr x-amz-version-id)"
s3 GET "/locked/doc?retention="
eq "GetObjectRetention" "COMPLIANCE ${until%Z}.000Z" "$(xv Mode) $(xv RetainUntilDate)"
printf 'second\n' >"$T/second"
put "$T/second" /locked/doc -H "x-amz-object-lock-mode: GOVERNANCE" -H "x-amz-object-lock-retain-until-date: $until" -H "Content-MD5: $(md5b64 "$T/second")"
v2=$(hdr x-amz-version-id)
if [ -z "$v2" ] || [ "$v2" = "$v1" ]; then fail "a second PUT should get a new version id ($v1, $v2)"; fi
pass_note "every PUT gets a new version id"
s3 DELETE /locked/doc
eq "DELETE without versionId: 204, a delete marker" "204 true" "$ST $(hdr x-amz-delete-marker)"
dm=$(hdr x-amz-version-id)
s3 GET /locked/doc
eq "the object is then 404 NoSuchKey, the marker named" "404 NoSuchKey true $dm" "$ST $(xv Code) $(hdr x-amz-delete-marker) $(hdr x-amz-version-id)"
s3 GET "/locked/doc?versionId=$v1"
eq "but its versions are still there" "200 hello, S3" "$ST $BODY"
s3 GET "/locked/doc?versionId=$dm"
eq "GET of the delete marker's version: 405 MethodNotAllowed" "405 MethodNotAllowed true" "$ST $(xv Code) $(hdr x-amz-delete-marker)"
s3 GET "/locked?prefix=doc&versions="
eq "ListObjectVersions: two Versions and the DeleteMarker, latest" "$v2 $v1|$dm true" "$(xv Version/VersionId | paste -sd' ')|$(xv DeleteMarker/VersionId) $(xv DeleteMarker/IsLatest)"
s3 GET "/locked?max-keys=1&prefix=doc&versions="
eq "ListObjectVersions max-keys=1: the delete marker, truncated, the markers" "$dm true doc $dm" "$(xv DeleteMarker/VersionId) $(xv IsTruncated) $(xv NextKeyMarker) $(xv NextVersionIdMarker)"
s3 GET "/locked?key-marker=doc&max-keys=1&prefix=doc&version-id-marker=$dm&versions="
eq "the next page: the newer version" "$v2 true" "$(xv Version/VersionId) $(xv IsTruncated)"
s3 GET "/locked?key-marker=doc&max-keys=1&prefix=doc&version-id-marker=$v2&versions="
eq "the last page: the older version" "$v1 false" "$(xv Version/VersionId) $(xv IsTruncated)"
s3 DELETE "/locked/doc?versionId=$v1"
eq "DELETE of a COMPLIANCE version under retention: 403 AccessDenied" "403 AccessDenied" "$ST $(xv Code)"
s3 DELETE "/locked/doc?versionId=$v1" -H 'x-amz-bypass-governance-retention: true'
eq "bypassing governance does not bypass COMPLIANCE" 403 "$ST"
s3 DELETE "/locked/doc?versionId=$v2"
eq "a GOVERNANCE version without the bypass: 403" 403 "$ST"
s3 DELETE "/locked/doc?versionId=$v2" -H 'x-amz-bypass-governance-retention: true'
eq "with x-amz-bypass-governance-retention: true: 204" "204 $v2" "$ST $(hdr x-amz-version-id)"
s3 DELETE "/locked/doc?versionId=$dm"
eq "deleting the delete marker itself: 204, x-amz-delete-marker" "204 true" "$ST $(hdr x-amz-delete-marker)"
s3 GET /locked/doc
eq "the older version is the object again" "200 hello, S3" "$ST $BODY"
eq "the state endpoint shows its retention" "COMPLIANCE true" \
	"$(state | jq -r '.buckets[] | select(.name == "locked") | .objects[] | select(.key == "doc") | .versions[0].retention | "\(.mode) \(.active)"')"
double_admin s3 POST /state '{"age_seconds": 172800}' >/dev/null
s3 DELETE "/locked/doc?versionId=$v1"
eq "two days later the retention has run out: the version can go" 204 "$ST"
printf '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>3</Days></DefaultRetention></Rule></ObjectLockConfiguration>' >"$T/olc.xml"
put "$T/olc.xml" "/locked?object-lock=" -H "Content-MD5: $(md5b64 "$T/olc.xml")"
eq "PutObjectLockConfiguration with DefaultRetention" 200 "$ST"
s3 GET "/locked?object-lock="
eq "GetObjectLockConfiguration shows the rule" "GOVERNANCE 3" "$(xv Rule/DefaultRetention/Mode) $(xv Rule/DefaultRetention/Days)"
put "$T/hello" /locked/dflt
eq "under a default retention, a PUT without Content-MD5: 400 InvalidRequest" 400 "$ST"
put "$T/hello" /locked/dflt -H "Content-MD5: $(md5b64 "$T/hello")"
s3 HEAD /locked/dflt
eq "with it: the default retention applies" "GOVERNANCE $(date -u -d '+3 days' +%Y-%m-%d)" "$(hdr x-amz-object-lock-mode) $(hdr x-amz-object-lock-retain-until-date | cut -c1-10)"
s3 PUT /newlock -H 'x-amz-bucket-object-lock-enabled: true'
eq "CreateBucket with x-amz-bucket-object-lock-enabled" 200 "$ST"
s3 GET "/newlock?object-lock="
eq "the new bucket has Object Lock" Enabled "$(xv ObjectLockEnabled)"
s3 POST "/newlock/mp?uploads=" "${lock[@]}"
up=$(xv UploadId)
put "$T/hello" "/newlock/mp?partNumber=1&uploadId=$up"
eq "a part of a locked upload without Content-MD5: 400" "400 Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters" "$ST $(xv Message)"
put "$T/hello" "/newlock/mp?partNumber=1&uploadId=$up" -H "Content-MD5: $(md5b64 "$T/hello")"
complete_body "1:$(hdr ETag)"
put "$T/complete.xml" "/newlock/mp?uploadId=$up" -X POST
s3 HEAD /newlock/mp
eq "the completed object has the retention CreateMultipartUpload asked for" "200 COMPLIANCE" "$ST $(hdr x-amz-object-lock-mode)"

echo "== fault switches (the library's rules and the double's flags)"
double_fault s3 '{"method": "PUT", "path": "/plain/f/*", "status": 500}'
put "$T/hello" /plain/f/one
eq "status 500 without a body: S3's InternalError document" "500 InternalError" "$ST $(xv Code)"
put "$T/hello" /plain/f/one
eq "count 1: the next PUT works" 200 "$ST"
double_fault s3 '{"method": "PUT", "path": "/plain/f/*", "status": 503, "count": 2}'
put "$T/hello" /plain/f/two; a=$ST; c=$(xv Code); put "$T/hello" /plain/f/two; b=$ST; put "$T/hello" /plain/f/two
eq "503 SlowDown twice, then it works" "503 SlowDown 503 200" "$a $c $b $ST"
double_fault s3 '{"method": "PUT", "path": "/plain/f/*", "action": "flag", "name": "bad_content_md5", "count": 2}'
r=()
for i in 1 2 3; do put "$T/hello" /plain/f/md5 -H "Content-MD5: $(md5b64 "$T/hello")"; r+=("$ST $(xv Code)"); done
eq "bad_content_md5: BadDigest for a right digest, twice, then 200" "400 BadDigest|400 BadDigest|200 " "${r[0]}|${r[1]}|${r[2]}"
double_fault s3 '{"method": "PUT", "path": "/plain/f/*", "action": "flag", "name": "bad_content_sha256"}'
put "$T/hello" /plain/f/sha
eq "bad_content_sha256: XAmzContentSHA256Mismatch for the right hash, S3's other hash beside it" \
  "400 XAmzContentSHA256Mismatch $(sha "$T/hello") true" "$ST $(xv Code) $(xv ClientComputedContentSHA256) $([ "$(xv S3ComputedContentSHA256)" != "$(sha "$T/hello")" ] && echo true)"
s3 HEAD /plain/f/sha
eq "bad_content_sha256: nothing was stored" 404 "$ST"
put "$T/hello" /plain/f/sha
eq "bad_content_sha256 once: the next PUT works" 200 "$ST"
double_fault s3 '{"method": "PUT", "path": "/plain/f/*", "action": "flag", "name": "internal_error"}'
put "$T/hello" /plain/f/late
eq "internal_error: 500 once the body is read" "500 InternalError" "$ST $(xv Code)"
eq "and the request body was read whole" "$(wc -c <"$T/hello")" "$(double_log s3 | jq '[.requests[] | select(.key == "f/late")][0].body_bytes')"
s3 HEAD /plain/f/late
eq "nothing was stored" 404 "$ST"
s3 POST "/plain/f/mp?uploads="; up=$(xv UploadId)
put "$T/p1" "/plain/f/mp?partNumber=1&uploadId=$up"; e1=$(hdr ETag)
double_admin s3 DELETE /log
double_fault s3 "{\"method\": \"PUT\", \"path\": \"/plain/f/mp\", \"query\": {\"partNumber\": \"2\"}, \"action\": \"reset\", \"after_bytes\": 1048576}"
put "$T/p2" "/plain/f/mp?partNumber=2&uploadId=$up"
[ "$CRC" = 55 ] || [ "$CRC" = 56 ] || fail "a reset in the middle of part 2: curl should fail with 55/56, got $CRC ($(cat "$T/curl.err"))"
pass_note "a connection reset in the middle of part 2's body"
put "$T/p2" "/plain/f/mp?partNumber=2&uploadId=$up"; e2=$(hdr ETag)
eq "part 2 sent again: 200" 200 "$ST"
eq "the log: part 2 twice (the first cut short, never answered), part 1 not again" "2 null 200 0" \
	"$(double_log s3 | jq -r '[.requests[] | select(.s3_op == "UploadPart")] | "\(length) \(.[0].status) \(.[1].status) \([.[] | select(.part_number == 1)] | length)"')"
has "the reset came after 1 MiB of the body" true "$(double_log s3 | jq '[.requests[] | select(.s3_op == "UploadPart")][0] | .body_bytes >= 1048576 and .body_bytes < 5242880')"
complete_body "1:$e1" "2:$e2"
double_fault s3 '{"method": "POST", "path": "/plain/f/mp", "query": {"uploadId": true}, "action": "flag", "name": "complete_error"}'
put "$T/complete.xml" "/plain/f/mp?uploadId=$up" -X POST
eq "complete_error: 200 whose body is an <Error>" "200 Error InternalError" "$ST $(xv ROOT) $(xv Code)"
s3 GET "/plain?prefix=f%2Fmp&uploads="
eq "the upload is still open" "$up" "$(xv Upload/UploadId)"
double_fault s3 '{"method": "POST", "path": "/plain/f/mp", "query": {"uploadId": true}, "action": "flag", "name": "complete_whitespace"}'
put "$T/complete.xml" "/plain/f/mp?uploadId=$up" -X POST
eq "complete_whitespace: 200, the result after whitespace" "200 {http://s3.amazonaws.com/doc/2006-03-01/}CompleteMultipartUploadResult" "$ST $(xv ROOT)"
has "the body had whitespace between the declaration and the result" "?>"$'\n'"  " "$BODY"
s3 POST "/plain/f/ab?uploads="; up=$(xv UploadId)
s3 DELETE "/plain/f/ab?uploadId=$up"
eq "the log shows AbortMultipartUpload with its upload id" "$up" "$(double_log s3 | jq -r '[.requests[] | select(.s3_op == "AbortMultipartUpload")][-1].upload_id')"
double_fault s3 '{"method": "GET", "path": "/plain/f/one", "action": "stall"}'
s3 GET /plain/f/one --max-time 2
eq "stall: the client's timeout fires (curl 28)" 28 "$CRC"
double_admin s3 DELETE /faults
s3 GET /plain/f/one
eq "faults cleared: it answers" 200 "$ST"

echo "== the admin state and reset"
BODY=$(state)
eq "state lists the buckets" "locked newlock plain" "$(jq -r '[.buckets[].name] | sort | join(" ")' <<<"$BODY")"
eq "state: a delete marker and versions are visible" true "$(jq '[.buckets[] | .objects[].versions[]] | length > 1000' <<<"$BODY")"
eq "state: object lock of a bucket" "true GOVERNANCE 3" "$(jq -r '.buckets[] | select(.name == "locked") | .object_lock | "\(.enabled) \(.default_retention.mode) \(.default_retention.days)"' <<<"$BODY")"
s3 POST "/plain/open?uploads="; up=$(xv UploadId)
put "$T/hello" "/plain/open?partNumber=1&uploadId=$up"
eq "state: an open upload with its part" "open 1 10" "$(state | jq -r --arg u "$up" '.buckets[] | .uploads[] | select(.upload_id == $u) | "\(.key) \(.parts[0].part_number) \(.parts[0].size)"')"
double_admin s3 POST /state '{"age_seconds": 86400}' >/dev/null
s3 GET "/plain?prefix=open&uploads="
eq "age_seconds: the upload's Initiated is a day older" "$(date -u -d '-1 day' +%Y-%m-%d)" "$(xv Upload/Initiated | cut -c1-10)"
double_reset s3 >/dev/null
eq "reset: the start buckets, empty" "locked:0 plain:0" "$(state | jq -r '[.buckets[] | "\(.name):\(.objects | length)"] | sort | join(" ")')"

echo "== session tokens"
printf 'tok-%s' "$RANDOM" >"$T/token"
printf 'sekrit-%s' "$RANDOM" >"$T/secret2"
start_double s3 --bucket tokens --access-key AKIATOKEN --secret-key-file "$T/secret2" --session-token-file "$T/token"
eq "AWS_SESSION_TOKEN exported" "$(cat "$T/token")" "$AWS_SESSION_TOKEN"
BASE=$S3_DOUBLE_URL
creds AKIATOKEN "$(cat "$T/secret2")"
s3 GET /tokens
eq "temporary credentials without the token: 403 InvalidAccessKeyId" "403 InvalidAccessKeyId" "$ST $(xv Code)"
s3 GET /tokens -H "X-Amz-Security-Token: wrong"
eq "a wrong token: 400 InvalidToken" "400 InvalidToken" "$ST $(xv Code)"
s3 GET /tokens -H "X-Amz-Security-Token: $AWS_SESSION_TOKEN"
eq "the token, signed: 200" 200 "$ST"
eq "the token is never in the log" "true" "$(double_log s3 | jq -r '.requests[-1].secrets["x-amz-security-token"]')"
lacks "(its value)" "$AWS_SESSION_TOKEN" "$(double_log s3)"

echo "== TLS"
start_s3_double --tls --bucket tls
BASE=$S3_DOUBLE_URL CURL_TLS=(--cacert "$S3_DOUBLE_CACERT")
eq "AWS_CA_BUNDLE for an HTTPS double" "$S3_DOUBLE_CACERT" "$AWS_CA_BUNDLE"
creds "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
put "$T/hello" /tls/x
s3 GET /tls/x
eq "PUT and GET over HTTPS, signed" "200 hello, S3" "$ST $BODY"
CURL_TLS=()

echo "== s3rver (start_s3rver): PUT, GET, ListObjectsV2 signed by curl"
start_s3rver conform
BASE=$S3RVER_URL
creds "$S3RVER_ACCESS_KEY" "$S3RVER_SECRET_KEY"
put "$T/hello" "/$S3RVER_BUCKET/dir/x%20y"
eq "s3rver: PUT" 200 "$ST"
s3 GET "/$S3RVER_BUCKET/dir/x%20y"
eq "s3rver: GET" "200 hello, S3" "$ST $BODY"
s3 GET "/$S3RVER_BUCKET?list-type=2&prefix=dir%2F"
eq "s3rver: ListObjectsV2" "200 dir/x y 1" "$ST $(xv Contents/Key) $(xv KeyCount)"
s3rver_env
eq "s3rver_env points AWS_ENDPOINT_URL at it" "$S3RVER_URL" "$AWS_ENDPOINT_URL"
sp=$S3RVER_PID
stop_s3rver
! kill -0 "$sp" 2>/dev/null || fail "stop_s3rver left s3rver (pid $sp) running"
pass_note "stop_s3rver stops it"

echo "$CHECKS passed, 0 failed"
