#!/bin/sh
# Runs every fuzz target: first over its committed regression corpus, then
# for a bounded time ("smoke N" seconds, in make test) or a number of
# executions ("long N", in make fuzz). A crash fails the run.
mode=$1; amount=$2; shift 2
status=0
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=32:malloc_context_size=10}"
for f in "$@"; do
	name=$(basename "$f")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp "$corpus"/* "$work"/ 2>/dev/null
	if [ -d "$corpus" ] && ! "$f" -rss_limit_mb=512 -malloc_limit_mb=64 "$corpus"/* >/dev/null 2>&1; then
		echo "fuzz: $name: regression corpus fails; rerun: $f $corpus/*" >&2
		status=1
	fi
	if [ "$mode" = smoke ]; then
		limit="-max_total_time=$amount"
	else
		limit="-runs=$amount"
	fi
	log=$(mktemp)
	if "$f" $limit -rss_limit_mb=512 -malloc_limit_mb=64 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$work/" "$work" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
		echo "fuzz: $name: ok, $execs executions, peak RSS ${rss} MiB"
	else
		tail -40 "$log" >&2
		echo "fuzz: $name: FAILED (artifacts in $work)" >&2
		status=1
	fi
	rm -f "$log"
done
exit $status
