#!/usr/bin/env bash
# drctl prune applies the [retention] policy: --dry-run lists every set with
# keep or remove and the rules that decided; prune removes exactly those sets
# and what remains verifies; an empty policy removes no complete set and says
# so; a prune that is interrupted (a removal that fails, or SIGKILL) never
# leaves a set that looks complete but is not.
#
# The sets have chosen ids (two months of nights in 2025), so they are made
# by tests/tools/make_sets, which writes real signed and encrypted sets
# through lib/set with the configured keys: drctl has no way to choose an id.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"

MAKE_SETS="$DRCTL_BUILD_DIR/tests/make_sets"
[ -x "$MAKE_SETS" ] || fail "$MAKE_SETS is missing: build the tests (scripts/build.sh normal)"

# nightly FIRST LAST SUFFIX: ids at 02:00Z every night from FIRST to LAST (YYYY-MM-DD).
nightly() {
  local day=$1
  while [[ ! "$day" > "$2" ]]; do
    echo "$(date -u -d "$day" +%Y%m%d)T020000Z-$3"
    day=$(date -u -d "$day + 1 day" +%F)
  done
}
set_folders() { ls "$REPO/backups"; }
# Every set is either complete (a manifest) and verifies, or has no manifest
# and is listed incomplete: never a set that looks complete with parts gone.
check_every_set_whole_or_incomplete() {
  local id state
  d --json list >"$T/list.json"
  for id in $(set_folders); do
    state=$(jq -r --arg id "$id" '.[] | select(.id == $id) | .state' "$T/list.json")
    if [ -e "$REPO/backups/$id/manifest.json" ]; then
      [ "$state" = complete ] || fail "$1: $id has a manifest but is listed $state"
      d verify "$id" >/dev/null 2>&1 || fail "$1: $id is listed complete but does not verify"
    else
      [ "$state" = incomplete ] || fail "$1: $id has no manifest but is listed $state"
    fi
  done
}

# --- a history: the nights of October and November 2025, and extras ---------
drctl_init_in "$T/main"
EXTRAS="20251130T143000Z-e001 20251123T235959Z-e002 20251124T000000Z-e003"
# shellcheck disable=SC2046 # one id per word
"$MAKE_SETS" "$CONF" $(nightly 2025-10-01 2025-11-30 a000) $EXTRAS 20251015T030000Z-bad0
# An invalid set: its manifest no longer matches its signature (evidence).
echo ' ' >>"$REPO/backups/20251015T030000Z-bad0/manifest.json"
# A young incomplete set: as a backup that is running now would leave it.
YOUNG="$(date -u +%Y%m%dT%H%M%SZ)-beef"
"$MAKE_SETS" "$CONF" "$YOUNG"
rm "$REPO/backups/$YOUNG/manifest.json"
TOTAL=$(set_folders | wc -l)
[ "$TOTAL" = 66 ] || fail "the history has $TOTAL sets, expected 61 nights + 3 extras + 2"
pass_note "a history of $TOTAL sets with chosen ids"

# --- the empty policy removes nothing, and says so -----------------------------
run d prune; expect_rc 0 "prune with no [retention] rule"
expect_out "^policy: no \[retention\] rule is set: keeping every complete set" "prune says that no rule is set"
expect_out "kept 66 sets, removed 0" "prune with no rule removes nothing"
[ "$(set_folders | wc -l)" = 66 ] || fail "prune with an empty policy removed a set"
run d --json prune --dry-run; expect_rc 0 "prune --dry-run --json with no rule"
[ "$(jq '.policy.empty' <<<"$OUT")" = true ] || fail "--json does not say the policy is empty"
[ "$(jq '[.sets[] | select(.state == "complete" and .action == "keep" and (.rules | index("no-policy")))] | length' <<<"$OUT")" = 64 ] ||
  fail "not every complete set is kept by the empty policy's rule"
pass_note "--json: every complete set kept, reason no-policy"

# Old debris: a set whose backup was killed long ago.
"$MAKE_SETS" "$CONF" 20251120T030000Z-dead
rm "$REPO/backups/20251120T030000Z-dead/manifest.json"

# --- the policy: daily 3 + weekly 3 + monthly 2 -------------------------------
# Derivation (ISO weeks start on Monday 00:00 UTC; 30 November 2025 is a Sunday):
#   daily 3:   30 Nov -> e001 (14:30, newer than 02:00), 29 Nov, 28 Nov
#   weekly 3:  2025-W48 (24..30 Nov) -> e001; 2025-W47 (17..23 Nov) -> e002
#              (Sunday 23:59:59; e003 at Monday 00:00 is already W48);
#              2025-W46 (10..16 Nov) -> 16 Nov 02:00
#   monthly 2: 2025-11 -> e001; 2025-10 -> 31 Oct 02:00
#   and: bad0 is evidence, the young debris may be running; old debris goes.
export DRCTL_RETENTION_KEEP_DAILY=3 DRCTL_RETENTION_KEEP_WEEKLY=3 DRCTL_RETENTION_KEEP_MONTHLY=2
KEEP="20251015T030000Z-bad0
20251031T020000Z-a000
20251116T020000Z-a000
20251123T235959Z-e002
20251128T020000Z-a000
20251129T020000Z-a000
20251130T143000Z-e001
$YOUNG"

run d prune --dry-run; expect_rc 0 "prune --dry-run"
expect_out "^policy: keep-daily 3, keep-weekly 3, keep-monthly 2; incomplete sets are removed once 24h old" "the policy is shown"
expect_out "^keep +20251130T143000Z-e001 +complete +keep-daily \(2025-11-30\); keep-weekly \(2025-W48\); keep-monthly \(2025-11\); newest complete set$" \
  "the newest set lists every rule that keeps it"
expect_out "^keep +20251123T235959Z-e002 +complete +keep-weekly \(2025-W47\)$" "Sunday 23:59:59 is the newest of its ISO week"
expect_out "^remove +20251124T000000Z-e003 +complete +no rule keeps it$" "Monday 00:00 belongs to the next week"
expect_out "^keep +20251031T020000Z-a000 +complete +keep-monthly \(2025-10\)$" "the newest of October"
expect_out "^keep +20251015T030000Z-bad0 +invalid +invalid: kept as evidence$" "the invalid set is kept as evidence"
expect_out "^keep +$YOUNG +incomplete +incomplete, younger than 24h: may be a backup in progress$" "young debris is kept"
expect_out "^remove +20251120T030000Z-dead +incomplete +incomplete, older than 24h$" "old debris is removed"
expect_out "^would keep 8 sets and remove 59$" "the dry run counts"
[ "$(grep -cE '^(keep|remove) ' <<<"$OUT")" = 67 ] || fail "--dry-run does not list every one of the 67 sets"
pass_note "--dry-run lists all 67 sets"
[ "$(set_folders | wc -l)" = 67 ] || fail "--dry-run removed something"
pass_note "--dry-run removed nothing"
run d --json prune --dry-run; expect_rc 0 "prune --dry-run --json"
[ "$(jq -r '.kept[]' <<<"$OUT" | sort)" = "$(sort <<<"$KEEP")" ] || fail "--json kept list differs: $(jq -c .kept <<<"$OUT")"
[ "$(jq -c '.sets[] | select(.id == "20251130T143000Z-e001") | .rules' <<<"$OUT")" = '["keep-daily","keep-weekly","keep-monthly","newest"]' ] ||
  fail "--json rules of the newest set"
pass_note "--json lists the same decisions, with rule names"

# keep_within counts back from the newest set (30 Nov 14:30), not from now
# (a year later, which would keep nothing but the newest).
run env DRCTL_RETENTION_KEEP_DAILY=0 DRCTL_RETENTION_KEEP_WEEKLY=0 DRCTL_RETENTION_KEEP_MONTHLY=0 \
  DRCTL_RETENTION_KEEP_WITHIN=3d "$DRCTL" --config "$CONF" --json prune --dry-run
expect_rc 0 "prune --dry-run with keep_within 3d"
[ "$(jq -r '.sets[] | select(.state == "complete" and .action == "keep") | .id' <<<"$OUT" | sort | tr '\n' ' ')" = \
  "20251128T020000Z-a000 20251129T020000Z-a000 20251130T020000Z-a000 20251130T143000Z-e001 " ] ||
  fail "keep_within 3d kept $(jq -c '[.sets[] | select(.action == "keep") | .id]' <<<"$OUT")"
pass_note "keep_within 3d keeps the sets after 27 Nov 14:30"

run env DRCTL_RETENTION_KEEP_WITHIN=10x "$DRCTL" --config "$CONF" prune --dry-run
expect_rc 2 "a bad duration"
expect_err 'DRCTL_RETENTION_KEEP_WITHIN.*"10x" is not a duration' "the bad duration is named"
expect_err "hint: .*30d, 2w, 36h, 1y2m" "with examples of durations"

run d prune; expect_rc 0 prune
expect_out "^removed 20251001T020000Z-a000 \(complete: no rule keeps it\)$" "prune says what it removes"
expect_out "^kept 8 sets, removed 59" "prune counts"
[ "$(set_folders)" = "$(sort <<<"$KEEP")" ] || fail "after prune: $(set_folders | tr '\n' ' '), expected $(sort <<<"$KEEP" | tr '\n' ' ')"
pass_note "exactly the derived sets remain"
for id in $KEEP; do
  case $id in *-bad0 | "$YOUNG") continue ;; esac
  run d verify "$id"; expect_rc 0 "kept set $id verifies"
done
run d verify 20251130T143000Z-e001 --deep; expect_rc 0 "the newest kept set verifies deeply"
[ "$(d --json list | jq -r '.[] | select(.id == "20251015T030000Z-bad0") | .state')" = invalid ] || fail "the invalid set changed"
run d prune; expect_rc 0 "a second prune"
expect_out "kept 8 sets, removed 0" "a second prune has nothing to do"

# --- a removal that fails half-way through a set ------------------------------
# A folder where an object should be cannot be unlinked: the prune stops
# there, after that set's manifest is gone, as a crash at that moment would.
drctl_init_in "$T/cut"
# shellcheck disable=SC2046
"$MAKE_SETS" "$CONF" $(nightly 2025-11-01 2025-11-10 c000)
STUCK=20251105T020000Z-c000
mkdir "$REPO/backups/$STUCK/stuck.d" && touch "$REPO/backups/$STUCK/stuck.d/x"
export DRCTL_RETENTION_KEEP_DAILY=0 DRCTL_RETENTION_KEEP_WEEKLY=0 DRCTL_RETENTION_KEEP_MONTHLY=0 DRCTL_RETENTION_KEEP_LAST=2
run d prune; expect_rc 6 "prune whose removal fails"
expect_err "prune removed 4 of 8 sets, then stopped" "the error says how far prune got"
expect_err "removing backup set $STUCK stopped after its manifest was removed: it is incomplete now" "and what is left of the set"
expect_err "stuck.d" "and names the object"
expect_err "hint: .*drctl prune" "with the next command"
[ ! -e "$REPO/backups/$STUCK/manifest.json" ] || fail "the set whose removal failed still has its manifest"
check_every_set_whole_or_incomplete "after a failed removal"
pass_note "after a failed removal every set is whole or incomplete"
[ "$(d --json list | jq -r '.[] | select(.id == "'$STUCK'") | .state')" = incomplete ] || fail "$STUCK is not listed incomplete"
rm -r "$REPO/backups/$STUCK/stuck.d"
run d prune; expect_rc 0 "prune again once the cause is gone"
expect_out "^removed $STUCK \(incomplete: incomplete, older than 24h\)$" "the half-removed set goes as old debris"
[ "$(set_folders | tr '\n' ' ')" = "20251109T020000Z-c000 20251110T020000Z-c000 " ] || fail "after the second prune: $(set_folders | tr '\n' ' ')"
pass_note "the second prune finishes the job: keep_last 2 remain"

# --- SIGKILL in the middle of a prune -------------------------------------------
drctl_init_in "$T/kill"
# shellcheck disable=SC2046
"$MAKE_SETS" "$CONF" $(nightly 2025-10-22 2025-11-30 k000)
export DRCTL_RETENTION_KEEP_LAST=1
for round in 1 2 3; do
  before=$(set_folders | wc -l)
  "$DRCTL" --config "$CONF" prune >"$T/prune.out" 2>&1 &
  pid=$!
  # Kill once it has removed a set (it prints each removal as it happens).
  for _ in $(seq 3000); do grep -q '^removed' "$T/prune.out" && break; kill -0 $pid 2>/dev/null || break; sleep 0.01; done
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  # The killed prune left its exclusive lock: its process on this host is
  # gone, so the lock is stale, and readers are told how to remove it.
  if [ -n "$(ls "$REPO/locks" 2>/dev/null | grep -v '\.tmp-')" ]; then
    run d verify 20251130T020000Z-k000; expect_rc 5 "round $round: verify beside the killed prune's lock"
    expect_err "locked by drctl prune \(exclusive lock, pid $pid on " "round $round: the killed prune is named"
    run d prune --dry-run --steal; expect_rc 0 "round $round: prune --dry-run --steal"
  fi
  check_every_set_whole_or_incomplete "round $round"
  pass_note "round $round: killed after $(grep -c '^removed' "$T/prune.out" || true) removal(s) of $((before - 1)); every set is whole or incomplete"
done
run d prune; expect_rc 0 "a prune after the kills"
[ "$(set_folders)" = 20251130T020000Z-k000 ] || fail "after the kills and a full prune: $(set_folders | tr '\n' ' ')"
run d verify 20251130T020000Z-k000; expect_rc 0 "the one set kept verifies"
echo "$CHECKS passed, 0 failed"
