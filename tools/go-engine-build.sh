#!/bin/sh
# go-engine-build.sh GO ARGS...: runs `GO ARGS...` (the engine's go build)
# with a checksum of the C headers the engine includes from outside its own
# directory (capi/, include/) added to CGO_CFLAGS. The go command's build
# cache keys a cgo package on its own files and on the flags, not on
# headers included from elsewhere, so without this a changed
# capi/engine_api.h or engine_exports.h could be linked into the engine
# from objects compiled against the old one (the C library then refuses the
# engine as built from another version). Run from the source directory.
set -eu
go=$1
shift
sum=$(cat capi/*.h include/*.h include/event2/*.h 2>/dev/null | cksum | cut -d' ' -f1)
CGO_CFLAGS="${CGO_CFLAGS:--g -O2} -DGE_HEADERS_CKSUM=$sum"
export CGO_CFLAGS
exec "$go" "$@"
