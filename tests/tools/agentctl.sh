#!/usr/bin/env bash
# A stand-in for the platform's agent controller, for [agents] control =
# command in the tests and the demo.  Agents are files in $AGENTCTL_DIR:
# <name> holds the replicas it runs.
#   agentctl.sh status               NAME REPLICAS, one line per agent
#   agentctl.sh stop NAME            0 replicas
#   agentctl.sh start NAME N         N replicas
#   agentctl.sh restart NAME         same replicas; counts restarts in <name>.restarts
# AGENTCTL_LOG, when set, gets one line per call (the order of calls).
set -euo pipefail
: "${AGENTCTL_DIR:?AGENTCTL_DIR must name the folder of the agents}"
[ -z "${AGENTCTL_LOG:-}" ] || echo "$*" >>"$AGENTCTL_LOG"
# A file is replaced whole (temporary, then rename): a call killed half way
# (drctl's runs are SIGKILLed in the tests) leaves the old content, never an
# empty file.
put() { printf '%s\n' "$2" >"$1.tmp-$$" && mv -f "$1.tmp-$$" "$1"; }
case ${1:-} in
status)
	for f in "$AGENTCTL_DIR"/*; do
		[ -f "$f" ] || continue
		case $f in *.restarts | *.tmp-*) continue ;; esac
		printf '%s %s\n' "$(basename "$f")" "$(cat "$f")"
	done
	;;
stop) [ -f "$AGENTCTL_DIR/$2" ] || { echo "agentctl: no agent $2" >&2; exit 1; }; put "$AGENTCTL_DIR/$2" 0 ;;
start) [ -f "$AGENTCTL_DIR/$2" ] || { echo "agentctl: no agent $2" >&2; exit 1; }; put "$AGENTCTL_DIR/$2" "$3" ;;
restart) put "$AGENTCTL_DIR/$2.restarts" $(($(cat "$AGENTCTL_DIR/$2.restarts" 2>/dev/null || echo 0) + 1)) ;;
*) echo "usage: agentctl.sh status | stop NAME | start NAME N | restart NAME" >&2; exit 2 ;;
esac
