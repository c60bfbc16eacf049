#!/usr/bin/env bash
# End-to-end throughput against a plain teloxide bot, side by side in one invocation of the
# shared harness (../shared/bench/run.sh: every bot mutes the sender of each "spam" message,
# N updates over K chats, long polling from the same fast fake Bot API). Runs R rounds of
# refbot, tgscript (inbox on) and tgscript-noinbox, interleaved, and prints each bot's median
# updates/s, the ratios to refbot, and the peak resident memory of the tgscript host process
# and (separately) of its script workers, sampled every 50 ms while it ran.
#
#   bash benches/scripts/throughput.sh [N] [K] [R]      # defaults: 20000 100 2; builds the release binary
#   TGSCRIPT_SCRIPTS_ISOLATION=inline bash benches/scripts/throughput.sh   # scripts in-process
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-20000}; k=${2:-100}; rounds=${3:-2}
harness=${BENCH_HARNESS:-../shared/bench/run.sh}
[ -x "$harness" ] || { echo "no harness at $harness (set BENCH_HARNESS)" >&2; exit 1; }
cargo build --release --quiet
export TGSCRIPT_BIN=$PWD/target/release/tgscript
work=$(mktemp -d)
trap 'kill "$sampler" 2>/dev/null; rm -rf "$work"' EXIT

# Peak RSS (KiB) of `tgscript run` (the host) and of all `tgscript worker`s at once.
sample() {
  local host=0 workers=0
  while :; do
    local h w
    h=$( (ps -C tgscript -o rss=,args= || true) | awk '$3 == "run" {print $1}' | sort -n | tail -1)
    w=$( (ps -C tgscript -o rss=,args= || true) | awk '$3 == "worker" {s += $1} END {print s + 0}')
    [ -n "$h" ] && [ "$h" -gt "$host" ] && host=$h
    [ "$w" -gt "$workers" ] && workers=$w
    echo "$host $workers" > "$work/peak"
    sleep 0.05
  done
}
echo "0 0" > "$work/peak"
sample & sampler=$!

bots=""
for _ in $(seq "$rounds"); do bots="$bots refbot tgscript tgscript-noinbox"; done
# To a file, not a pipe: the harness leaves a timer process holding its stdout.
# shellcheck disable=SC2086
"$harness" "$n" "$k" $bots > "$work/runs"
cat "$work/runs"

python3 - "$work/runs" "$work/peak" <<'EOF'
import json, statistics, sys
rates = {}
for line in open(sys.argv[1]):
    bot, _, result = line.partition(" ")
    try:
        rates.setdefault(bot, []).append(json.loads(result)["per_second"])
    except ValueError:
        print(f"{bot}: no result ({result.strip()})")
median = {bot: statistics.median(values) for bot, values in rates.items()}
ref = median.get("refbot")
for bot, value in median.items():
    ratio = f", {value / ref:.2f}× refbot" if ref else ""
    print(f"{bot}: median {value:,.0f} updates/s over {len(rates[bot])} round(s){ratio}")
host, workers = (int(x) for x in open(sys.argv[2]).read().split())
print(f"peak RSS: tgscript host {host / 1024:.1f} MiB, its workers together {workers / 1024:.1f} MiB")
EOF
