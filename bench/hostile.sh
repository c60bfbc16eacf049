#!/usr/bin/env bash
# Wall time (ms, process start to exit) and peak memory (max RSS) of each hostile script under the default limits, next to a trivial
# script as the baseline, measured side by side in one run (median of N runs each).
#
#   bash bench/hostile.sh [N]        # N defaults to 5; builds the release binary first
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet
bin=$PWD/target/release/tgscript
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

declare -A scripts=(
  [baseline]='1 + 1'
  [loop]='loop {}'
  [recursion]='fn f(x) { f(x + 1) } f(0)'
  [string_doubling]='let s = "x"; loop { s += s; }'
  [array_growth]='let a = []; loop { a.push(1); }'
  [map_growth]='let m = #{}; let i = 0; loop { m["k" + i] = i; i += 1; }'
  [sleep]='sleep(1000)'
  [eval]='eval("1")'
  [replace_empty]='let s = ""; for i in 0..800 { s += "a"; } let big = "b"; for i in 0..19 { big += big; } s.replace("", big)'
  [nested_sort]='let a = []; for i in 0..200 { a.push(i); } a.sort(|x, y| { let b = []; for j in 0..200 { b.push(j); } b.sort(|p, q| { loop {} }); 0 }); "finished"'
)

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

printf '%-16s %10s %12s  %s\n' script wall_ms peak_rss_kb "error"
for name in baseline loop recursion string_doubling array_growth map_growth sleep eval replace_empty nested_sort; do
  printf '%s' "${scripts[$name]}" > "$work/$name.rhai"
  walls=() rss=()
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/time" "$bin" exec "$work/$name.rhai" >/dev/null 2>"$work/err" || true
    walls+=("$(( ($(date +%s%N) - start) / 1000000 ))")
    rss+=("$(cat "$work/time")")
  done
  err=$({ grep -v '^Command exited' "$work/err" || true; } | head -1 | sed "s|$work/||")
  printf '%-16s %10s %12s  %s\n' "$name" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${rss[@]}" | median)" "${err:-ok}"
done
