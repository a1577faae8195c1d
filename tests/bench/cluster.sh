#!/bin/bash
# Cluster benchmark: a fresh 4-node cluster on 127.0.0.1 driven by
# `loyctl bench` (pre-signed reward.issue/redeem, commits counted from the
# event stream). Measures peak committed tx/s (closed loop), commit latency
# at low load and at 50% of peak (open loop; the peak and half-of-peak runs
# BENCH_CLUSTER_RUNS times, default 3, reporting the median run), a wiped
# node's catch-up rate,
# and each node's peak resident memory; prints each beside this machine's
# Ed25519 limit measured in the same run (all cores / 4 nodes), writes
# $OUT/cluster.json and, with gnuplot, $OUT/cluster.png.
# Usage: tests/bench/cluster.sh OUT   (BUILD names the build directory)
set -eu

out=$1
bin=${BUILD:-build}/bin
net="$out/cluster-net"
txs=${BENCH_CLUSTER_TXS:-40000}
. "$(dirname "$0")/common.sh"
trap stop_all EXIT

rm -rf "$net"
base=$(free_base)
"$bin/loyctl" testnet --nodes 4 --dir "$net" --base-port "$base" >/dev/null
for i in 1 2 3 4; do start_node $i; done
started=$(date +%s.%N)
for i in 1 2 3 4; do wait_up $i || exit 1; done

limits=$("$bin/bench_verify")
one=$(echo "$limits" | sed 's/.*"verify_per_s_one_core": \([0-9]*\).*/\1/')
all=$(echo "$limits" | sed 's/.*"verify_per_s_all_cores": \([0-9]*\).*/\1/')
limit=$((all / 4))

echo "limit: Ed25519 verify $one/s on one core, $all/s on all cores; every node verifies every tx, so 4 nodes: $limit tx/s"
# each member's terminals submit to its own node, as in a deployment
spread="127.0.0.1:$((base + 100)),127.0.0.1:$((base + 101)),127.0.0.1:$((base + 102)),127.0.0.1:$((base + 103))"
# bytes the nodes wrote to the disk (page-cache level, /proc/PID/io)
written() { local t=0 p; for p in $pid1 $pid2 $pid3 $pid4; do t=$((t + $(awk '/^write_bytes/ {print $2}' "/proc/$p/io" 2>/dev/null || echo 0))); done; echo $t; }
# and what reached the block device under the data directories (the whole
# machine's writes to it; empty where that is no plain block device)
dev=$(df --output=source "$net" 2>/dev/null | tail -n 1)
dev=${dev#/dev/}
sectors() { awk -v d="$dev" '$3 == d {print $10}' /proc/diskstats; }
# This machine's speed moves with its neighbours: the peak and the
# half-of-peak runs are repeated and the median run is reported.
runs=${BENCH_CLUSTER_RUNS:-3}
# median_run KEY FILE...: the file whose KEY is the median (the lower
# middle for an even count)
median_run() {
	local key=$1 f
	shift
	for f in "$@"; do echo "$(num "$key" <"$f") $f"; done | sort -g | awk '{a[NR] = $2} END {print a[int((NR + 1) / 2)]}'
}
rm -f "$out"/peak-run*.json "$out"/half-run*.json "$out"/half-latency-run*.txt
w0=$(written)
s0=$(sectors)
for r in $(seq 1 "$runs"); do
	bench --txs "$txs" --customers 2000 --conns 8 --spread "$spread" >"$out/peak-run$r.json"
	printf '  peak run %s of %s: %.0f committed tx/s\n' "$r" "$runs" "$(num committed_tx_per_s <"$out/peak-run$r.json")"
done
w1=$(written)
s1=$(sectors)
peak_runs=$(for r in $(seq 1 "$runs"); do num committed_tx_per_s <"$out/peak-run$r.json"; done | paste -sd, -)
peak_json=$(cat "$(median_run committed_tx_per_s "$out"/peak-run*.json)")
# each peak run commits its setup (2,000 registrations and top-ups) too
kb_per_tx=$(echo "$w0 $w1 $txs $runs" | awk '{printf "%.1f", ($2 - $1) / 1024 / 4 / ($3 + 4000) / $4}')
dev_kb_per_tx=null
[ -n "$s0" ] && [ -n "$s1" ] && dev_kb_per_tx=$(echo "$s0 $s1 $txs $runs" | awk '{printf "%.1f", ($2 - $1) * 512 / 1024 / 4 / ($3 + 4000) / $4}')
peak=$(echo "$peak_json" | num committed_tx_per_s)
peak_p50=$(echo "$peak_json" | num p50)
peak_p99=$(echo "$peak_json" | num p99)
printf 'peak (closed loop, %s txs, median of %s runs): %.0f committed tx/s = %.2f x limit; latency p50 %.1f ms, p99 %.1f ms\n' \
	"$txs" "$runs" "$peak" "$(echo "$peak $limit" | awk '{print $1/$2}')" "$peak_p50" "$peak_p99"
printf '  written during the peak runs: %s KiB per transaction per node as pages the nodes dirtied (/proc/PID/io: data.mdb, history.mdb, blocks.wal, consensus.state); %s KiB reached the device %s (/proc/diskstats)\n' \
	"$kb_per_tx" "$dev_kb_per_tx" "${dev:-(none)}"
# Where the cores went (each node's CPU and signature count, from STATUS
# before and after the run): signature checks at this machine's measured
# rate, and everything else. A ceiling for these cores at this cost.
cores=$(echo "$limits" | sed 's/.*"cores": \([0-9]*\).*/\1/')
node_us=$(echo "$peak_json" | num node_cpu_us_per_tx)
checks=$(echo "$peak_json" | num signature_checks_per_tx)
client_us=$(echo "$peak_json" | num client_cpu_us_per_tx)
read -r verify_us rest_us ceiling need_us <<<"$(echo "$node_us $checks $client_us $one $cores" | awk '{
	v = $2 * 1e6 / $4; r = $1 - v; t = $1 + $3; c = 0
	if (t > 0) c = $5 * 1e6 / t
	printf "%.0f %.0f %.0f %.0f", v, r, c, $5 * 1e6 / 8000 - v - $3 }')"
printf '  CPU per committed tx: %.0f us in the 4 nodes = %.2f signature checks (%s us at %s/s per core) + %s us of everything else; the load generator %.0f us\n' \
	"$node_us" "$checks" "$verify_us" "$one" "$rest_us" "$client_us"
printf '  at that cost %s cores carry at most %s tx/s; 8,000 tx/s would need everything else in %s us per tx\n' \
	"$cores" "$ceiling" "$need_us"

low_json=$(bench --txs 1000 --customers 200 --rate 100 --batch 1)
low_p50=$(echo "$low_json" | num p50)
low_p99=$(echo "$low_json" | num p99)
printf 'low load (100 tx/s, one tx per submit): latency p50 %.1f ms (goal < 5), p99 %.1f ms\n' "$low_p50" "$low_p99"

half=$(echo "$peak" | awk '{r = int($1 / 2); print r < 1 ? 1 : r}')
for r in $(seq 1 "$runs"); do
	bench --txs "$(echo "$half" | awk '{print int($1 * 8)}')" --customers 2000 --rate "$half" --batch 16 --conns 8 \
		--spread "$spread" --latency-log "$out/half-latency-run$r.txt" >"$out/half-run$r.json"
	printf '  50%% of peak, run %s of %s: latency p50 %.1f ms, p99 %.1f ms\n' "$r" "$runs" \
		"$(num p50 <"$out/half-run$r.json")" "$(num p99 <"$out/half-run$r.json")"
done
half_runs=$(for r in $(seq 1 "$runs"); do num p99 <"$out/half-run$r.json"; done | paste -sd, -)
half_file=$(median_run p99 "$out"/half-run*.json)
half_json=$(cat "$half_file")
cp "$(echo "$half_file" | sed 's/half-run\([0-9]*\)\.json$/half-latency-run\1.txt/')" "$out/half-latency.txt"
half_p50=$(echo "$half_json" | num p50)
half_p99=$(echo "$half_json" | num p99)
half_tps=$(echo "$half_json" | num committed_tx_per_s)
printf '50%% of peak (%s tx/s offered, %.0f committed; the run with the median p99 of %s): latency p50 %.1f ms, p99 %.1f ms (goal < 50)\n' \
	"$half" "$half_tps" "$runs" "$half_p50" "$half_p99"
echo "  each transaction's send and commit time (that run): $out/half-latency.txt (loyctl bench --latency-log)"
# How busy the cores were in that run: small blocks cost more CPU per
# transaction than the peak's, and this machine's speed moves with its
# neighbours (the verify rate again, measured right after the runs).
half_us=$(echo "$half_json" | num node_cpu_us_per_tx)
half_us=${half_us:-0}
half_busy=$(echo "$half_tps $half_us $cores" | awk '{printf "%.0f", 100 * $1 * $2 / 1e6 / $3}')
after=$("$bin/bench_verify")
all_after=$(echo "$after" | sed 's/.*"verify_per_s_all_cores": \([0-9]*\).*/\1/')
printf '  the nodes spent %.0f us of CPU per tx (%.0f at peak): %s%% of the %s cores busy; Ed25519 verify on all cores right after: %s/s (%s/s at the start)\n' \
	"$half_us" "$node_us" "$half_busy" "$cores" "$all_after" "$all"
# Where node 1's time went over its last heights of that run (loyctl status).
"$bin/loyctl" --json --node "127.0.0.1:$((base + 100))" status >"$out/half-status.json" 2>/dev/null || true
stage() { # stage name, percentile: ms (0 when absent)
	awk -v k="\"$1_us\":" -v f="\"$2\":" '$1 == k {s = 1} s && $1 == f {gsub(",", "", $2); printf "%.1f", $2 / 1000; found = 1; exit} END {if (!found) print 0}' "$out/half-status.json"
}
for st in height propose check vote apply admit flush; do
	for pc in p50 p99; do eval "t_${st}_$pc=$(stage $st $pc)"; done
done
printf '  node 1, its last heights of that run (loyctl status): height p50 %s ms, p99 %s = propose %s + check %s + vote %s + apply %s (p50s; p99s %s, %s, %s, %s)\n' \
	"$t_height_p50" "$t_height_p99" "$t_propose_p50" "$t_check_p50" "$t_vote_p50" "$t_apply_p50" "$t_propose_p99" "$t_check_p99" "$t_vote_p99" "$t_apply_p99"
printf '  admission of a batch p50 %s ms, p99 %s; data.mdb flushes p50 %s ms, p99 %s\n' "$t_admit_p50" "$t_admit_p99" "$t_flush_p50" "$t_flush_p99"

# Catch-up: wipe node 4 and time its return to the others' height.
h=$(height 1)
kill -TERM "$pid4"; wait "$pid4" 2>/dev/null || true
rm -rf "$net/node4/data"
t0=$(date +%s.%N)
start_node 4
# one loyctl waits over one connection: a process started every poll
# would take the CPU the catch-up is measured on
wait_up 4 || exit 1
"$bin/loyctl" --node "127.0.0.1:$((base + 103))" status --wait-height "$h" --timeout 60 >/dev/null ||
	{ echo "cluster bench: node 4 did not catch up" >&2; exit 1; }
t1=$(date +%s.%N)
catch=$(echo "$h $t0 $t1" | awk '{print $1 / ($3 - $2)}')
# the yardstick: blocks the cluster produced per second of its life so far
made=$(echo "$h $started $t0" | awk '{print $1 / ($3 - $2)}')
printf 'catch-up of a wiped node: %s blocks in %.2f s = %.0f blocks/s; the cluster produced %.1f blocks/s: %.1fx (goal >= 10x)\n' \
	"$h" "$(echo "$t0 $t1" | awk '{print $2 - $1}')" "$catch" "$made" "$(echo "$catch $made" | awk '{print $1 / ($2 > 0 ? $2 : 1)}')"

rss=""
priv=""
for i in 1 2 3; do
	p=$(eval echo "\$pid$i")
	kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null); kb=${kb:-0}
	rss="$rss${rss:+, }$((kb / 1024))"
	a=$(peak_private_kib "$i")
	priv="$priv${priv:+, }$((${a:-0} / 1024))"
done
echo "resident memory of nodes 1-3 (MiB): private (heap, stacks) at most $priv (goal < 128 each);"
echo "  peak including the pages of data.mdb that LMDB's map touched: $rss"

cat >"$out/cluster.json" <<JSON
{"limit": {"verify_per_s_one_core": $one, "verify_per_s_all_cores": $all, "cluster_tx_per_s": $limit},
 "peak": {"committed_tx_per_s": $peak, "runs_committed_tx_per_s": [$peak_runs], "p50_ms": $peak_p50, "p99_ms": $peak_p99, "ratio_to_limit": $(echo "$peak $limit" | awk '{print $1/$2}'),
   "cpu_us_per_tx": {"nodes": $node_us, "signature_checks": $verify_us, "everything_else": $rest_us, "load_generator": $client_us},
   "signature_checks_per_tx": $checks, "ceiling_at_this_cost": $ceiling},
 "low_load": {"rate": 100, "p50_ms": $low_p50, "p99_ms": $low_p99},
 "half_peak": {"rate": $half, "committed_tx_per_s": $half_tps, "p50_ms": $half_p50, "p99_ms": $half_p99, "runs_p99_ms": [$half_runs],
   "node_cpu_us_per_tx": $half_us, "cores_busy_pct": $half_busy, "verify_per_s_all_cores_after": $all_after,
   "node1_stage_ms": {"height": [$t_height_p50, $t_height_p99], "propose": [$t_propose_p50, $t_propose_p99], "check": [$t_check_p50, $t_check_p99], "vote": [$t_vote_p50, $t_vote_p99], "apply": [$t_apply_p50, $t_apply_p99], "admit": [$t_admit_p50, $t_admit_p99], "flush": [$t_flush_p50, $t_flush_p99]}},
 "catch_up": {"blocks": $h, "blocks_per_s": $catch, "cluster_blocks_per_s": $made, "ratio": $(echo "$catch $made" | awk '{print $1 / ($2 > 0 ? $2 : 1)}')},
 "disk_kib_per_tx_per_node": $kb_per_tx, "device_kib_per_tx_per_node": $dev_kb_per_tx,
 "rss_mib": [$rss], "private_mib": [$priv]}
JSON

if command -v gnuplot >/dev/null 2>&1; then
	printf '%s %s %s\n100 %s %s\n%s %s %s\n' 0 0 0 "$low_p50" "$low_p99" "$half_tps" "$half_p50" "$half_p99" >"$out/cluster.dat"
	printf '%s %s %s\n' "$peak" "$peak_p50" "$peak_p99" >>"$out/cluster.dat"
	gnuplot <<PLOT
set terminal png size 800,500
set output "$out/cluster.png"
set title "4-node loyd cluster on one machine: committed tx/s vs latency"
set xlabel "committed tx/s"
set ylabel "commit latency (ms)"
set logscale y
set key top left
set xrange [0:$(echo "$limit $peak" | awk '{m = $1 > $2 ? $1 : $2; print int(m * 1.15)}')]
set arrow from $limit, graph 0 to $limit, graph 1 nohead dt 2
set label "Ed25519 limit / 4 nodes" at $limit, graph 0.9
plot "$out/cluster.dat" every ::1 using 1:2 with linespoints title "p50", \
     "$out/cluster.dat" every ::1 using 1:3 with linespoints title "p99"
PLOT
	echo "chart: $out/cluster.png"
else
	echo "chart: gnuplot not installed (apt-get install gnuplot-nox); skipped"
fi
