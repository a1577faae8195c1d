# Shared by the cluster benchmark scripts (sourced): starting and stopping a
# local testnet's loyd processes. Expects $bin and $net; sets $base.

pids=""

num() { sed -n "s/^ *\"$1\": *\\([0-9.e+-]*\\).*/\\1/p" | head -n 1; }

stop_all() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	done
	pids=""
}

# The first base port whose peer and client ports (4 nodes) are all free.
free_base() {
	for b in 7301 7401 7501 7601 8301 8401; do
		ok=1
		for i in 0 1 2 3; do
			for p in $((b + i)) $((b + 100 + i)); do
				if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then ok=0; fi
			done
		done
		[ $ok = 1 ] && { echo $b; return; }
	done
	echo 7301
}

start_node() {
	"$bin/loyd" --config "$net/node$1/loyd.conf" >>"$net/node$1/loyd.log" 2>&1 &
	local p=$!
	eval "pid$1=$p"
	pids="$pids $p"
}

height() { "$bin/loyctl" --json --node "127.0.0.1:$(( base + 99 + $1 ))" status 2>/dev/null | num height; }

# Waits until node $1 answers status ($2 seconds, default 10: a node checks
# its whole store before it starts).
wait_up() {
	local n=0 max=$((${2:-10} * 10))
	until [ -n "$(height "$1")" ]; do
		n=$((n + 1))
		[ $n -gt $max ] && { echo "bench: node $1 did not start in ${2:-10} s" >&2; return 1; }
		sleep 0.1
	done
}

# loyctl bench against node 1 with node 1's member key.
bench() {
	"$bin/loyctl" --json --node "127.0.0.1:$((base + 100))" bench \
		--key "$net/node1/validator.key" --passphrase-file "$net/passphrase" "$@" 2>/dev/null
}

# The highest private resident memory (RssAnon, KiB) node $1 has seen in
# itself: loyd samples it a few times a second, so no sampler here forks
# processes (each fork cost this VM milliseconds: a shell sampler took a
# third of a core from the cluster it measured).
peak_private_kib() {
	"$bin/loyctl" --json --node "127.0.0.1:$((base + 99 + $1))" status 2>/dev/null | num rss_anon_peak_kib
}
