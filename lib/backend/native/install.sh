#!/bin/sh
# Installs the native library the wasm backend's convolutions load through Deno FFI (OpenBLAS,
# pthread build). Debian/Ubuntu only; run as root (.ci/run installs it too).
# Without it the wasm backend keeps its own convolutions and the OpenBLAS tests skip.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends libopenblas0-pthread
