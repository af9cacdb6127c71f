#!/usr/bin/env bash
# Run one libFuzzer target for a bounded time: first replay every saved
# regression input, then fuzz from the seed corpus (copied, so the checked-in
# corpus is not modified).  Any crash fails the test and is left in the
# artifact folder printed below, to be added to regressions/.
set -euo pipefail
bin=$1 name=$2 seconds=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/drctl-fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
if [ -d "$here/regressions/$name" ] && [ -n "$(ls -A "$here/regressions/$name")" ]; then
  "$bin" -runs=0 "$here/regressions/$name"/*
fi
if [ -d "$here/corpus/$name" ]; then cp -r "$here/corpus/$name/." "$work/corpus/"; fi
if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
     -artifact_prefix="$work/artifacts/" "$work/corpus" 2> "$work/log"; then
  tail -40 "$work/log"
  keep=$(mktemp -d "${TMPDIR:-/tmp}/drctl-fuzz-crash-$name.XXXXXX")
  cp -r "$work/artifacts/." "$keep/"
  echo "FUZZ FAILURE in $name: crash inputs saved in $keep; add them to tests/fuzz/regressions/$name/"
  exit 1
fi
grep -E '^(#[0-9]+ *DONE|Done)' "$work/log" | tail -1 || true
echo "fuzz $name: no crash in ${seconds}s"
