#!/usr/bin/env bash
# Wall time (ms, process start to exit) and peak memory (max RSS) of each hostile script under the default limits, next to a trivial
# script as the baseline, measured side by side in one run (median of N runs each).
#
#   bash benches/scripts/hostile.sh [N]        # N defaults to 5; builds the release binary first
set -euo pipefail
cd "$(dirname "$0")/../.."
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
  [closure_memory]='let s = "y"; for i in 0..19 { s += s; } let a = []; for i in 0..1000 { let t = s + i; a.push(|| t); } a.len()'
  [closure_chain]='let f = || 0; for i in 0..100000 { let g = f; f = || g; } 1'
  [cycles]='for i in 0..20000 { let a = #{}; let f = || a; a.f = f; } 1'
)

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

printf '%-16s %10s %12s  %s\n' script wall_ms peak_rss_kb "error"
for name in baseline loop recursion string_doubling array_growth map_growth sleep eval replace_empty nested_sort closure_memory closure_chain cycles; do
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

# The same scripts through `tgscript serve`'s run_script, scripts in worker processes (the
# default): wall time of the request, and the peak of the host's and its workers' resident
# memory together, sampled every 10 ms while it ran; then whether the host still answers.
echo
echo "through serve's run_script ([scripts] isolation = \"process\", defaults otherwise)"
printf '%-16s %10s %16s  %s\n' script wall_ms host+workers_kb "error"
"$bin" serve --listen 127.0.0.1:0 2>"$work/serve.log" &
serve=$!
trap 'kill $serve 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q 'gateway listening on' "$work/serve.log" && break; sleep 0.1; done
addr=$(sed -n 's/.*gateway listening on http:\/\/\([^ ]*\).*/\1/p' "$work/serve.log" | head -1)
rss_total() {
  local total=0 pid kb
  for pid in $serve $(pgrep -P "$serve"); do
    kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}
for name in baseline loop recursion string_doubling array_growth map_growth sleep eval replace_empty nested_sort closure_memory closure_chain cycles; do
  body=$(python3 -c 'import json,sys; print(json.dumps({"action": "run_script", "script": sys.argv[1]}))' "${scripts[$name]}")
  walls=() peaks=()
  for _ in $(seq "$runs"); do
    peak=0
    start=$(date +%s%N)
    curl -s -H 'content-type: application/json' -d "$body" "http://$addr/command" >"$work/answer" &
    request=$!
    while kill -0 $request 2>/dev/null; do
      now=$(rss_total); (( now > peak )) && peak=$now
      sleep 0.01
    done
    walls+=("$(( ($(date +%s%N) - start) / 1000000 ))")
    peaks+=("$peak")
  done
  err=$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e.get("error", "ok")[:90])' "$work/answer")
  printf '%-16s %10s %16s  %s\n' "$name" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${peaks[@]}" | median)" "$err"
done
curl -s -H 'content-type: application/json' -d '{"action": "run_script", "script": "40 + 2"}' "http://$addr/command"; echo
