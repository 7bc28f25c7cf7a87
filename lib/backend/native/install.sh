#!/bin/sh
# Installs the native libraries the optional `native` tfjs backend loads through Deno FFI
# (OpenBLAS sgemm, pthread build). Debian/Ubuntu only; run as root (CI runs as root).
# Without them, AST_BACKEND=native falls back to the plain cpu kernels and its tests skip.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends libopenblas0-pthread
