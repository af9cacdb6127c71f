#!/usr/bin/env bash
# Install what drctl needs to build and test, on Debian 12, and only what is
# missing: nothing is installed (and `apt-get update` is not run) when every
# package is already there.  Safe to run again and again.
#
# Debian's postgresql and redis-server packages start system services when
# installed; drctl's tests and demo do not use them (they start their own
# servers on ports of their own, see tests/harness/services.sh), so package
# scripts are kept from starting any service while installing here.
set -euo pipefail
cd "$(dirname "$0")/.."

# The list, and what each package is for: scripts/packages.txt.
PACKAGES=()
while read -r pkg rest; do
	case $pkg in "" | "#"*) continue ;; esac
	unless=$(sed -nE 's/.*unless:([^ ]+).*/\1/p' <<<"$rest")
	# A Node.js that is already there (e.g. from nodesource) brings its own
	# npm, and Debian's nodejs/npm packages would conflict with it.
	if [ -n "$unless" ] && command -v "$unless" >/dev/null 2>&1; then
		continue
	fi
	PACKAGES+=("$pkg")
done <scripts/packages.txt
if command -v node >/dev/null 2>&1; then
	echo "install-deps: node $(node --version) found on PATH; not installing Debian's nodejs and npm"
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	SUDO=()
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
		SUDO=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Keep package scripts from starting services (no systemd in CI
	# containers anyway): policy-rc.d exit 101 = "action forbidden".
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
		"${SUDO[@]}" chmod 0755 "$policy"
		trap '"${SUDO[@]}" rm -f "$policy"' EXIT
	fi
	"${SUDO[@]}" apt-get update -q
	"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
	echo "install-deps: installed ${missing[*]}"
else
	echo "install-deps: all ${#PACKAGES[@]} packages already installed"
fi

# Test servers written in JavaScript: install their npm dependencies, if any.
for pkg in tests/doubles/package.json tests/doubles/*/package.json; do
	[ -f "$pkg" ] || continue
	dir=$(dirname "$pkg")
	if jq -e '((.dependencies // {}) + (.devDependencies // {})) | length > 0' "$pkg" >/dev/null 2>&1; then
		if [ ! -d "$dir/node_modules" ] || [ "$pkg" -nt "$dir/node_modules" ]; then
			echo "install-deps: npm install in $dir"
			if ! (cd "$dir" && npm install --no-audit --no-fund --loglevel=error); then
				echo "install-deps: npm install failed in $dir (the test servers' packages, e.g. s3rver)." >&2
				echo "  If npm said SELF_SIGNED_CERT_IN_CHAIN or UNABLE_TO_GET_ISSUER_CERT, this machine reaches the" >&2
				echo "  registry through a TLS-intercepting proxy: add its CA to /usr/local/share/ca-certificates/," >&2
				echo "  run update-ca-certificates, and export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" >&2
				exit 1
			fi
			touch "$dir/node_modules"
		fi
	fi
done
