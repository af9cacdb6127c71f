#!/usr/bin/env bash
# make-mixed-folder.sh DIR [MiB] [tree|halves]: a folder of about MiB
# mebibytes (default 1024), deterministic for a given size.
#   tree (default): what the files component backs up at scale: many small
#     config/cert-like text files, JSON logs (compressible, ~13x at zstd -3),
#     and binary blobs (incompressible).
#   halves: half random bytes (4 files), half text (8 files of words drawn
#     from a vocabulary with a skewed frequency, ~3x at zstd -3, the way
#     prose or source code compresses), for a harder case than JSON logs.
set -euo pipefail
dir=$1; mib=${2:-1024}; layout=${3:-tree}

random_files() { # folder, count, MiB each
  for i in $(seq 1 "$2"); do
    openssl enc -aes-128-ctr -pass pass:"seed$i" -nosalt -pbkdf2 -in <(head -c $(( $3 * 1024 * 1024 )) /dev/zero) \
      -out "$1/blob-$i.bin" 2>/dev/null
  done
}

case $layout in
tree)
  mkdir -p "$dir/etc" "$dir/logs" "$dir/blobs"
  # 2000 small text files
  awk -v d="$dir/etc" 'BEGIN{ for (i = 1; i <= 2000; i++) { f = d "/conf-" i ".ini";
    for (k = 0; k < 10 + i % 40; k++) printf "setting_%d = value-%d-%d\n", k, i, k * i > f; close(f) } }'
  # ~45%: JSON log lines
  log_mib=$(( mib * 45 / 100 )); per=$(( log_mib / 8 + 1 ))
  for i in $(seq 1 8); do
    awk -v n=$(( per * 1024 * 1024 / 120 )) -v s=$i 'BEGIN{srand(s); for(k=0;k<n;k++) printf "{\"ts\":%d,\"agent\":\"support_agent_%03d\",\"latency_ms\":%d,\"status\":%d}\n", 1700000000+k, k%200, int(rand()*9000), (k%97==0)?500:200}' \
      > "$dir/logs/agents-$i.jsonl"
  done
  # ~50%: random blobs
  blob_mib=$(( mib - log_mib - mib * 5 / 100 ))
  random_files "$dir/blobs" 4 $(( blob_mib / 4 + 1 ))
  # top up with compressible-ish text so the folder is the size asked for
  have=$(du -sm "$dir" | cut -f1)
  if [ "$have" -lt "$mib" ]; then
    awk -v n=$(( (mib - have) * 1024 * 1024 / 64 )) 'BEGIN{srand(11); for(k=0;k<n;k++) printf "%08d %s %.6f audit event for agent %03d\n", k, (k%3?"ok":"retry"), rand(), k%200}' \
      > "$dir/logs/audit.log"
  fi
  ;;
halves)
  mkdir -p "$dir/random" "$dir/text"
  random_files "$dir/random" 4 $(( mib / 8 ))
  for i in $(seq 1 8); do
    awk -v n=$(( mib * 1024 * 1024 / 16 )) -v s="$i" 'BEGIN{ srand(s);
      for (w = 0; w < 4000; w++) { v = ""; l = 2 + int(rand() * 9); for (k = 0; k < l; k++) v = v sprintf("%c", 97 + int(rand() * 26)); word[w] = v }
      while (out < n) { line = ""; m = 6 + int(rand() * 12)
        for (k = 0; k < m; k++) { r = rand(); line = line (k ? " " : "") word[int(4000 * r * r * r)] }
        line = line ".\n"; printf "%s", line; out += length(line) } }' > "$dir/text/words-$i.txt"
  done
  ;;
*)
  echo "usage: make-mixed-folder.sh DIR [MiB] [tree|halves]" >&2
  exit 2
  ;;
esac
du -sh "$dir"
