#!/usr/bin/env bash
# mkstatic.sh OUT.a ENGINE.a OBJ...
#
# Makes libevent_core.a: the C library's objects (built with
# GE_STATIC_ENGINE) and the Go engine's c-archive, whose runtime constructor
# is moved from .init_array to a section named goinit. A program linked
# against the archive then starts without the Go runtime; capi/engine.c
# starts it, through __start_goinit, the first time the program needs Go,
# as the shared library does when it loads the engine. (Only the member
# holding the Go code has the constructor; the check below fails the build
# if that ever changes.)
set -euo pipefail
out=$1 engine=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/engine"
(cd "$tmp/engine" && ar x "$engine")
with_init=()
for m in "$tmp"/engine/*.o; do
	if objdump -h "$m" | grep -q ' \.init_array '; then
		with_init+=("$m")
	fi
done
if [ "${#with_init[@]}" != 1 ]; then
	echo "mkstatic.sh: expected one member with .init_array in $engine, found ${#with_init[@]}" >&2
	exit 1
fi
objcopy --rename-section .init_array=goinit "${with_init[0]}"
rm -f "$out"
ar rcs "$out" "$@" "$tmp"/engine/*.o
