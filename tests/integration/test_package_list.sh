#!/usr/bin/env bash
# scripts/packages.txt (what scripts/install-deps.sh installs) is complete
# and true, derived from the code so that it cannot drift silently:
#  1. every pkg-config module a CMakeLists.txt asks for is a pc: entry;
#  2. every program the scripts, tests, benchmarks and drctl run
#     (tests/tools/programs-used.sh) is a prog: entry, or comes from a package
#     of Debian's base system (Essential, or Priority required: what a minimal
#     debootstrap has);
#  3. every entry is true: its program or module is installed, by that very
#     package, and something in the repository uses it.
# Each failure names the program or module, where it is used and the package
# to add.
set -euo pipefail
source "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
cd "$DRCTL_SOURCE_DIR"
LIST=${PACKAGE_LIST:-scripts/packages.txt}
PG_LIBDIR=/usr/lib/postgresql/15/bin
problems=()

declare -A prog_pkg pc_pkg unless_of
while read -r pkg rest; do
	case $pkg in "" | "#"*) continue ;; esac
	for item in $rest; do
		case $item in
		prog:*) prog_pkg[${item#prog:}]=$pkg ;;
		pc:*) pc_pkg[${item#pc:}]=$pkg ;;
		unless:*) unless_of[$pkg]=${item#unless:} ;;
		esac
	done
done <"$LIST"

# The package that owns a file; Debian 12 has merged /usr, so /bin/x is
# known to dpkg under either name.  dpkg -S is slow (a second a call on a
# busy machine), so the owners of every path asked about are looked up in
# one pass over dpkg's file lists (learn_owners), then read from OWNER.
declare -A OWNER
path_forms() { # the names dpkg may know a path by
	local p=$1
	echo "$p"
	case $p in /usr/bin/* | /usr/sbin/*) echo "${p#/usr}" ;; /bin/* | /sbin/*) echo "/usr$p" ;; esac
	readlink -f "$p" 2>/dev/null || true
}
learn_owners() { # PATH...
	local wanted line list path
	wanted=$(for p in "$@"; do path_forms "$p"; done | sort -u)
	[ -n "$wanted" ] || return 0
	while IFS= read -r line; do
		list=${line%%.list:*} path=${line#*.list:} # /var/lib/dpkg/info/PKG[:ARCH].list:PATH
		list=${list##*/}
		OWNER[$path]=${list%%:*}
	done < <(grep -HxF -f <(printf '%s\n' "$wanted") /var/lib/dpkg/info/*.list 2>/dev/null || true)
}
pkg_of() {
	local c
	while IFS= read -r c; do
		[ -n "${OWNER[$c]:-}" ] && { echo "${OWNER[$c]}"; return 0; }
	done < <(path_forms "$1")
	return 1
}
is_base() { # Essential, or Priority required: in every minimal Debian
	[ "$(dpkg-query -W -f='${Essential} ${Priority}' "$1" 2>/dev/null)" = "yes required" ] ||
		[ "$(dpkg-query -W -f='${Priority}' "$1" 2>/dev/null)" = required ]
}
# The project's files that say `word` (no git: this also runs on an exported copy).
sources() { find . \( -path ./.git -o -path './build*' -o -name node_modules \) -prune -o -type f \( -name '*.sh' -o -name '*.c' -o -name CMakeLists.txt \) -print; }
where_used() { sources | xargs grep -lw -- "$1" | awk 'NR <= 3' | tr '\n' ' '; }
# Is `owner` the package `pkg`, or one it depends on directly (python3 ->
# python3-minimal)?
provided_by() {
	[ "$1" = "$2" ] && return 0
	dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$2" 2>/dev/null | tr ',|' '\n\n' | sed -E 's/^ *//; s/[ :(].*//' | grep -qxF -- "$1"
}
# Where a program is in Debian's own folders (not a developer's ~/.pyenv or
# /usr/local), or in PostgreSQL's versioned one.
resolve() {
	case $1 in
	/*) [ -x "$1" ] && echo "$1" ;;
	*) PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PG_LIBDIR type -P "$1" ;;
	esac
}

# 1. pkg-config modules
modules=$(sources | grep 'CMakeLists.txt$' | xargs cat | tr '\n' ' ' |
	grep -oE 'pkg_check_modules\([^)]*\)' | sed -E 's/pkg_check_modules\(//; s/\)//' |
	awk '{ for (i = 2; i <= NF; i++) if ($i !~ /^[A-Z_]+$/) { m = $i; sub(/[<>=].*/, "", m); print m } }' | sort -u)
[ -n "$modules" ] || fail "found no pkg_check_modules in the CMakeLists.txt files"
for m in $modules; do
	[ -n "${pc_pkg[$m]:-}" ] || problems+=("pkg-config module $m (asked for in $(sources | grep 'CMakeLists.txt$' | xargs grep -l pkg_check_modules | tr '\n' ' ')) is in no line of $LIST: add the -dev package that has $m.pc")
done
pass_note "checked $(wc -w <<<"$modules") pkg-config modules"

# 2. programs in use
functions=$(sources | grep '\.sh$' | xargs grep -hoE '^[[:space:]]*(function[[:space:]]+)?[A-Za-z_][A-Za-z0-9_]*\(\)' |
	sed -E 's/^[[:space:]]*(function[[:space:]]+)?//; s/\(\)//' | sort -u)
used=$(tests/tools/programs-used.sh)
learn_owners $(for w in $used; do resolve "$w" || true; done) \
	$(for prog in "${!prog_pkg[@]}"; do resolve "$prog" || true; [ -x "$PG_LIBDIR/${prog##*/}" ] && echo "$PG_LIBDIR/${prog##*/}"; done) \
	$(for m in "${!pc_pkg[@]}"; do d=$(pkg-config --variable=pcfiledir "$m" 2>/dev/null) && echo "$d/$m.pc"; done)
checked=0
for w in $used; do
	grep -qxF -- "$w" <<<"$functions" && continue
	case $(type -t "$w" 2>/dev/null) in builtin | keyword) continue ;; esac
	path=$(resolve "$w") || continue # not a program here: a word the heuristic took
	checked=$((checked + 1))
	[ -n "${prog_pkg[$w]:-}" ] && continue
	pkg=$(pkg_of "$path") || { problems+=("program $w ($path, used in $(where_used "${w##*/}")) belongs to no Debian package: install it through $LIST or stop using it"); continue; }
	is_base "$pkg" && continue
	problems+=("program $w (used in $(where_used "${w##*/}")) comes from Debian package $pkg, which $LIST does not list: add \"$pkg prog:$w\"")
done
[ "$checked" -gt 20 ] || fail "only $checked programs found in use: the extractor is broken"
pass_note "checked $checked programs the project runs"

# 3. every entry is true
for prog in "${!prog_pkg[@]}"; do
	pkg=${prog_pkg[$prog]}
	unless=${unless_of[$pkg]:-}
	if [ -n "$unless" ] && command -v "$unless" >/dev/null && ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
		continue # e.g. a Node.js from elsewhere: install-deps leaves it alone
	fi
	path=$(resolve "$prog") || { problems+=("$LIST says $pkg gives program $prog, but $prog is not installed: run scripts/install-deps.sh, or fix the line"); continue; }
	owner=$(pkg_of "$path") || owner="?"
	# Debian's pg_dump, psql... on PATH are postgresql-common's wrapper; the
	# program itself is in the versioned folder.
	if [ "$owner" != "$pkg" ] && [ -x "$PG_LIBDIR/${prog##*/}" ]; then owner=$(pkg_of "$PG_LIBDIR/${prog##*/}") || owner="?"; fi
	provided_by "$owner" "$pkg" || problems+=("$LIST says $pkg gives program $prog, but $path comes from $owner")
	sources | xargs grep -qw -- "${prog##*/}" ||
		problems+=("$LIST lists program $prog ($pkg), which nothing in the repository uses: remove it")
done
for m in "${!pc_pkg[@]}"; do
	pkg=${pc_pkg[$m]}
	dir=$(pkg-config --variable=pcfiledir "$m" 2>/dev/null) || { problems+=("pkg-config module $m ($pkg) is not installed: run scripts/install-deps.sh"); continue; }
	owner=$(pkg_of "$dir/$m.pc") || owner="?"
	provided_by "$owner" "$pkg" || problems+=("$LIST says $pkg gives pkg-config module $m, but $dir/$m.pc comes from $owner")
	grep -qxF -- "$m" <<<"$modules" || problems+=("$LIST lists pkg-config module $m ($pkg), which no CMakeLists.txt asks for: remove it")
done
while read -r pkg rest; do
	case $pkg in "" | "#"*) continue ;; esac
	[ -n "$rest" ] || problems+=("$LIST: $pkg says nothing of what it is for (prog:, pc: or for:)")
done <"$LIST"
pass_note "checked every line of $LIST"

if [ ${#problems[@]} -gt 0 ]; then
	printf 'FAIL: %s\n' "${problems[@]}" >&2
	exit 1
fi
pass_note "the package list is complete and true"
echo "$CHECKS passed, 0 failed"
