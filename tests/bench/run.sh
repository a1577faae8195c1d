#!/bin/sh
# Runs every benchmark section; each prints its figures and leaves its JSON
# in $BUILD/bench/<section>.json, merged into $BUILD/bench/results.json.
#
# Adding a section: write a function sec_<name> that prints a header and
# runs its program with its JSON output at "$OUT/<name>.json", and add
# <name> to SECTIONS (or to BENCH_SECTIONS="..." to run a subset).
set -u

BUILD=${BUILD:-build}
OUT=$BUILD/bench
SECTIONS=${BENCH_SECTIONS:-"ledger cluster accounts"}

mkdir -p "$OUT"

sec_ledger() {
	cat <<'HDR'
Ledger (one machine, no network). Every rate is beside this machine's
single-core Ed25519 verification rate (loy_verify), measured in the same run:
  verify, one core / all cores  loy_verify calls per second, 1 and N threads
  apply                         blocks of signed reward.issue/redeem applied
                                to a fresh store: signatures excluded
                                (certificate trusted, no tx signature checks);
                                durable = one fsync per block, as a node does
  audit replay                  loy_audit_file over the exported chain: every
                                tx signature, every commit certificate, tx
                                roots, re-execution into a scratch store and
                                state roots, invariants at the end; signatures
                                are checked on all cores while one core
                                re-executes (goal: >= 0.85 x one core's verify
                                rate); its ratio is against a verify rate
                                measured just before each run
  audit replay, data dir        loy_audit_datadir on the node-format store
  audit replay, 1 core only     the same audit confined to one CPU
  audit cost                    CPU time of all audit threads per tx
Figures are medians of the runs; "load average" says whether other processes
competed for the cores.
HDR
	"$BUILD/bin/bench_ledger" ${BENCH_LEDGER_ARGS:-} -j "$OUT/ledger.json"
}

sec_cluster() {
	cat <<'HDR'
Cluster (4 loyd processes and the load generator on this machine). The limit
is this machine's Ed25519 verifications per second on all cores divided by 4
nodes (each node verifies every transaction once).
HDR
	if ! command -v gnuplot >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		echo "installing gnuplot-nox for the chart..."
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnuplot-nox >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null 2>&1 &&
			  DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnuplot-nox >/dev/null 2>&1; } || true
	fi
	bash tests/bench/cluster.sh "$OUT"
}

sec_accounts() {
	cat <<'HDR'
Memory with many accounts (4 loyd processes): the chain holds
BENCH_ACCOUNTS (default 1,000,000) registered customers before the nodes
start; then a closed-loop load. Goal: each node under 128 MiB resident.
HDR
	bash tests/bench/accounts.sh "$OUT"
}

status=0
for s in $SECTIONS; do
	echo "== $s =="
	rm -f "$OUT/$s.json"
	if ! "sec_$s"; then
		echo "bench: section $s failed" >&2
		status=1
	fi
	echo
done

# Merge: {"<section>": <its JSON>, ...}, sections in the order they ran.
{
	printf '{'
	sep=''
	for s in $SECTIONS; do
		[ -s "$OUT/$s.json" ] || continue
		printf '%s\n"%s": ' "$sep" "$s"
		cat "$OUT/$s.json"
		sep=','
	done
	printf '}\n'
} >"$OUT/results.json.tmp" && mv "$OUT/results.json.tmp" "$OUT/results.json"
echo "results: $OUT/results.json"
exit $status
