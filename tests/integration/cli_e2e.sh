#!/bin/bash
# End-to-end tests of loyctl against a real 4-node cluster on 127.0.0.1:
# the seed demo flow, an offline batch submitted twice, every query in
# --json checked field by field, audit passing on every node and failing on
# a tampered copy, usage errors. Ends with "cli-e2e: N passed, M failed".
# Usage: tests/integration/cli_e2e.sh BUILD_DIR
set -u

bin=$(cd "${1:-build}/bin" && pwd)
loyctl="$bin/loyctl"
dir=$(mktemp -d /tmp/loy-cli-e2e-XXXXXX)
pass=0
fail=0
pids=""

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "cli-e2e: FAIL: $*" >&2; }
# check WHAT CMD...: CMD's output goes to a log, shown when it fails
check() {
	local what=$1; shift
	if "$@" >"$dir/last.log" 2>&1; then ok; else bad "$what"; tail -n 5 "$dir/last.log" >&2; fi
}
# has JSON TEXT KEY VALUE: "key": value appears (value as printed by loyctl)
has() { printf '%s' "$1" | tr -d '\n' | grep -Eq "\"$2\": *$3"; }

cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	if [ $fail -eq 0 ]; then rm -rf "$dir"; else echo "cli-e2e: kept $dir" >&2; fi
}
trap cleanup EXIT

free_base() {
	for base in 9101 9301 9501 9701 10101 10301 10501; do
		local free=1
		for i in 0 1 2 3; do
			for p in $((base + i)) $((base + 100 + i)); do
				(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && free=0
			done
		done
		[ $free = 1 ] && { echo $base; return; }
	done
	echo 9101
}

base=$(free_base)
"$loyctl" testnet --nodes 4 --dir "$dir/net" --base-port "$base" --chain-id e2e-chain >/dev/null ||
	{ echo "cli-e2e: testnet failed"; exit 1; }
for i in 1 2 3 4; do
	"$bin/loyd" --config "$dir/net/node$i/loyd.conf" >"$dir/node$i.log" 2>&1 &
	pids="$pids $!"
done
export LOYCTL_NODE="127.0.0.1:$((base + 100))"
export LOYCTL_PASSPHRASE_FILE=
export LOYCTL_PASSPHRASE
LOYCTL_PASSPHRASE=$(cat "$dir/net/passphrase")
n=0
until "$loyctl" status >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -gt 100 ] && { echo "cli-e2e: cluster did not start"; exit 1; }
	sleep 0.1
done

A="$dir/net/node1/validator.key"
B="$dir/net/node2/validator.key"
aid=$("$loyctl" id "$A")
bid=$("$loyctl" id "$B")
"$loyctl" keygen --out "$dir/alice.key" --kdf-cost min >/dev/null
alice=$("$loyctl" id "$dir/alice.key")

# --- the seed flow ---
check "customer register" "$loyctl" --key "$dir/alice.key" customer register
check "rule set at A" "$loyctl" --key "$A" rule set --rate 1/1
check "earn 100 at A" "$loyctl" --key "$A" reward issue --customer "$alice" --purchase 100 --reference e2e-1
check "redeem 60 at B" "$loyctl" --key "$dir/alice.key" redeem --member "$bid" --amount 60 --reference e2e-r1
out=$("$loyctl" --key "$dir/alice.key" redeem --member "$bid" --amount 60 --reference e2e-r2 2>&1)
rc=$?
check "over-redeem refused with exit 1" test $rc -eq 1
check "over-redeem says why" grep -q "insufficient points: balance 40, requested 60" <<<"$out"
js=$("$loyctl" --json balance "$alice")
check "balance --json: balance 40" has "$js" balance 40
check "balance --json: type" has "$js" type '"customer"'
check "balance --json: nonce" has "$js" nonce 3
# coupon with a window and a geofence, redeemed once
cout=$("$loyctl" --key "$A" coupon issue --value 25 --from 2020-01-01 --until 2099-01-01 \
	--geofence 48.856613,2.352222,500 --sites "$aid,$bid" --to "$alice")
check "coupon issue" test $? -eq 0
batch=$(sed -n 's/^tx \([0-9a-f]\{64\}\).*/\1/p' <<<"$cout" | head -n 1)
check "coupon batch hash printed" test ${#batch} -eq 64
out=$("$loyctl" --key "$dir/alice.key" coupon redeem --batch "$batch" --index 0 --site "$bid" \
	--at 40.0,2.35 --reference e2e-c0 2>&1)
check "coupon outside geofence refused" grep -q "geofence" <<<"$out"
check "coupon redeemed inside geofence" "$loyctl" --key "$dir/alice.key" coupon redeem \
	--batch "$batch" --index 0 --site "$bid" --at 48.8570,2.3530 --reference e2e-c1
out=$("$loyctl" --key "$dir/alice.key" coupon redeem --batch "$batch" --index 0 --site "$bid" \
	--at 48.8570,2.3530 --reference e2e-c2 2>&1)
rc=$?
check "second coupon redemption refused" test $rc -eq 1
check "second redemption says already redeemed" grep -q "already redeemed" <<<"$out"
js=$("$loyctl" --json coupon status "$batch")
check "coupon status: issued 1" has "$js" issued 1
check "coupon status: redeemed 1" has "$js" redeemed 1
check "coupon status: value" has "$js" value 25
# settlement: A issued 100 (owes 100) and its coupon (owes 25); B is owed 60 + 25
js=$("$loyctl" --json settlement "$aid")
check "settlement A issued 100" has "$js" issued 100
check "settlement A net" has "$js" net -125
js=$("$loyctl" --json settlement "$bid")
check "settlement B redeemed_at 60" has "$js" redeemed_at 60
check "settlement B net +85" has "$js" net 85

# --- watch: a customer's events, and only theirs ---
"$loyctl" keygen --out "$dir/bob.key" --kdf-cost min >/dev/null 2>&1
timeout 20 "$loyctl" watch --customer "$alice" --count 1 >"$dir/watch.out" 2>&1 &
wpid=$!
sleep 0.5
"$loyctl" --key "$dir/bob.key" customer register >/dev/null 2>&1
"$loyctl" --key "$A" reward issue --customer "$alice" --purchase 5 --reference e2e-w1 >/dev/null 2>&1
wait "$wpid"
check "watch: exits after one event" test $? -eq 0
check "watch: the customer's reward" grep -q "reward.issue" "$dir/watch.out"
check "watch: not another customer's" sh -c "! grep -q customer.register '$dir/watch.out'"

# --- every query in --json ---
js=$("$loyctl" --json status)
for f in height view leader state_root peers mempool process tx_signature_checks; do check "status --json has $f" has "$js" "$f" '.'; done
# the node samples its own private memory: its peak is never below now
anon=$(printf '%s' "$js" | sed -n 's/^ *"rss_anon_kib": *\([0-9]*\).*/\1/p')
peak=$(printf '%s' "$js" | sed -n 's/^ *"rss_anon_peak_kib": *\([0-9]*\).*/\1/p')
check "status --json: private memory peak ($peak KiB) >= now ($anon KiB) > 0" test "${anon:-0}" -gt 0 -a "${peak:-0}" -ge "${anon:-0}"
# the history index job follows the chain (within a second of a flush)
for _ in $(seq 1 50); do
	js=$("$loyctl" --json status)
	hh=$(printf '%s' "$js" | sed -n 's/^ *"history_height": *\([0-9]*\).*/\1/p')
	ht=$(printf '%s' "$js" | sed -n 's/^  "height": *\([0-9]*\).*/\1/p')
	[ "${hh:-0}" -gt 0 ] && break
	sleep 0.2
done
check "status --json: history indexed to height $hh of $ht" test "${hh:-0}" -gt 0 -a "${hh:-0}" -le "${ht:-0}"
check "status: says how far history is indexed" sh -c "'$loyctl' status | grep -q '^history  *indexed to height [1-9]'"
# status --wait-height: returns once the node reaches the height, over one
# connection; gives up with exit 1 after --timeout
h=$(printf '%s' "$js" | sed -n 's/^ *"height": *\([0-9]*\).*/\1/p' | head -n 1)
"$loyctl" status --wait-height $((h + 1)) --timeout 30 >"$dir/wait.out" 2>&1 &
waiter=$!
"$loyctl" --key "$A" rule set --rate 1/1 >/dev/null 2>&1 # the rule it already has
check "status --wait-height: returns once the next block commits" wait $waiter
check "status --wait-height: prints the status" grep -q "^height  *$((h + 1))" "$dir/wait.out"
out=$("$loyctl" status --wait-height $((h + 1000000)) --timeout 1 2>&1)
rc=$?
check "status --wait-height: exit 1 after --timeout" test $rc -eq 1
check "status --wait-height: says how far it got" grep -q "not yet $((h + 1000000))" <<<"$out"
# named threads, for top -H and perf
node1=$(set -- $pids; echo "$1")
check "threads named loyd-ledger and loyd-verify" sh -c "cat /proc/$node1/task/*/comm | grep -qx loyd-ledger && cat /proc/$node1/task/*/comm | grep -qx loyd-verify"
js=$("$loyctl" --json members)
check "members --json lists 4 active" test "$(grep -o '"active": true' <<<"$js" | wc -l)" -eq 4
js=$("$loyctl" --json history "$alice" --limit 2)
check "history --json: 2 items" test "$(grep -o '"tx":' <<<"$js" | wc -l)" -eq 2
check "history --json: next cursor" has "$js" next_cursor '[1-9]'
tx=$(grep -o '"tx": *"[0-9a-f]*"' <<<"$js" | head -n 1 | grep -o '[0-9a-f]\{64\}')
js=$("$loyctl" --json tx "$tx")
check "tx --json: hash" has "$js" hash "\"$tx\""
check "tx --json: result" has "$js" result '"'
js=$("$loyctl" --json block 1)
check "block --json: height 1" has "$js" height 1
check "block --json: commit signatures" has "$js" commit_signatures '[34]'
js=$("$loyctl" --json totals)
check "totals --json: issued 105" has "$js" issued 105
check "totals --json: redeemed 60" has "$js" redeemed 60
check "totals --json: outstanding 45" has "$js" outstanding 45
js=$("$loyctl" --json coupon list "$alice")
check "coupon list --json" has "$js" coupons '\['
js=$("$loyctl" --json report --member "$aid" --from 2020-01-01 --to 2099-01-01)
check "report --json has days" has "$js" days '\['

# --- an offline batch, submitted twice ---
nonce=$("$loyctl" --json balance "$aid" | tr -d '\n' | grep -o '"nonce": *[0-9]*' | grep -o '[0-9]*$')
"$loyctl" sign --out "$dir/batch.txt" --nonce $((nonce + 1)) --chain-id e2e-chain --key "$A" \
	reward issue --customer "$alice" --purchase 7 --reference offline-1 >/dev/null
"$loyctl" sign --out "$dir/batch.txt" --chain-id e2e-chain --key "$A" \
	reward issue --customer "$alice" --purchase 8 --reference offline-2 >/dev/null
out=$("$loyctl" submit "$dir/batch.txt" 2>&1)
check "offline batch: both committed" grep -q "2 committed now" <<<"$out"
out=$("$loyctl" submit "$dir/batch.txt" 2>&1)
check "offline batch again: nothing new" grep -q "0 committed now, 2 already on the chain" <<<"$out"
js=$("$loyctl" --json balance "$alice")
check "offline rewards counted once" has "$js" balance 60

# --- admission refuses a used nonce and one far ahead (checked per batch) ---
"$loyctl" sign --out "$dir/replay.txt" --nonce 1 --chain-id e2e-chain --key "$A" \
	reward issue --customer "$alice" --purchase 3 --reference replay-1 >/dev/null
out=$("$loyctl" submit "$dir/replay.txt" 2>&1)
check "a used nonce is refused at admission" grep -q "nonce already used" <<<"$out"
"$loyctl" sign --out "$dir/ahead.txt" --nonce 1000000 --chain-id e2e-chain --key "$A" \
	reward issue --customer "$alice" --purchase 3 --reference ahead-1 >/dev/null
out=$("$loyctl" submit "$dir/ahead.txt" 2>&1)
check "a nonce far ahead is refused at admission" grep -q "nonce too far ahead" <<<"$out"

# --- a return: reward reverse names the issue by its reference ---
check "reverse offline-2 by its reference" "$loyctl" --key "$A" reward reverse --issue-ref offline-2 --reference e2e-rev1
js=$("$loyctl" --json balance "$alice")
check "reversed points taken back" has "$js" balance 52
out=$("$loyctl" --key "$A" reward reverse --issue-ref e2e-1 --reference e2e-rev2 2>&1)
rc=$?
check "reversing spent points refused with exit 1" test $rc -eq 1
check "reversal refusal says how many are unspent" grep -q "only 52 of them are unspent" <<<"$out"
out=$("$loyctl" --key "$A" reward reverse --issue-ref no-such-receipt --reference e2e-rev3 2>&1)
check "reversal of an unknown reference names it" grep -q 'reference "no-such-receipt"' <<<"$out"

# --- audit on every node, and on a tampered copy ---
for i in 1 2 3 4; do
	check "audit node$i" "$loyctl" audit --data-dir "$dir/net/node$i/data" --genesis "$dir/net/genesis.json"
done
"$loyctl" export --data-dir "$dir/net/node1/data" --out "$dir/chain.loy" >/dev/null 2>&1
check "export" test -s "$dir/chain.loy"
check "audit of the export" "$loyctl" audit --file "$dir/chain.loy" --genesis "$dir/net/genesis.json"
cp "$dir/chain.loy" "$dir/bad.loy"
size=$(stat -c %s "$dir/bad.loy")
# invert the byte (writing a constant would leave it as it was 1 time in 256)
byte=$(od -An -tu1 -j $((size - 40)) -N1 "$dir/bad.loy" | tr -d ' ')
printf "\\$(printf '%03o' $((byte ^ 0xff)))" |
	dd of="$dir/bad.loy" bs=1 seek=$((size - 40)) conv=notrunc 2>/dev/null
check "tampered copy differs" test "$(cmp "$dir/chain.loy" "$dir/bad.loy" | wc -l)" -eq 1
out=$("$loyctl" audit --file "$dir/bad.loy" --genesis "$dir/net/genesis.json" 2>&1)
rc=$?
check "audit of a tampered copy fails" test $rc -eq 1
check "audit names the bad block" grep -q "block" <<<"$out"

# --- the load generator: a short open-loop run over all 4 nodes ---
spread="127.0.0.1:$((base + 100)),127.0.0.1:$((base + 101)),127.0.0.1:$((base + 102)),127.0.0.1:$((base + 103))"
out=$("$loyctl" --json bench --key "$A" --txs 400 --customers 20 --conns 4 --batch 8 --rate 400 \
	--spread "$spread" --latency-log "$dir/lat.txt" 2>"$dir/bench.err")
check "bench: runs" test $? -eq 0
check "bench: all 400 committed" has "$out" committed 400
check "bench: open loop reported" has "$out" mode '"open"'
check "bench: signing reported apart" has "$out" signing '\{ *"txs": 400'
# each node's cost from its STATUS: all 4 measured, each verified each tx
# (at least 90% of them: a node that fell behind fetches certified blocks)
checks=$(printf '%s' "$out" | sed -n 's/^ *"signature_checks_per_tx": \([0-9.]*\).*/\1/p')
check "bench: 4 nodes' CPU and memory measured" \
	test "$(printf '%s' "$out" | grep -c '"cores_busy"')" -eq 4 -a "$(printf '%s' "$out" | grep -c '"max_rss_mib"')" -eq 4
check "bench: every node verified every signature, about once ($checks per tx)" \
	awk -v c="$checks" 'BEGIN {exit !(c >= 3.6 && c <= 4.4)}'
check "latency log: start line and one line per tx" \
	test "$(head -n 1 "$dir/lat.txt" | cut -d' ' -f2)" = start -a "$(wc -l <"$dir/lat.txt")" -eq 401
check "latency log: every tx sent and committed after it, on 4 connections" \
	test "$(awk 'NR > 1 && $3 > $2 && $2 >= 0 {n++; c[$1] = 1} END {print n, length(c)}' "$dir/lat.txt")" = "400 4"
"$loyctl" bench --key "$A" --txs 10 --latency-log "$dir/no/such/dir/lat.txt" >/dev/null 2>"$dir/bench.err"
check "latency log: unwritable path is an error" grep -q "cannot write" "$dir/bench.err"

# --- client authentication: node 1 lets in only one client key ---
"$loyctl" keygen --out "$dir/client.key" --kdf-cost min >"$dir/client.out" 2>&1
"$loyctl" keygen --out "$dir/stranger.key" --kdf-cost min >/dev/null 2>&1
cpk=$(sed -n 's/^public key //p' "$dir/client.out")
nk=$(tr -d ' \n' <"$dir/net/genesis.json" | grep -o '"validator_key":"[0-9a-f]*"' | head -n 1 | grep -o '[0-9a-f]\{64\}')
p1=$(echo $pids | awk '{print $1}')
kill -TERM "$p1"; wait "$p1" 2>/dev/null
printf '[client]\nallowed_keys = %s\n' "$cpk" >>"$dir/net/node1/loyd.conf"
sed -i 's/^listen = 127.0.0.1:'"$((base + 100))"'$/listen = 0.0.0.0:'"$((base + 100))"'/' "$dir/net/node1/loyd.conf"
"$bin/loyd" --config "$dir/net/node1/loyd.conf" >>"$dir/node1.log" 2>&1 &
pids="$pids $!"
auth() { LOYCTL_NODE_KEY=$nk LOYCTL_CLIENT_KEY=$1 LOYCTL_CHAIN_ID=e2e-chain "$loyctl" "${@:2}"; }
n=0
until auth "$dir/client.key" status >/dev/null 2>&1; do
	n=$((n + 1)); [ $n -gt 100 ] && break
	sleep 0.1
done
check "authenticated client: status" auth "$dir/client.key" status
check "authenticated client: a transaction" auth "$dir/client.key" --key "$dir/stranger.key" customer register
"$loyctl" status >/dev/null 2>&1
check "unauthenticated client refused (exit 3)" test $? -eq 3
auth "$dir/stranger.key" status >"$dir/refused.log" 2>&1
check "unknown client key refused (exit 3)" test $? -eq 3
check "refusal says why" grep -q "allowed_keys" "$dir/refused.log"
check "node logs the refused key" grep -q "key not in \[client\] allowed_keys" "$dir/node1.log"

# --- usage errors ---
for cmd in "redeem --amount" "balance" "reward issue --purchase x" "coupon frobnicate" "nosuchcommand"; do
	out=$($loyctl $cmd 2>&1)
	rc=$?
	check "usage error exit 2: $cmd" test $rc -eq 2
	check "usage line: $cmd" grep -qi "usage" <<<"$out"
done
"$loyctl" --node 127.0.0.1:1 status >/dev/null 2>&1
check "unreachable node: exit 3" test $? -eq 3

echo "cli-e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
