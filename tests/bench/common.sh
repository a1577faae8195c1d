# Shared by the cluster benchmark scripts (sourced): starting and stopping a
# local testnet's loyd processes. Expects $bin and $net; sets $base.

pids=""

num() { sed -n "s/^ *\"$1\": *\\([0-9.e+-]*\\).*/\\1/p" | head -n 1; }

stop_all() {
	if [ -n "${sampler:-}" ]; then kill "$sampler" 2>/dev/null || true; fi
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

# Samples the private resident memory (RssAnon) of nodes 1..$1 every 0.2 s
# into $net/anon<i> (KiB, the highest seen) until sample_stop.
sample_start() {
	(
		while :; do
			for i in $(seq 1 "$1"); do
				p=$(eval echo "\$pid$i")
				kb=$(awk '$1 == "RssAnon:" {print $2}' "/proc/$p/status" 2>/dev/null)
				m=$(cat "$net/anon$i" 2>/dev/null || echo 0)
				# a rename, so that sample_stop never leaves a
				# half-written file behind
				[ -n "$kb" ] && [ "$kb" -gt "$m" ] &&
					echo "$kb" >"$net/anon$i.new" &&
					mv "$net/anon$i.new" "$net/anon$i"
			done
			sleep 0.2
		done
	) &
	sampler=$!
}

sample_stop() {
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	sampler=""
}
