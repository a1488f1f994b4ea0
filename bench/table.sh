#!/usr/bin/env bash
# Prints the markdown table of bench/README.md from a run's summary.txt
# (default $BENCH_TMP/results/summary.txt of ../shared/anchors/run-anchors.sh):
# every project metric next to the anchor DESIGN §6 names, with the ratio.
set -uo pipefail
S=${1:-${BENCH_TMP:-/tmp/bench-anchors}/results/summary.txt}
med() { awk -v n="$1" '$1 == n { print $2; exit }' "$S"; }
spread() { awk -v n="$1" '$1 == n { for (i = 3; i <= NF; i++) if ($i ~ /^spread=/) { sub("spread=", "", $i); print $i } ; exit }' "$S"; }
row() {  # what, project metric, anchor metric, target
  local a b r
  a=$(med "$2"); b=$(med "$3")
  if [ -n "$a" ] && [ -n "$b" ]; then r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f×", a / b }'); else r="n/a"; fi
  printf '| %s | `%s` %s (spread %s) | `%s` %s (spread %s) | **%s** | %s |\n' "$1" "$2" "${a:-?}" "$(spread "$2")" "$3" "${b:-?}" "$(spread "$3")" "$r" "$4"
}
echo "| what | socialpush (median) | anchor (median) | ratio | target |"
echo "|---|---|---|---|---|"
row "sequential signed POSTs, req/s" lua5.4.socialpush.seq.signed.rps c.libcurl.easy.signed.rps "≥ 0.85×"
row "sequential signed POSTs vs unsigned C, req/s" lua5.4.socialpush.seq.signed.rps c.libcurl.easy.rps "≥ 0.85×"
row "8 in flight (client:all), req/s" lua5.4.socialpush.multi8.signed.rps c.libcurl.multi8.signed.rps "≥ 0.8×"
row "8 in flight vs unsigned C multi, req/s" lua5.4.socialpush.multi8.signed.rps c.libcurl.multi8.rps "≥ 0.8×"
row "8 in flight vs Node twitter-api-v2, req/s" lua5.4.socialpush.multi8.signed.rps node.twitter-api-v2.c8.rps "≥ 5×"
row "8 in flight: client CPU per request, µs" lua5.4.socialpush.multi8.signed.cpu_per_req c.libcurl.multi8.signed.cpu_per_req "(lower is better)"
row "reference: the C curl_multi loop itself vs Node, req/s" c.libcurl.multi8.signed.rps node.twitter-api-v2.c8.rps "(what 5× would need)"
row "OAuth 1.0a headers/s (lua5.4) vs C" lua5.4.socialpush.oauth1_header c.openssl.oauth1_header "≥ 0.5×"
row "OAuth 1.0a headers/s (lua5.4) vs Node" lua5.4.socialpush.oauth1_header node.oauth-1.0a.sign "≥ 5×"
row "OAuth 1.0a headers/s (luajit) vs C" luajit.socialpush.oauth1_header c.openssl.oauth1_header "≥ 0.5×"
for d in x_tweet fb_feed fb_error yt_video yt_discovery gen_array_1mb; do
  for op in decode encode; do
    for l in lua5.4 luajit; do
      row "JSON $op $d ($l), MB/s" "$l.socialpush.json.$op.$d.mbps" "$l.cjson.$op.$d.mbps" "≥ 1×"
    done
  done
done
row "1 GiB upload, MB/s" lua5.4.socialpush.upload.mbps curl.cli.upload.mbps "≥ 0.9×"
row "1 GiB upload peak RSS, KB" lua5.4.socialpush.upload.maxrss curl.cli.upload.maxrss "< 32 MiB (32768 KB)"
