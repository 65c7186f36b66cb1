#!/usr/bin/env bash
# Installs the Debian packages attograd builds with, when they are missing, by group:
#   base      the compiler, OpenBLAS, Catch2, nlohmann-json and CLI11: `make`, `make test`, `make run`
#   clang     clang with its sanitizer runtime: `make fuzz` and `make test TSAN=1`
#   graphviz  Graphviz's `dot`, which draws `make graph`'s picture
#   fortunes  the fortune cookies' text (about 2.5 MB of English), `make gpt`'s default corpus
#   all       every group
#   scripts/install-deps.sh [group ...]      (no group: base)
set -euo pipefail

base=(g++ make pkg-config libopenblas-pthread-dev catch2 nlohmann-json3-dev libcli11-dev)
clang=(clang libclang-rt-14-dev)
graphviz=(graphviz)
fortunes=(fortunes)
packages=()
for group in "${@:-base}"; do
    case $group in
        base) packages+=("${base[@]}") ;;
        clang) packages+=("${clang[@]}") ;;
        graphviz) packages+=("${graphviz[@]}") ;;
        fortunes) packages+=("${fortunes[@]}") ;;
        all) packages+=("${base[@]}" "${clang[@]}" "${graphviz[@]}" "${fortunes[@]}") ;;
        *) echo "error: unknown group '$group' (base, clang, graphviz, fortunes or all)" >&2; exit 2 ;;
    esac
done
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
