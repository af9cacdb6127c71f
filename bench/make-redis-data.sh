#!/usr/bin/env bash
# make-redis-data.sh: fills a Redis with a cache-like mix of every core type,
# for bench/bench_redis.sh.
#
#   bash bench/make-redis-data.sh PORT [N]     (N defaults to 100000)
#
# For each i in 0..N-1 it writes one session string with a TTL (64 hex
# characters, expiring in 1 to 1.2 hours); every 4th i an agent hash of four
# fields; and, spread over a fixed number of keys whatever N, list pushes
# (125 lists), set members (125 sets), sorted-set members (250 sorted sets)
# and stream entries (2 streams).  So N=1000000 gives about 1.25 M keys
# (1250502), and N=100000 an RDB of about 9 MB.  The values
# are computed from i, so a given N always writes the same data (stream
# entry ids excepted).  The commands go through `redis-cli --pipe` in the
# Redis protocol (RESP), which prints how many replies were errors.
set -euo pipefail
PORT=${1:?usage: make-redis-data.sh PORT [N]}
N=${2:-100000}
case $N in '' | *[!0-9]*) echo "make-redis-data.sh: N must be a whole number, not '$N'" >&2; exit 2 ;; esac

LC_ALL=C awk -v n="$N" '
# One command in RESP: an array of bulk strings, the words of w[1..argc].
function send(argc,    k) {
	printf "*%d\r\n", argc
	for (k = 1; k <= argc; k++)
		printf "$%d\r\n%s\r\n", length(w[k]), w[k]
}
# A session token of 64 hex characters: two zero-padded 32-digit halves of
# which only the low digits vary, as ids padded to a fixed width do (so the
# RDB compresses them, as it does real tokens of that kind).
function token(i,    a, b) {
	a = ((i % 2147483646) + 1) * 48271 % 2147483647 # MINSTD step: below 2^53 throughout
	b = i * 40961 + 977
	return sprintf("%032x%032x", a, b)
}
BEGIN {
	for (i = 0; i < n; i++) {
		w[1] = "SET"; w[2] = "session:" i; w[3] = token(i); w[4] = "EX"; w[5] = 3600 + i % 720
		send(5)
		if (i % 4 == 0) {
			w[1] = "HSET"; w[2] = "agent:" i ":state"
			w[3] = "status"; w[4] = (i % 3 ? "running" : "idle")
			w[5] = "replicas"; w[6] = 1 + i % 4
			w[7] = "image"; w[8] = "ghcr.io/example/agent-" i ":v" (1 + i % 9)
			w[9] = "last_error"; w[10] = "none"
			send(10)
		}
		if (i % 8 == 0) {
			w[1] = "RPUSH"; w[2] = "queue:" (i % 500)
			w[3] = "job-" i; w[4] = "job-" (i + 1); w[5] = "job-" (i + 2); w[6] = "job-" (i + 3)
			send(6)
		} else if (i % 8 == 1) {
			w[1] = "SADD"; w[2] = "tags:" (i % 1000)
			w[3] = "t" (i % 17); w[4] = "t" (i % 23); w[5] = "t" (i % 31)
			send(5)
		} else if (i % 8 == 2) {
			w[1] = "ZADD"; w[2] = "ratelimit:" (i % 2000); w[3] = i; w[4] = "req-" i
			send(4)
		}
		if (i % 50 == 3) {
			w[1] = "XADD"; w[2] = "events:" (i % 100); w[3] = "*"
			w[4] = "agent"; w[5] = i; w[6] = "kind"; w[7] = "request"; w[8] = "latency_ms"; w[9] = i % 900
			send(9)
		}
	}
}' | redis-cli -p "$PORT" --pipe
