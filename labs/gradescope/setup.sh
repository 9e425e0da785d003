#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's
# image, from the unpacked zip in /autograder/source.  It installs the
# Debian/Ubuntu packages Quire needs (packages.txt: the Makefile's
# DEB_PACKAGES), checks the tools (QEMU 7.2 or later), and builds the
# pristine starter tree in source/quire, so that grading a submission
# only recompiles the files the student handed in.
#
# AUTOGRADER_ROOT (default /autograder) moves everything elsewhere, for
# trying it out on another machine.
set -euo pipefail

root="${AUTOGRADER_ROOT:-/autograder}"
src="$root/source"
tree="$src/quire"

if [ ! -f "$src/packages.txt" ] || [ ! -f "$tree/Makefile" ]; then
  echo "setup.sh: $src does not hold the autograder zip's files" \
       "(packages.txt, quire/Makefile)" >&2
  exit 1
fi
if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "setup.sh: this is not a Debian or Ubuntu image; choose one" \
       "(Ubuntu 24.04 or later, or Debian 12, for QEMU 7.2)" >&2
  exit 1
fi

read -r -a packages <<< "$(grep -v '^#' "$src/packages.txt" | tr '\n' ' ')"
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "+ apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
else
  echo "setup.sh: the packages are installed already: ${packages[*]}"
fi

# QEMU's version (7.2 or later) and the cross compiler.
make -C "$tree" --no-print-directory check-tools NEED="cc qemu python"
make -C "$tree" --no-print-directory all
echo "setup.sh: the starter tree in $tree is built"
