#!/usr/bin/env bash
# `drctl schedule render --kind crontab` and `--kind systemd`, for a host
# without Kubernetes:
#  - crontab: one line per task with five valid time fields; run through
#    /bin/sh as cron runs it, each line gives drctl exactly the arguments
#    meant (the configuration's path survives spaces and quotes), the
#    nightly prune runs only after a successful backup, the output reaches
#    logger; a path cron would break ("%") is refused;
#  - systemd: a service and a timer per task that `systemd-analyze verify`
#    accepts, ExecStart= quoted for systemd (spaces, "%"), and calendars
#    whose next elapses are the right days: every night, every Friday, the
#    last Friday and the third Monday of each month (computed here
#    independently, two years ahead).
set -euo pipefail
source "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
require_tools sh systemd-analyze python3

# A stub drctl that records its arguments, one call a line (fields
# separated by |), and fails the subcommand named in $STUB_FAIL.
mkdir -p "$T/bin dir" "$T/fake"
cat >"$T/bin dir/drctl" <<'EOF'
#!/usr/bin/env bash
(IFS='|'; echo "$*") >>"$STUB_LOG"
echo "stub drctl $3 ran"
[ "${STUB_FAIL:-}" != "$3" ]
EOF
cat >"$T/fake/logger" <<'EOF'
#!/usr/bin/env bash
[ "$1" = -t ] || exit 9
cat >>"$STUB_LOG.logger.$2"
EOF
chmod +x "$T/bin dir/drctl" "$T/fake/logger"
STUB="$T/bin dir/drctl"
CONF_DIR="$T/conf dir"
CONF="$CONF_DIR/it's drctl.conf"
mkdir -p "$CONF_DIR"
printf '[repository]\npath = %s/repo\n' "$T" >"$CONF"

run "$DRCTL" --config "$CONF" schedule render --kind crontab --drctl "$STUB" --user backup-op
expect_rc 0 "render --kind crontab"
printf '%s\n' "$OUT" >"$T/drctl.crontab"
expect_out '^# +crontab -u backup-op FILE$' "the install command names --user"

# The lines: five valid time fields, then the command.
lines=$(grep -vE '^[[:space:]]*(#|$)' "$T/drctl.crontab")
[ "$(wc -l <<<"$lines")" = 4 ] || fail "expected 4 crontab lines, got: $lines"
field_ok() { # value min max
	[ "$1" = "*" ] && return 0
	[[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}
while read -r min hour dom mon dow cmd; do
	field_ok "$min" 0 59 && field_ok "$hour" 0 23 && field_ok "$dom" 1 31 && field_ok "$mon" 1 12 && field_ok "$dow" 0 7 ||
		fail "not a crontab line with five time fields: $min $hour $dom $mon $dow $cmd"
	[ -n "$cmd" ] || fail "a crontab line without a command"
done <<<"$lines"
pass_note "4 crontab lines, each with five valid time fields"

# when_of TASK-ARGUMENT: the five fields of the line that runs it.
when_of() { awk -v a=" $1" 'index($0, a) && !/^#/ { print $1, $2, $3, $4, $5 }' "$T/drctl.crontab"; }
[ "$(when_of backup)" = "0 2 * * *" ] || fail "backup runs at \"$(when_of backup)\", expected every night at 02:00"
[ "$(when_of verify)" = "0 3 * * 5" ] || fail "verify runs at \"$(when_of verify)\", expected Fridays 03:00"
[ "$(when_of drill)" = "0 4 * * 5" ] || fail "drill runs at \"$(when_of drill)\", expected Fridays 04:00"
[ "$(when_of rotate-secrets)" = "0 5 * * 1" ] || fail "rotate-secrets runs at \"$(when_of rotate-secrets)\", expected Mondays 05:00"
pass_note "nightly backup, Friday verify and drill, Monday rotation"

# Each line, run as cron runs it (/bin/sh -c), with the stubs.
run_line() { # task-argument
	local line
	line=$(awk -v a=" $1" 'index($0, a) && !/^#/' "$T/drctl.crontab")
	line=$(cut -d' ' -f6- <<<"$line")
	rm -f "$T/calls"*
	STUB_LOG="$T/calls" PATH="$T/fake:$PATH" sh -c "$line"
}
calls() { cat "$T/calls" 2>/dev/null; }
expect_calls() { # what, expected calls (one a line)
	[ "$(calls)" = "$2" ] || fail "$1: drctl was called with
$(calls)
expected
$2"
	pass_note "$1"
}
run_line backup
expect_calls "the backup line runs backup, then prune" "--config|$CONF|backup
--config|$CONF|prune"
grep -q 'stub drctl prune ran' "$T/calls.logger.drctl-backup" || fail "the backup line's output does not reach logger -t drctl-backup"
pass_note "its output goes to logger -t drctl-backup"
STUB_FAIL=backup run_line backup
expect_calls "a failed backup is not followed by prune" "--config|$CONF|backup"
run_line verify
expect_calls "the verify line runs verify latest --deep" "--config|$CONF|verify|latest|--deep"
run_line drill
expect_calls "the drill line runs drill --when last-friday" "--config|$CONF|drill|--when|last-friday"
run_line rotate-secrets
expect_calls "the rotation line runs rotate-secrets --when third-monday" "--config|$CONF|rotate-secrets|--when|third-monday"

mkdir -p "$T/100%"
cp "$CONF" "$T/100%/drctl.conf"
run "$DRCTL" --config "$T/100%/drctl.conf" schedule render --kind crontab --drctl "$STUB"
expect_rc 2 "a configuration path with % (a line break to cron)"
expect_err 'holds "%"' "the error says why"

# systemd: a path with a space, a quote and a "%" (a specifier unless doubled).
SCONF="$T/100%/it's drctl.conf"
cp "$CONF" "$SCONF"
run "$DRCTL" --config "$SCONF" schedule render --kind systemd --drctl "$STUB" --user backup-op --out-dir "$T/units"
expect_rc 0 "render --kind systemd --out-dir"
units=$(cd "$T/units" && ls)
[ "$units" = "$(printf '%s\n' drctl-backup.service drctl-backup.timer drctl-drill.service drctl-drill.timer \
	drctl-rotate-secrets.service drctl-rotate-secrets.timer drctl-verify.service drctl-verify.timer)" ] ||
	fail "unexpected units: $units"
(cd "$T/units" && systemd-analyze verify --man=no ./*.service ./*.timer) >"$T/verify.log" 2>&1 ||
	{ cat "$T/verify.log" >&2; fail "systemd-analyze verify rejects the units (above)"; }
[ ! -s "$T/verify.log" ] || { cat "$T/verify.log" >&2; fail "systemd-analyze verify warns (above)"; }
pass_note "systemd-analyze verify accepts the 8 units"

section_keys() { # unit section: its Key=value lines
	awk -v s="[$2]" '/^\[/ { in_s = ($0 == s); next } in_s && /=/' "$T/units/$1"
}
q='"'
exec_of() { printf 'ExecStart=%s --config %s %s' "$q$STUB$q" "$q${SCONF//%/%%}$q" "$1"; }
[ "$(section_keys drctl-backup.service Service | grep ^ExecStart=)" = "$(exec_of backup)
$(exec_of prune)" ] || fail "drctl-backup.service: $(section_keys drctl-backup.service Service | grep ^ExecStart=)
expected
$(exec_of backup)
$(exec_of prune)"
pass_note "ExecStart= quotes the paths and doubles %"
for task in backup verify drill rotate-secrets; do
	svc=$(section_keys "drctl-$task.service" Service)
	grep -qx 'Type=oneshot' <<<"$svc" || fail "drctl-$task.service is not Type=oneshot"
	grep -qx 'User=backup-op' <<<"$svc" || fail "drctl-$task.service has no User=backup-op"
	section_keys "drctl-$task.service" Unit | grep -q '^Description=' || fail "drctl-$task.service has no [Unit] Description"
	tim=$(section_keys "drctl-$task.timer" Timer)
	grep -qx 'Persistent=true' <<<"$tim" || fail "drctl-$task.timer is not Persistent=true"
	grep -q '^OnCalendar=' <<<"$tim" || fail "drctl-$task.timer has no OnCalendar="
	section_keys "drctl-$task.timer" Install | grep -qx 'WantedBy=timers.target' || fail "drctl-$task.timer is not WantedBy=timers.target"
done
if grep -h '^ExecStart=' "$T/units/"*.service | grep -q -- '--when'; then
	fail "a systemd unit passes --when: its calendar says the day, and a late (Persistent) start must still run"
fi
[ "$(section_keys drctl-drill.service Service | grep ^ExecStart=)" = "$(exec_of drill)" ] ||
	fail "drctl-drill.service runs $(section_keys drctl-drill.service Service | grep ^ExecStart=)"
pass_note "each task: a oneshot service and a persistent timer; no --when"

# The calendars: the next elapses from 2027-01-01, against days computed here.
elapses() { # unit count
	local cal
	cal=$(section_keys "drctl-$1.timer" Timer | sed -n 's/^OnCalendar=//p')
	TZ=UTC systemd-analyze calendar --iterations="$2" --base-time='2027-01-01 00:00:00 UTC' "$cal" |
		sed -nE 's/^ *(Next elapse|Iter\. #[0-9]+): [A-Z][a-z]{2} ([0-9-]+ [0-9:]+) UTC$/\2/p'
}
expected() { # kind count
	PATH=/usr/bin:$PATH python3 - "$1" "$2" <<'PY'
import calendar, datetime, sys
kind, count = sys.argv[1], int(sys.argv[2])
out, day = [], datetime.date(2027, 1, 1)
while len(out) < count:
    last = calendar.monthrange(day.year, day.month)[1]
    if kind == "backup":
        hit, hour = True, 2
    elif kind == "verify":
        hit, hour = day.weekday() == 4, 3
    elif kind == "drill":    # a Friday with no Friday after it in its month
        hit, hour = day.weekday() == 4 and day.day + 7 > last, 4
    else:                    # the third Monday: two Mondays before it in its month
        hit, hour = day.weekday() == 0 and (day.day - 1) // 7 == 2, 5
    if hit:
        out.append(f"{day.isoformat()} {hour:02d}:00:00")
    day += datetime.timedelta(days=1)
print("\n".join(out))
PY
}
for task in backup:10 verify:10 drill:24 rotate-secrets:24; do
	name=${task%%:*} n=${task##*:}
	got=$(elapses "$name" "$n")
	want=$(expected "$name" "$n")
	[ "$got" = "$want" ] || fail "drctl-$name.timer elapses at
$got
expected
$want"
done
pass_note "the timers elapse every night, every Friday, on the last Friday and on the third Monday of each month"

# The usage errors name what is wrong.
run "$DRCTL" --config "$CONF" schedule render --kind crontab --user 'bad user'
expect_rc 2 "--user with a space"
run "$DRCTL" --config "$CONF" schedule render
expect_rc 2 "render without --kind"
expect_err 'needs --kind' "the error asks for --kind"
run "$DRCTL" --config "$CONF" schedule show --kind crontab
expect_rc 2 "an unknown schedule subcommand"
echo "$CHECKS passed, 0 failed"
