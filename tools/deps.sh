#!/usr/bin/env bash
# Installs what building and testing goevent needs on a fresh Debian machine:
# cmake and pkg-config to build the C side, Debian's libevent-dev as the
# reference for the differential tests, zlib for the filter example, python3
# and cargo for the bindings' tests, and what building and installing the
# Python wheel offline takes: venv with pip (python3-venv) and the setuptools
# and wheel wheels pip builds with (/usr/share/python-wheels). As root it
# installs what is missing; as anyone else it names what to install and
# fails.
set -euo pipefail

need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v cc >/dev/null 2>&1 || need+=(gcc)
[ -f /usr/include/event2/event.h ] || need+=(libevent-dev)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
else
	need+=(python3 python3-venv)
fi
compgen -G '/usr/share/python-wheels/setuptools-*.whl' >/dev/null || need+=(python3-setuptools-whl)
compgen -G '/usr/share/python-wheels/wheel-*.whl' >/dev/null || need+=(python3-wheel-whl)
command -v cargo >/dev/null 2>&1 || need+=(cargo)

if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "goevent: missing build dependencies; install them with:" >&2
	echo "  sudo apt-get install ${need[*]}" >&2
	exit 1
fi
echo "goevent: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
