#!/bin/bash
# Memory with many accounts: a 4-node testnet whose chain already holds
# BENCH_ACCOUNTS (default 1,000,000) registered customers (built by
# bench_accounts before the nodes first start, with the history index a node
# keeps beside data.mdb), then a closed-loop load of
# reward.issue/redeem. Reports, per node, its private resident memory (heap,
# stacks: RssAnon) against the 128 MiB goal, and beside it the pages of
# data.mdb that LMDB's read-only map has touched (RssFile: the kernel's page
# cache, shared and reclaimable; every page the node reads or faults around
# counts, so it follows the size of the store) and the peak of both
# (VmHWM). Writes $OUT/accounts.json.
# Usage: tests/bench/accounts.sh OUT   (BUILD names the build directory)
set -eu

out=$1
bin=${BUILD:-build}/bin
net="$out/accounts-net"
accounts=${BENCH_ACCOUNTS:-1000000}
. "$(dirname "$0")/common.sh"
cleanup() { stop_all; rm -rf "$net"; }
trap cleanup EXIT

rm -rf "$net"
base=$(free_base)
"$bin/loyctl" testnet --nodes 4 --dir "$net" --base-port "$base" >/dev/null
echo "building a chain of $accounts registered customers (not measured)..."
fill=$("$bin/bench_accounts" "$net" "$accounts" 2>/dev/null)
store=$(echo "$fill" | sed 's/.*"store_mib": \([0-9]*\).*/\1/')
echo "store: $store MiB of data.mdb on each node"
for i in 1 2 3 4; do start_node $i; done
# each checks its whole store (half a GiB) first
for i in 1 2 3 4; do wait_up $i 120 || exit 1; done
load=$(bench --txs "${BENCH_ACCOUNTS_TXS:-20000}" --customers 2000 --conns 8)
printf 'load on %s accounts: %.0f committed tx/s\n' "$accounts" "$(echo "$load" | num committed_tx_per_s)"

json=""
worst=0
for i in 1 2 3 4; do
	p=$(eval echo "\$pid$i")
	kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$p/status"; }
	hwm=$(( $(kb VmHWM) / 1024 )); file=$(( $(kb RssFile) / 1024 ))
	# the private memory's peak over the node's life, sampled by the node itself
	anon=$(peak_private_kib "$i"); anon=$(( ${anon:-$(kb RssAnon)} / 1024 ))
	[ "$anon" -gt "$worst" ] && worst=$anon
	printf 'node %d: private resident %d MiB at most (goal < 128); mapped data.mdb pages %d MiB at the end; peak of both %d MiB\n' \
		"$i" "$anon" "$file" "$hwm"
	json="$json${json:+, }{\"node\": $i, \"peak_rss_mib\": $hwm, \"private_mib\": $anon, \"mapped_store_mib\": $file}"
done
cat >"$out/accounts.json" <<JSON
{"accounts": $accounts, "store_mib": $store, "load": {"committed_tx_per_s": $(echo "$load" | num committed_tx_per_s)},
 "nodes": [$json], "worst_private_mib": $worst, "goal_mib": 128}
JSON
