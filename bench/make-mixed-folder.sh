#!/usr/bin/env bash
# make-mixed-folder.sh DIR [MiB]: a folder of about MiB mebibytes (default
# 1024) that looks like what the files component backs up at scale: many
# small config/cert-like text files, JSON logs (compressible), and binary
# blobs (incompressible).  Deterministic for a given size.
set -euo pipefail
dir=$1; mib=${2:-1024}
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
blob_mib=$(( mib - log_mib - mib * 5 / 100 )); per=$(( blob_mib / 4 + 1 ))
for i in 1 2 3 4; do
  openssl enc -aes-128-ctr -pass pass:"seed$i" -nosalt -pbkdf2 -in <(head -c $(( per * 1024 * 1024 )) /dev/zero) -out "$dir/blobs/blob-$i.bin" 2>/dev/null
done
# top up with compressible-ish text so the folder is the size asked for
have=$(du -sm "$dir" | cut -f1)
if [ "$have" -lt "$mib" ]; then
  awk -v n=$(( (mib - have) * 1024 * 1024 / 64 )) 'BEGIN{srand(11); for(k=0;k<n;k++) printf "%08d %s %.6f audit event for agent %03d\n", k, (k%3?"ok":"retry"), rand(), k%200}' \
    > "$dir/logs/audit.log"
fi
du -sh "$dir"
