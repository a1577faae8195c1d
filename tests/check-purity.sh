#!/bin/sh
# consensus/ must stay a pure state machine (STYLE.md section 1): no libuv,
# no LMDB, no clock and no randomness.
[ -d consensus ] || exit 0
bad=$(grep -RnE '#include *<(uv|lmdb|time|sys/time)\.h>|\b(time|rand|random|srand|clock|clock_gettime|gettimeofday|randombytes_[a-z]*|getrandom)[[:space:]]*\(' consensus)
if [ -n "$bad" ]; then
	echo "purity: consensus/ must not touch libuv, LMDB, clocks or randomness:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "purity: consensus/ is free of I/O, clocks and randomness"
