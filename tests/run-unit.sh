#!/bin/sh
# Runs every unit test binary, shows cmocka's output, and ends with one
# summary line over all of them.
dir=$1; shift
passed=0; failed=0; bad=""
for t in "$@"; do
	name=$(basename "$t")
	out=$(mktemp)
	( cd "$(dirname "$t")" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "./$name" ) >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$out" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
	passed=$((passed + p)); failed=$((failed + f))
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		# crashed or sanitizer abort before cmocka could count it
		failed=$((failed + 1))
	fi
	[ $rc -ne 0 ] && bad="$bad $name"
	rm -f "$out"
done
echo "unit: $passed passed, $failed failed"
if [ -n "$bad" ]; then
	echo "unit: failing binaries:$bad" >&2
	exit 1
fi
