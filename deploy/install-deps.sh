#!/bin/sh
# Installs the Debian packages the project needs, and only those missing.
# A no-op when everything is present. As non-root it prints the apt-get line
# and exits non-zero.
set -eu

PKGS="build-essential pkg-config libuv1-dev libsodium-dev liblmdb-dev lmdb-utils
libmsgpack-dev libcmocka-dev libinih-dev libjansson-dev clang libclang-rt-14-dev
iproute2 procps"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages:$missing" >&2
	echo "install-deps: run: sudo apt-get install -y$missing" >&2
	exit 1
fi

echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when an install from the current lists fails.
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
