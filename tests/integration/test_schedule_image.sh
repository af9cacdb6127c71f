#!/usr/bin/env bash
# schedules/Containerfile builds an image that can run what the manifests
# ask of it.  No image can be built or pulled here, so the test proves it
# from what the Containerfile installs, derived from the code:
#  - both stages are Debian 12 slim; the build stage installs the compiler,
#    cmake, pkg-config and the -dev package of every pc: line of
#    scripts/packages.txt;
#  - every program drctl runs (tests/tools/programs-used.sh --drctl: argv
#    literals, the config's "... program" defaults, pg_tool_sibling names),
#    found on the image's PATH, and every program the manifests' containers
#    start (command[0]), comes from a package the runtime stage installs or
#    from Debian's base system (what debian:bookworm-slim has);
#  - every shared library drctl links (ldd) comes from a package the
#    runtime stage installs, one they depend on, or the base system;
#  - the runtime stage installs ca-certificates (TLS is verified);
#  - the runtime stage runs as a non-root user, copies nothing but the
#    drctl binary (no key, identity or configuration), and its entry point
#    is drctl.
set -euo pipefail
source "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
cd "$DRCTL_SOURCE_DIR"
FILE=${CONTAINERFILE:-schedules/Containerfile}
require_tools dpkg dpkg-query ldd awk python3

# The instructions, one a line: "STAGE INSTRUCTION ARGUMENTS" (continuations
# joined, comments dropped); STAGE counts the FROM lines from 1.
instructions() {
	awk '
	/^[[:space:]]*#/ && cont == "" { next }
	{
		line = cont $0
		if (line ~ /\\[[:space:]]*$/) { sub(/\\[[:space:]]*$/, " ", line); cont = line; next }
		cont = ""
		if (line ~ /^[[:space:]]*$/) next
		split(line, w, /[[:space:]]+/)
		if (toupper(w[1]) == "FROM") stage++
		print stage, line
	}' "$FILE"
}
# The packages `apt-get install` installs in stage N.
installed_in() {
	instructions | awk -v s="$1" '$1 == s' | grep -oE 'apt-get install[^&;]*' |
		sed -E 's/apt-get install//' | tr ' ' '\n' | grep -vE '^(-.*|)$' | sort -u
}
stages=$(instructions | awk '{ print $1 }' | sort -u | wc -l)
[ "$stages" = 2 ] || fail "$FILE should have two stages (build, runtime), has $stages"
last=$stages
froms=$(instructions | awk 'toupper($2) == "FROM" { print $3 }')
for f in $froms; do
	[ "$f" = debian:bookworm-slim ] || fail "$FILE: stage FROM $f, expected debian:bookworm-slim (Debian 12)"
done
pass_note "two stages, both FROM debian:bookworm-slim"

build_pkgs=$(installed_in 1)
runtime_pkgs=$(installed_in "$last")
[ -n "$runtime_pkgs" ] || fail "found no apt-get install in the runtime stage of $FILE"
# TLS verification is on by default (S3, Vault, the Kubernetes API): libcurl
# and OpenSSL need the system's CA bundle.
grep -qxF ca-certificates <<<"$runtime_pkgs" ||
	fail "the runtime stage of $FILE does not install ca-certificates: drctl could verify no TLS server"

# The build stage: every pc: line's package, and the tools.
wanted=$(awk '!/^#/ && / pc:/ { print $1 }' scripts/packages.txt)
[ -n "$wanted" ] || fail "scripts/packages.txt has no pc: lines"
for p in build-essential cmake pkgconf $wanted; do
	grep -qxF "$p" <<<"$build_pkgs" || fail "the build stage of $FILE does not install $p (scripts/packages.txt)"
done
pass_note "the build stage installs build-essential, cmake, pkgconf and $(wc -w <<<"$wanted") -dev packages"

# Every installed package with its Essential, Priority and dependencies, once
# (dpkg-query per package is slow).
dpkg-query -W -f='${Package}\t${Essential} ${Priority}\t${Depends}, ${Pre-Depends}\n' >"$T/packages"
# The base system of a minimal Debian: Essential, or Priority required.
base=$(awk -F'\t' '$2 ~ /^yes / || $2 ~ / required$/ { print $1 }' "$T/packages" | sort -u)
is_base() { grep -qxF "$1" <<<"$base"; }
# The package that owns a file (Debian 12 has merged /usr: /lib/x is known
# to dpkg as /usr/lib/x or the other way round).  owners PATH... asks dpkg
# once for all of them (it is slow); dpkg -S also names diversions, which
# are not owners.
declare -A owner
candidates() { # path: the names dpkg may know it by
	local real
	real=$(readlink -f "$1")
	printf '%s\n' "$1" "${1#/usr}" "/usr$1" "$real" "${real#/usr}" "/usr$real" | grep '^/' | sort -u
}
owners() {
	local line pkg path
	while IFS= read -r line; do
		pkg=${line%%: *} path=${line#*: }
		owner[$path]=${pkg%%,*}
	done < <(for p in "$@"; do candidates "$p"; done | xargs dpkg -S 2>/dev/null | grep -v '^diversion by ')
}
pkg_of() {
	local c
	for c in $(candidates "$1"); do
		[ -n "${owner[$c]:-}" ] && { echo "${owner[$c]%%:*}"; return 0; }
	done
	return 1
}
# The runtime packages and everything they depend on, as installed here
# (the same Debian 12 packages the image gets).
closure=$(awk -F'\t' -v want="$(echo $runtime_pkgs)" '
	{ deps[$1] = $3 }
	END {
		n = split(want, todo, " ")
		for (i = 1; i <= n; i++) {
			p = todo[i]
			if (p in seen) continue
			seen[p] = 1
			m = split(deps[p], d, /[,|]/)
			for (j = 1; j <= m; j++) {
				q = d[j]; sub(/^ +/, "", q); sub(/[ :(].*/, "", q)
				if (q != "" && !(q in seen)) todo[++n] = q
			}
		}
		for (p in seen) print p
	}' "$T/packages" | sort -u)

# The image's PATH (ENV PATH= of the runtime stage), with Debian's default
# for $PATH.
image_path=$(instructions | awk -v s="$last" '$1 == s && toupper($2) == "ENV"' | { grep -oE 'PATH=[^ ]+' || true; } | tail -1 | sed 's/^PATH=//')
image_path=${image_path:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
image_path=${image_path//\$PATH//usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}

# Programs drctl runs, and the programs the manifests' containers start.
drctl_programs=$(tests/tools/programs-used.sh --drctl)
[ -n "$drctl_programs" ] || fail "tests/tools/programs-used.sh --drctl found no program: the extractor is broken"
grep -qx pg_dump <<<"$drctl_programs" || fail "tests/tools/programs-used.sh --drctl misses pg_dump, which drctl runs"
manifest_programs=$(PATH=/usr/bin:$PATH python3 - schedules/kubernetes <<'PY'
import os, sys, yaml
for root, _, files in os.walk(sys.argv[1]):
    for name in files:
        for doc in yaml.safe_load_all(open(os.path.join(root, name))):
            spec = (doc or {}).get("spec", {})
            spec = spec.get("jobTemplate", {}).get("spec", spec)
            pod = spec.get("template", {}).get("spec", {})
            for c in pod.get("initContainers", []) + pod.get("containers", []):
                print(c["command"][0])
PY
)
manifest_programs=$(sort -u <<<"$manifest_programs")
[ -n "$manifest_programs" ] || fail "found no container command in schedules/kubernetes"
paths=()
for prog in $drctl_programs $manifest_programs; do
	[ "$prog" = drctl ] || paths+=("$(PATH=$image_path type -P "$prog" || echo "/nonexistent/$prog")")
done
owners "${paths[@]}"
for prog in $drctl_programs $manifest_programs; do
	if [ "$prog" = drctl ]; then
		instructions | awk -v s="$last" '$1 == s' | grep -qE '^[0-9]+ COPY --from=[a-z]+ /usr/local/bin/drctl /usr/local/bin/drctl$' ||
			fail "the runtime stage of $FILE does not copy drctl to /usr/local/bin/drctl (the manifests run \"drctl\")"
		continue
	fi
	path=$(PATH=$image_path type -P "$prog") || fail "program $prog (drctl or a manifest runs it) is not installed here: run scripts/install-deps.sh"
	pkg=$(pkg_of "$path") || fail "program $prog ($path) belongs to no Debian package"
	if ! grep -qxF "$pkg" <<<"$runtime_pkgs" && ! is_base "$pkg"; then
		fail "program $prog ($path, on the image's PATH $image_path) comes from $pkg, which the runtime stage of $FILE does not install: add it"
	fi
done
pass_note "every program drctl runs ($(echo $drctl_programs)) and the manifests start ($(echo $manifest_programs)) is in the image"

libs=$(ldd "$DRCTL" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
[ "$(wc -l <<<"$libs")" -gt 5 ] || fail "ldd $DRCTL found only: $libs"
owners $libs
for lib in $libs; do
	pkg=$(pkg_of "$lib") || fail "library $lib (ldd $DRCTL) belongs to no Debian package"
	grep -qxF "$pkg" <<<"$closure" || is_base "$pkg" ||
		fail "drctl links $lib from $pkg, which the runtime stage of $FILE does not install (nor anything it installs depends on): add $pkg"
done
pass_note "every library drctl links ($(wc -l <<<"$libs")) is installed in the image"

runtime=$(instructions | awk -v s="$last" '$1 == s')
user=$(awk 'toupper($2) == "USER" { u = $3 } END { print u }' <<<"$runtime")
uid=${user%%:*}
[[ "$uid" =~ ^[0-9]+$ ]] && [ "$uid" -ge 1000 ] ||
	fail "the runtime stage's USER is \"$user\": it should be a numeric non-root uid (Kubernetes' runAsNonRoot checks numbers)"
grep -q "runAsUser: $uid\$" schedules/kubernetes/backup-cronjob.yaml ||
	fail "the manifests' runAsUser is not the image's user $uid"
pass_note "the image runs as uid $uid, the manifests' runAsUser"
copies=$(awk 'toupper($2) == "COPY" || toupper($2) == "ADD"' <<<"$runtime")
[ "$copies" = "$last COPY --from=build /usr/local/bin/drctl /usr/local/bin/drctl" ] ||
	fail "the runtime stage should copy only the drctl binary (no key, identity or configuration), copies: $copies"
if grep -niE 'identity|signing\.key|\.key\b|AGE-SECRET|secret_key' <<<"$runtime"; then
	fail "the runtime stage of $FILE mentions a key or identity (above): nothing secret belongs in the image"
fi
pass_note "the runtime stage copies only the drctl binary"
grep -qE "^$last ENTRYPOINT \[\"drctl\"\]\$" <<<"$runtime" || fail "the runtime stage's ENTRYPOINT should be [\"drctl\"]"
pass_note "ENTRYPOINT [\"drctl\"]"
echo "$CHECKS passed, 0 failed"
