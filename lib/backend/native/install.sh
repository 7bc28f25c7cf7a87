#!/bin/sh
# Installs the native libraries the wasm backend's kernels load through Deno FFI (oneDNN; OpenBLAS,
# pthread build) and the C compiler that builds the fused kernels (fused_kernels.c, compiled on
# first use into ~/.cache/ast-lab/native). Debian/Ubuntu only; run as root (.ci/run installs them too).
# Without them the wasm backend keeps its own kernels and the native-kernel tests skip.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends libopenblas0-pthread libdnnl2 gcc libc6-dev
