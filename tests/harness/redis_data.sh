# Redis test data and comparisons, for the integration tests that sourced
# testlib.sh (fail, pass_note, $T).
# redis-cli without the password warning: cli PORT ARGS...
cli() { local p=$1; shift; redis-cli --no-auth-warning -p "$p" "$@"; }

# Every data type the platform uses, in db 0 and db 3: a stream with a
# consumer group and 10 pending entries, hashes, lists, sets and sorted sets
# in both encodings, a string over 10 MB, keys with and without TTL, a
# function library.  redis_fill_every_type PORT
redis_fill_every_type() {
  {
    for i in $(seq 1 40); do echo "SET str:$i value-$i"; done
    for i in $(seq 1 20); do echo "SET ttl:$i v$i PX $((3600000 + i * 1000))"; done
    echo "SET counter 123456"
    echo "RPUSH list:small a b c d"
    echo "RPUSH list:big $(seq -s ' ' 1 3000)"
    echo "SADD set:int 1 2 3 99 1000"
    echo "SADD set:small alpha beta gamma"
    echo "SADD set:big $(seq -f 'member-%g' -s ' ' 1 400)"
    echo "ZADD zset:small 1 a 2 b 3 c"
    echo "ZADD zset:big $(for i in $(seq 1 300); do printf '%d m%d ' "$i" "$i"; done)"
    echo "HSET hash:small status running replicas 2"
    echo "HSET hash:big $(for i in $(seq 1 700); do printf 'f%d v%d ' "$i" "$i"; done)"
    echo "EXPIRE hash:big 7200"
    for i in $(seq 1 30); do echo "XADD events:1 * agent $i kind request"; done
    echo "XGROUP CREATE events:1 workers 0"
    echo "XREADGROUP GROUP workers alice COUNT 7 STREAMS events:1 >"
    echo "XREADGROUP GROUP workers bob COUNT 3 STREAMS events:1 >"
    echo "XACK events:1 workers 0-0"
    echo "SELECT 3"
    for i in $(seq 1 25); do echo "SET session:$i s$i EX $((600 + i))"; done
    echo "HSET agent:1:state status running"
    echo "RPUSH queue:3 j1 j2"
  } | cli "$1" >/dev/null
  head -c 8000000 /dev/urandom | base64 -w0 | cli "$1" -x SET big:blob >/dev/null
  cli "$1" FUNCTION LOAD "#!lua name=agentlib
  redis.register_function('agent_ping', function(keys, args) return 'pong' end)" >/dev/null
  [ "$(cli "$1" STRLEN big:blob)" -gt 10000000 ] || fail "big key should be over 10 MB"
  [ "$(cli "$1" XPENDING events:1 workers | head -1)" = 10 ] || fail "stream should have 10 pending entries"
}

# Two servers, SRC filled by redis_fill_every_type and an empty DST (the
# harness stops both at the end).
redis_start_source_and_target() {
  start_redis
  SRC=$REDIS_PORT
  unset REDIS_PID
  start_redis
  DST=$REDIS_PORT
  unset REDIS_PID
  redis_fill_every_type "$SRC"
}

# A restore-only ACL user drctl-restore on PORT with a password in
# $T/restore.pw (extra ACL rules after PORT), and restore_ ARGS... that runs
# drctl with that password file.
redis_restore_user() {
  local port=$1
  shift
  printf 'restore-secret-%s\n' "$RANDOM" > "$T/restore.pw"; chmod 600 "$T/restore.pw"
  cli "$port" ACL SETUSER drctl-restore on ">$(cat "$T/restore.pw")" '~*' +info +ping +select +dbsize +restore \
    +flushall '+function|restore' '+function|flush' "$@" >/dev/null
}
restore_() { run env DRCTL_REDIS_PASSWORD_FILE="$T/restore.pw" "$DRCTL" --config "$CONF" "$@"; }

# Key by key: DUMP equal, or sorted contents for hash-table encodings.
redis_compare_servers() { # SRC_PORT DST_PORT WHAT
  local a=$1 b=$2 what=$3 db k enc n=0
  for db in 0 3; do
    cli "$a" -n "$db" --scan | sort > "$T/keys.a"; cli "$b" -n "$db" --scan | sort > "$T/keys.b"
    diff -q "$T/keys.a" "$T/keys.b" >/dev/null || fail "$what: db $db key sets differ: $(diff "$T/keys.a" "$T/keys.b" | head -5)"
    while read -r k; do
      enc=$(cli "$a" -n "$db" OBJECT ENCODING "$k")
      [ "$enc" = "$(cli "$b" -n "$db" OBJECT ENCODING "$k")" ] || fail "$what: db $db key $k encoding differs"
      case "$enc" in
      hashtable)
        case $(cli "$a" -n "$db" TYPE "$k") in
        hash) [ "$(cli "$a" -n "$db" HGETALL "$k" | paste - - | sort)" = "$(cli "$b" -n "$db" HGETALL "$k" | paste - - | sort)" ] ;;
        set) [ "$(cli "$a" -n "$db" SMEMBERS "$k" | sort)" = "$(cli "$b" -n "$db" SMEMBERS "$k" | sort)" ] ;;
        esac || fail "$what: db $db key $k contents differ"
        ;;
      *)
        [ "$(cli "$a" -n "$db" --no-raw DUMP "$k" | sha256sum)" = "$(cli "$b" -n "$db" --no-raw DUMP "$k" | sha256sum)" ] ||
          fail "$what: db $db key $k: DUMP differs"
        ;;
      esac
      [ "$(cli "$a" -n "$db" PEXPIRETIME "$k")" = "$(cli "$b" -n "$db" PEXPIRETIME "$k")" ] ||
        fail "$what: db $db key $k: expiry differs ($(cli "$a" -n "$db" PEXPIRETIME "$k") vs $(cli "$b" -n "$db" PEXPIRETIME "$k"))"
      n=$((n + 1))
    done < "$T/keys.a"
  done
  [ "$(cli "$a" FUNCTION DUMP | sha256sum)" = "$(cli "$b" FUNCTION DUMP | sha256sum)" ] || fail "$what: functions differ"
  pass_note "$what: all $n keys equal (DUMP or sorted contents), expiry equal to the ms, functions equal"
}
