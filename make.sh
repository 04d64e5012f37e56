#!/bin/sh
# The README's entry point: `./make.sh run` and `./make.sh test` are
# `make run` and `make test` on a machine that may not have make yet (a
# minimal Debian has none).  It installs make from Debian's packages when
# it is missing, then hands every argument to it.
set -eu
cd "$(dirname "$0")"
command -v make >/dev/null 2>&1 || scripts/deps.sh make
exec make "$@"
