#!/usr/bin/env bash
# The command line people type: global options (--config, --json,
# --log-format, -v, -q) before or after the command name with the same
# meaning; `drctl COMMAND --help` for every command; an unknown option named
# in the error, with the command's usage as the hint.
set -euo pipefail
source "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"

drctl_init_in "$T/setup"
mkdir -p "$T/data" && echo hello >"$T/data/a.txt"
export DRCTL_FILES_PATHS="$T/data"

# --config before and after the command
run "$DRCTL" --config "$CONF" backup --tag one
expect_rc 0 "--config before the command"
run "$DRCTL" backup --tag two --config "$CONF"
expect_rc 0 "--config after the command"
run "$DRCTL" backup --config="$CONF" --tag three
expect_rc 0 "--config=FILE after the command"

# --json: the same document in both positions
run "$DRCTL" --config "$CONF" --json list
expect_rc 0 "--json list"
before=$OUT
echo "$before" | jq -e 'length == 3 and all(.[]; .state == "complete")' >/dev/null || fail "--json list is not the list of 3 complete sets: $before"
pass_note "--json before the command gives the JSON list"
run "$DRCTL" --config "$CONF" list --json
expect_rc 0 "list --json"
[ "$OUT" = "$before" ] || fail "list --json differs from --json list"
pass_note "list --json is the same document as --json list"
newest=$(echo "$before" | jq -r '.[0].id')
run "$DRCTL" --config "$CONF" show latest --json
expect_rc 0 "show latest --json"
echo "$OUT" | jq -e --arg id "$newest" '.id == $id and (.components | has("files"))' >/dev/null || fail "show latest --json is not the newest manifest ($newest): $OUT"
pass_note "show latest --json prints the newest manifest"
run "$DRCTL" --config "$CONF" --json show latest
a=$OUT
run "$DRCTL" --config "$CONF" show --json latest
[ "$a" = "$OUT" ] || fail "show --json latest differs from --json show latest"
pass_note "--json anywhere in show's arguments means the same"

# -v and -q after the command
run "$DRCTL" --config "$CONF" verify latest
quiet_default=$ERR
run "$DRCTL" --config "$CONF" verify latest -v
expect_rc 0 "verify latest -v"
[ "$(printf '%s' "$ERR" | wc -l)" -gt "$(printf '%s' "$quiet_default" | wc -l)" ] || fail "-v after the command printed no more than without it"
pass_note "-v after the command is verbose"
run "$DRCTL" -v --config "$CONF" verify latest
v_before=$(printf '%s' "$ERR" | wc -l)
[ "$v_before" -gt "$(printf '%s' "$quiet_default" | wc -l)" ] || fail "-v before the command printed no more than without it"
pass_note "-v before the command is verbose too"
run "$DRCTL" --config "$CONF" backup -q --tag four
expect_rc 0 "backup -q"
[ -z "$ERR" ] || fail "backup -q still printed: $ERR"
pass_note "-q after the command keeps stderr quiet"

# --log-format json after the command: every stderr line is a JSON object
run "$DRCTL" --config "$CONF" verify latest --log-format json -v
expect_rc 0 "verify --log-format json"
[ -n "$ERR" ] || fail "no log lines with -v --log-format json"
while IFS= read -r line; do
  echo "$line" | jq -e 'type == "object"' >/dev/null || fail "stderr line is not JSON: $line"
done <<<"$ERR"
pass_note "--log-format json after the command gives JSON log lines"
run "$DRCTL" --config "$CONF" list --log-format yaml
expect_rc 2 "--log-format yaml"
expect_err 'log-format must be text or json, not "yaml"' "a bad --log-format value is named"

# unknown options are named, before and after the command
run "$DRCTL" --config "$CONF" verify latest --deeep
expect_rc 2 "verify --deeep"
expect_err 'unknown option "--deeep" for drctl verify' "the unknown option is named, with the command"
expect_err 'hint: usage: drctl verify' "the hint is the command's usage"
run "$DRCTL" --frobnicate list
expect_rc 2 "an unknown global option"
expect_err 'unknown global option "--frobnicate"' "an unknown global option is named"
run "$DRCTL" --config "$CONF" --json list --nope
expect_rc 2 "list --nope with --json"
echo "$OUT" | jq -e '.error.exit_code == 2 and (.error.message | contains("--nope"))' >/dev/null || fail "--json error does not name the option: $OUT"
pass_note "with --json the error document names the unknown option"
run "$DRCTL" --config "$CONF" restore postgres --databse agents_db
expect_rc 2 "restore postgres --databse"
expect_err 'unknown option "--databse" for drctl restore' "a misspelt component option is named"
run "$DRCTL" --config "$CONF" restore files --target
expect_rc 2 "restore --target without a value"
expect_err -- '--target needs a value' "an option without its value is named"
run "$DRCTL" --config "$CONF" restore postgres --jobs many
expect_rc 2 "--jobs many"
expect_err -- '--jobs takes a whole number, not "many"' "a bad number is named"
run "$DRCTL" --config "$CONF" verify
expect_rc 2 "verify without a set"
expect_err 'verify takes one backup set' "a missing argument is explained"
run "$DRCTL" --config "$CONF" frobnicate
expect_rc 2 "an unknown command"
expect_err 'unknown command "frobnicate"' "an unknown command is named"

# every command has --help (exit 0, its usage on stdout), also with
# global options around it, and touches nothing
for cmd in $("$DRCTL" --help | sed -n '/^commands:/,/^$/p' | awk 'NR>1 && NF {print $1}'); do
  run "$DRCTL" --config "$T/no-such.conf" "$cmd" --help
  expect_rc 0 "drctl $cmd --help"
  expect_out "^usage: drctl .*$cmd" "drctl $cmd --help prints its usage"
  expect_out "global options" "drctl $cmd --help lists the global options"
done
[ ! -e "$T/no-such.conf" ] || fail "a --help wrote a config"
run "$DRCTL" --config "$CONF" restore postgres --help
expect_rc 0 "restore postgres --help"
expect_out -- '--target-database NAME' "restore postgres --help lists the component's own options"
run "$DRCTL" -h
expect_rc 0 "drctl -h"
expect_out '^commands:' "drctl -h lists the commands"

echo "$CHECKS passed, 0 failed"
