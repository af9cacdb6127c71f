#!/usr/bin/env bash
# Regenerate the RDB fixtures of tests/unit/test_rdb.c with a local
# redis-server (made with Debian's 7.0.15: RDB version 10).
#
#   all-types.rdb   every type the platform uses (big hash: 600 fields, over the
#                   built-in default of 512 listpack entries), rdbcompression yes (LZF),
#                   keys in db 0 and db 3, TTLs, a stream with two groups, a
#                   pending list and two consumers, a function library, a 2 MiB
#                   compressible string (LZF makes it ~25 KB)
#   nocompress.rdb  the same data without the 2 MiB string, rdbcompression no,
#                   maxmemory-policy allkeys-lru (so every key has an IDLE opcode)
#   nochecksum.rdb  the same data without the 2 MiB string, rdbchecksum no
#                   (stored CRC 0), maxmemory-policy allkeys-lfu (FREQ opcodes)
#   empty.rdb       a server with no data
#   dumps.txt       "db key hex" per key: the server's own DUMP of the key in
#                   all-types.rdb, and "F mylib hex": its FUNCTION DUMP.  The
#                   test rebuilds these from the parser's raw value bytes.
#
# The server listens on a unix socket in a temporary folder only (no TCP port,
# nothing persisted elsewhere).  The expected counts in test_rdb.c follow the
# data below: change both together.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/drctl-rdb-fixtures.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
sock=$work/redis.sock
rc() { redis-cli -s "$sock" "$@"; }

start() { # start extra redis-server options...
	rm -f "$work/dump.rdb"
	redis-server --port 0 --unixsocket "$sock" --dir "$work" --save "" \
		--appendonly no --logfile "$work/redis.log" "$@" &
	pid=$!
	for _ in $(seq 50); do rc ping >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "redis-server did not start" >&2; cat "$work/redis.log" >&2; exit 1
}
stop() {
	rc shutdown nosave >/dev/null 2>&1 || true
	wait "$pid" 2>/dev/null || true
	pid=
}
save_to() { rc save >/dev/null; cp "$work/dump.rdb" "$here/$1"; }

load_data() { # load_data with-big(0|1)
	local ttl=4102444800000 # 2100-01-01, so expiries are exact in the test
	rc -n 0 set str:short hello >/dev/null
	rc -n 0 set str:int 12345 >/dev/null
	rc -n 0 set str:long "compressible compressible compressible compressible" >/dev/null
	if [ "$1" = 1 ]; then
		rc -n 0 eval "redis.call('set', KEYS[1], string.rep('0123456789abcdef', 131072))" 1 str:big >/dev/null
	fi
	rc -n 0 set 42 "integer-encoded key name" >/dev/null
	rc -n 0 set key:with:a:long:name:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa lzf-key >/dev/null
	rc -n 0 rpush list:small a b c >/dev/null
	rc -n 0 eval "for i=1,1000 do redis.call('rpush', KEYS[1], 'element-number-' .. i .. '-padding-padding') end" 1 list:big >/dev/null
	rc -n 0 sadd set:small apple banana cherry >/dev/null
	rc -n 0 sadd set:ints 1 2 3 100000 >/dev/null
	rc -n 0 eval "for i=1,200 do redis.call('sadd', KEYS[1], 'member-' .. i) end" 1 set:big >/dev/null
	rc -n 0 zadd zset:small 1 one 2.5 two 3 three >/dev/null
	rc -n 0 eval "for i=1,200 do redis.call('zadd', KEYS[1], i / 7, 'm' .. i) end" 1 zset:big >/dev/null
	rc -n 0 hset hash:small f1 v1 f2 v2 >/dev/null
	rc -n 0 eval "for i=1,600 do redis.call('hset', KEYS[1], 'field' .. i, 'value' .. i) end" 1 hash:big >/dev/null
	for i in 1 2 3 4 5; do rc -n 0 xadd stream "1-$i" field "$i" >/dev/null; done
	rc -n 0 xgroup create stream g1 0 >/dev/null
	rc -n 0 xgroup create stream g2 '$' >/dev/null
	rc -n 0 xreadgroup group g1 alice count 2 streams stream '>' >/dev/null
	rc -n 0 xreadgroup group g1 bob count 1 streams stream '>' >/dev/null
	rc -n 0 xdel stream 1-5 >/dev/null
	rc -n 0 xadd stream:empty 1-1 f v >/dev/null
	rc -n 0 xdel stream:empty 1-1 >/dev/null
	rc -n 0 set ttl:str expiring >/dev/null
	rc -n 0 pexpireat ttl:str $ttl >/dev/null
	rc -n 0 hset ttl:hash f v >/dev/null
	rc -n 0 pexpireat ttl:hash $ttl >/dev/null
	rc -n 3 set db3:str three >/dev/null
	rc -n 3 hset db3:hash a 1 b 2 >/dev/null
	rc -n 3 set db3:ttl gone-in-2100 >/dev/null
	rc -n 3 pexpireat db3:ttl $ttl >/dev/null
	rc function load $'#!lua name=mylib\nredis.register_function(\'f1\', function() return 1 end)' >/dev/null
}

hex_of() { head -c -1 | od -An -v -tx1 | tr -d ' \n'; }

start
save_to empty.rdb
load_data 1
save_to all-types.rdb
: > "$here/dumps.txt"
for db in 0 3; do
	for key in $(rc -n $db --scan | sort); do
		printf '%s %s %s\n' "$db" "$key" "$(rc -n $db --raw dump "$key" | hex_of)" >> "$here/dumps.txt"
	done
done
printf 'F mylib %s\n' "$(rc --raw function dump | hex_of)" >> "$here/dumps.txt"
stop

start --rdbcompression no --maxmemory-policy allkeys-lru
load_data 0
save_to nocompress.rdb
stop

start --rdbchecksum no --maxmemory-policy allkeys-lfu
load_data 0
save_to nochecksum.rdb
stop

redis-check-rdb "$here/all-types.rdb" | tail -3

# Fuzz seeds: these files, plus the synthetic version-12 RDB of test_rdb
# (legacy types, streams v1/v3, module values, hash field TTL types) written
# when DRCTL_RDB_SEED_OUT is set; pass the test binary as $1 to refresh it.
corpus=$here/../../fuzz/corpus/fuzz_rdb
mkdir -p "$corpus"
cp "$here"/*.rdb "$corpus/"
if [ -n "${1:-}" ]; then
	DRCTL_RDB_SEED_OUT="$corpus/synthetic-v12.rdb" "$1" >/dev/null
fi
ls -l "$here"/*.rdb "$here/dumps.txt"
