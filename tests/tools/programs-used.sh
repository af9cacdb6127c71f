#!/usr/bin/env bash
# Print, one per line and sorted, the names of the programs that the
# project's shell scripts (scripts/, tests/, bench/) and C sources run: the
# words in command position of every shell line (after assignments and
# wrappers such as env, timeout, runuser ... --, sudo, xargs), the programs
# named as "$PG_BIN/<name>", the first element of argv initialisers in C
# ({ "age", "-d", ...}), and the tools drctl runs by default (config_keys.c:
# "... program" keys, and pg_tool_sibling names).  A heuristic, deliberately
# generous: tests/integration/test_package_list.sh keeps only the words that
# name a program on this machine.  Run from the repository's root.
#
# With --drctl, only the programs the drctl binary itself runs (its C
# sources, outside tests/ and bench/, and the defaults above), for the
# container image (tests/integration/test_schedule_image.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

shell_commands() {
	awk '
	# Cut a line into command segments, tracking quotes across lines:
	# single-quoted text is data (an awk or python program, a bash -c
	# string), double-quoted text is data except for $( ... ) inside it.
	BEGIN { depth = 0; ctx[0] = "n" }
	function segments(line,   out, i, c, n, top) {
		out = ""; n = length(line)
		for (i = 1; i <= n; i++) {
			c = substr(line, i, 1); top = ctx[depth]
			if (top == "s") { if (c == "\047") depth--; else out = out "x"; continue }
			if (top == "d") {
				if (c == "\\") { i++; out = out "x"; continue }
				if (c == "\"") { depth--; continue }
				if (c == "$" && substr(line, i + 1, 1) == "(") { depth++; ctx[depth] = "n"; i++; out = out "\n"; continue }
				out = out "x"; continue
			}
			if (c == "\\") { i++; out = out "x"; continue }
			if (c == "\047") { depth++; ctx[depth] = "s"; out = out "x"; continue }
			if (c == "\"") { depth++; ctx[depth] = "d"; out = out "x"; continue }
			if (c == "#" && (i == 1 || substr(line, i - 1, 1) ~ /[ \t;(]/)) break
			if (c == "$" && substr(line, i + 1, 1) == "(") { depth++; ctx[depth] = "n"; i++; out = out "\n"; continue }
			if (c == ")" && depth > 0) { depth--; out = out "\n"; continue }
			if (c ~ /[;|&(){}`]/) { out = out "\n"; continue }
			out = out c
		}
		# a new line ends a command, unless it is inside quotes
		return ctx[depth] == "n" ? out "\n" : out
	}
	function first_word(seg,   w, n, i) {
		n = split(seg, w, /[ \t]+/)
		i = 1
		while (i <= n) {
			if (w[i] == "" || w[i] ~ /^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=/) { i++; continue }
			if (w[i] ~ /^(then|do|else|elif|if|while|until|time|exec|command|sudo|nohup|setsid|builtin|!|\[\[|\[)$/) { i++; continue }
			if (w[i] == "env") { i++; while (i <= n && (w[i] ~ /=/ || w[i] ~ /^-/)) i++; continue }
			if (w[i] == "timeout") { i++; while (i <= n && (w[i] ~ /^-/ || w[i] ~ /^[0-9.]+[smh]?$/)) i++; continue }
			if (w[i] == "runuser") { i++; while (i <= n && w[i] != "--") i++; i++; continue }
			if (w[i] == "xargs") { i++; while (i <= n && w[i] ~ /^-/) i++; continue }
			break
		}
		return i <= n ? w[i] : ""
	}
	{
		line = $0
		if (heredoc != "") { t = line; sub(/^[ \t]+/, "", t); if (t == heredoc) heredoc = ""; next }
		if (ctx[depth] == "n" && match(line, /<<-?[ \t]*["\047]?[A-Za-z_]+["\047]?/)) {
			h = substr(line, RSTART, RLENGTH); gsub(/<<-?[ \t]*|["\047]/, "", h); heredoc = h
		}
		# "$PG_BIN/initdb" and the like: a program in a folder a variable names
		while (match(line, /\$\{?PG_BIN\}?\/[a-z_]+/)) {
			p = substr(line, RSTART, RLENGTH); sub(/.*\//, "", p); print p
			line = substr(line, RSTART + RLENGTH)
		}
		line = $0
		k = split(segments(line), segs, "\n")
		for (j = 1; j <= k; j++) { w = first_word(segs[j]); if (w ~ /^[a-z][a-z0-9_.+-]*$/ || w ~ /^\/(usr\/)?s?bin\/[a-z][a-z0-9_.+-]*$/) print w }
	}' "$@"
}

c_programs() {
	grep -hoE '\{ *"[a-z][a-z0-9_.+-]*", *"-' "$@" | sed -E 's/^\{ *"([^"]+)".*/\1/' || true
	grep -hoE 'CONFIG_STRING, "[a-z_]+", "[^"]*program' lib/core/config_keys.c | sed -E 's/^CONFIG_STRING, "([^"]+)".*/\1/' || true
	grep -hoE 'pg_tool_sibling\([^,]+, "[a-z_]+"' "$@" | sed -E 's/.*"([^"]+)"$/\1/' || true
}

# The project's own files (a checkout or an exported copy: no git needed).
project_files() { # pattern
	find . \( -path ./.git -o -path './build*' -o -name node_modules \) -prune -o -type f -name "$1" -print0
}

if [ "${1:-}" = --drctl ]; then
	find drctl lib backup restore verify components schedules -type f -name '*.c' -print0 |
		xargs -0 bash -c 'c_programs() { '"$(declare -f c_programs | sed '1,2d;$d')"'; }; c_programs "$@"' _ | sort -u
	exit 0
fi

{
	project_files '*.sh' | xargs -0 -n1 bash -c "$(declare -f shell_commands); shell_commands \"\$1\"" _
	project_files '*.c' | xargs -0 bash -c 'c_programs() { '"$(declare -f c_programs | sed '1,2d;$d')"'; }; c_programs "$@"' _
} | grep -vxE "x+" | sort -u
