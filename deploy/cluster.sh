#!/bin/sh
# A local cluster of loyd validators on 127.0.0.1, for developers:
#   deploy/cluster.sh up [N]   keys, genesis and configs in ./cluster (git
#                              ignores it), start N nodes (default 4), demo
#   deploy/cluster.sh down     stop them (SIGTERM)
#   deploy/cluster.sh status   loyctl status of every node
# BUILD names the build directory (default build).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/${BUILD:-build}/bin"
dir="${CLUSTER_DIR:-$top/cluster}"
loyctl="$bin/loyctl"
loyd="$bin/loyd"

say() { printf '\n== %s\n' "$*"; }

running() {
	[ -f "$1/loyd.pid" ] && kill -0 "$(cat "$1/loyd.pid")" 2>/dev/null
}

down() {
	[ -d "$dir" ] || { echo "cluster: nothing to stop"; return 0; }
	for node in "$dir"/node*; do
		[ -d "$node" ] || continue
		if running "$node"; then
			kill -TERM "$(cat "$node/loyd.pid")"
			echo "cluster: stopping $(basename "$node")"
		fi
	done
	for node in "$dir"/node*; do
		i=0
		while running "$node" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		rm -f "$node/loyd.pid"
	done
	echo "cluster: stopped"
}

client_of() { sed -n 's/^listen *= *//p' "$1/loyd.conf" | tail -n 1; }
key_of() { sed -n 's/^key_file *= *//p' "$1/loyd.conf"; }

status() {
	for node in "$dir"/node*; do
		echo "-- $(basename "$node")"
		"$loyctl" --node "$(client_of "$node")" status || true
	done
}

up() {
	n=${1:-4}
	[ -x "$loyd" ] && [ -x "$loyctl" ] || { echo "cluster: build first (make)" >&2; exit 1; }
	if [ -d "$dir" ]; then
		for node in "$dir"/node*; do
			if running "$node"; then
				echo "cluster: already running (make cluster-down stops it)"
				status
				return 0
			fi
		done
		rm -rf "$dir"
	fi
	say "generating keys, genesis and configs for $n nodes in $dir"
	"$loyctl" testnet --nodes "$n" --dir "$dir"
	say "starting $n loyd processes (logs in $dir/nodeI/loyd.log)"
	for node in "$dir"/node*; do
		nohup "$loyd" --config "$node/loyd.conf" \
			>"$node/loyd.log" 2>&1 &
		echo $! >"$node/loyd.pid"
	done
	first=$(client_of "$dir/node1")
	for node in "$dir"/node*; do
		i=0
		until "$loyctl" --node "$(client_of "$node")" status >/dev/null 2>&1; do
			i=$((i + 1))
			if ! running "$node" || [ $i -gt 100 ]; then
				echo "cluster: $(basename "$node") did not start:" >&2
				tail -n 5 "$node/loyd.log" >&2
				down
				exit 1
			fi
			sleep 0.1
		done
		# the answer must come from our own process (not a stray one on the port)
		if ! running "$node"; then
			echo "cluster: $(basename "$node") exited; see $node/loyd.log" >&2
			tail -n 5 "$node/loyd.log" >&2
			down
			exit 1
		fi
	done
	demo
	say "the cluster is running"
	echo "  $loyctl --node $first status"
	echo "  make cluster-down     # stops it"
}

demo() {
	export LOYCTL_NODE
	LOYCTL_NODE=$(client_of "$dir/node1")
	LOYCTL_PASSPHRASE=$(cat "$dir/passphrase")
	export LOYCTL_PASSPHRASE
	m1=$(key_of "$dir/node1")
	m2=$(key_of "$dir/node2")
	m1id=$("$loyctl" id "$m1")
	m2id=$("$loyctl" id "$m2")
	mkdir -p "$dir/demo"
	say "demo: two customers create their wallets"
	"$loyctl" keygen --out "$dir/demo/alice.key" --kdf-cost min
	"$loyctl" keygen --out "$dir/demo/bob.key" --kdf-cost min
	alice=$("$loyctl" id "$dir/demo/alice.key")
	bob=$("$loyctl" id "$dir/demo/bob.key")
	"$loyctl" --key "$dir/demo/alice.key" customer register
	"$loyctl" --key "$dir/demo/bob.key" customer register
	say "demo: Member 1 sets its rule (1 point per unit) and rewards purchases"
	"$loyctl" --key "$m1" rule set --rate 1/1
	"$loyctl" --key "$m1" reward issue --customer "$alice" --purchase 100 --reference demo-receipt-1
	"$loyctl" --key "$m1" reward issue --customer "$bob" --purchase 50 --reference demo-receipt-2
	say "demo: Alice redeems 60 points at Member 2"
	"$loyctl" --key "$dir/demo/alice.key" redeem --member "$m2id" --amount 60 --reference demo-pos-1
	say "demo: Member 2 issues a coupon to Bob, and Bob redeems it at Member 2"
	"$loyctl" --key "$m2" coupon issue --value 10 --to "$bob" --from 2020-01-01 \
		--until 2099-12-31 | tee "$dir/demo/coupon.txt"
	batch=$(sed -n 's/^tx \([0-9a-f]\{64\}\).*/\1/p' "$dir/demo/coupon.txt" | head -n 1)
	"$loyctl" --key "$dir/demo/bob.key" coupon redeem --batch "$batch" --index 0 \
		--site "$m2id" --at 0,0 --reference demo-coupon-1
	say "demo: balances"
	"$loyctl" balance "$alice"
	"$loyctl" balance "$bob"
	say "demo: settlement positions (1 point = 1 currency unit)"
	"$loyctl" settlement
	: "$m1id"
}

case "${1:-up}" in
up) shift || true; up "$@" ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up [N] | down | status" >&2; exit 2 ;;
esac
