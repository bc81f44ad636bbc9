#!/usr/bin/env bash
# bindings/python/wheel.sh [--test] [BUILD_DIR]
#
# Builds goevent's Python wheel into BUILD_DIR/python/dist (default: build)
# without network access, and with --test installs it into a fresh virtual
# environment and runs the Python test suite there, from a directory outside
# the repository, against the installed package and the libraries bundled
# in it.
#
# Offline, pip cannot fetch the build backend, so the wheel is built with
# --no-build-isolation in a virtual environment of its own that has
# setuptools and wheel: a venv of Python 3.11 brings setuptools, and what is
# missing is installed from local wheel files (PY_WHEELS, default
# /usr/share/python-wheels, filled by Debian's python3-setuptools-whl and
# python3-wheel-whl, which tools/deps.sh installs). PYTHON (default python3)
# makes the environments.
set -euo pipefail

test=0
if [ "${1:-}" = --test ]; then
	test=1
	shift
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$(realpath -m "${1:-build}")
PYTHON=${PYTHON:-python3}
PY_WHEELS=${PY_WHEELS:-/usr/share/python-wheels}
work=$build/python
dist=$work/dist

# A venv with setuptools and a bdist_wheel command (setuptools >= 70.1 has
# its own; older ones need the wheel package). Kept between runs: it holds
# nothing of goevent's.
bpy=$work/venv-build/bin/python
maker=$(command -v "$PYTHON")
if [ "$(cat "$work/venv-build/made-by" 2>/dev/null)" != "$maker" ] || ! "$bpy" -c '' 2>/dev/null; then
	rm -rf "$work/venv-build"
	"$PYTHON" -m venv "$work/venv-build"
	echo "$maker" >"$work/venv-build/made-by"
fi
missing=()
"$bpy" -c 'import setuptools' 2>/dev/null || missing+=(setuptools)
"$bpy" -c 'import setuptools.command.bdist_wheel' 2>/dev/null ||
	"$bpy" -c 'import wheel' 2>/dev/null || missing+=(wheel)
if [ ${#missing[@]} -gt 0 ]; then
	"$bpy" -m pip install -q --disable-pip-version-check --no-index \
		--find-links "$PY_WHEELS" "${missing[@]}" || {
		echo "wheel.sh: cannot install ${missing[*]} from $PY_WHEELS" \
			"(Debian: apt-get install python3-setuptools-whl python3-wheel-whl)" >&2
		exit 1
	}
fi

# setup.py runs `make lib` with this BUILD and bundles BUILD/lib's libraries.
rm -rf "$dist"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL BUILD="$build" \
	"$bpy" -m pip wheel -q --disable-pip-version-check --no-deps --no-index \
	--no-build-isolation -w "$dist" "$here"
wheel=$(ls "$dist"/goevent-*.whl)
echo "wheel: $wheel"
[ $test -eq 1 ] || exit 0

# A fresh environment with nothing but the wheel.
rm -rf "$work/venv-test"
"$PYTHON" -m venv "$work/venv-test"
tpy=$work/venv-test/bin/python
"$tpy" -m pip install -q --disable-pip-version-check --no-index "$wheel"

# The suite, copied out of the repository so that nothing imports the
# repository's package; no variable points the package at a library.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$here/tests" "$scratch/tests"
cd "$scratch"
clean=(env -u GOEVENT_LIBRARY -u GOEVENT_PTHREADS_LIBRARY -u GOEVENT_ENGINE -u PYTHONPATH)
"${clean[@]}" "$tpy" -m goevent
"${clean[@]}" "$tpy" -m unittest discover -s tests -t .
