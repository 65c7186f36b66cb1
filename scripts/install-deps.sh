#!/usr/bin/env bash
# Installs the Debian packages attograd builds with, when they are missing.
set -euo pipefail

packages=(g++ make pkg-config libopenblas-openmp-dev catch2 nlohmann-json3-dev libcli11-dev
          clang libclang-rt-14-dev libomp-dev graphviz)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "error: need root to install ${missing[*]}; run: apt-get install ${missing[*]}" >&2
    exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
