#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's
# image, from the unpacked zip in /autograder/source.  It installs the
# Debian/Ubuntu packages Quire needs (packages.txt: the Makefile's
# DEB_PACKAGES), builds QEMU 7.2 from source where the image's is older,
# checks the tools, and builds the
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
       "(Ubuntu 22.04 or later, or Debian 12)" >&2
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

# Ubuntu 22.04, Gradescope's default base image, has QEMU 6.2, which
# cannot run Quire (labs/README.md, "QEMU versions"): there, build QEMU
# for riscv64 from its source, once, into /usr/local (first on PATH).
QEMU_VERSION=7.2.0
qemu_is_new_enough() {
  local v
  v=$(qemu-system-riscv64 --version 2>/dev/null |
      sed -n 's/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  set -- $v
  [ -n "${1:-}" ] && { [ "$1" -gt 7 ] || { [ "$1" -eq 7 ] && [ "$2" -ge 2 ]; }; }
}
build_qemu() {
  echo "setup.sh: $(qemu-system-riscv64 --version 2>/dev/null | head -n 1 || echo 'no QEMU')" \
       "is older than 7.2; building QEMU $QEMU_VERSION from source (riscv64 only;" \
       "about 8 minutes on two cores, once per autograder build)"
  apt-get install -y -qq ninja-build pkg-config libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev \
    curl xz-utils
  local work
  work=$(mktemp -d)
  curl -fsSL "https://download.qemu.org/qemu-$QEMU_VERSION.tar.xz" | tar -xJ -C "$work"
  (cd "$work/qemu-$QEMU_VERSION" &&
   ./configure --target-list=riscv64-softmmu --prefix=/usr/local --disable-docs \
     --disable-werror --disable-gtk --disable-sdl --disable-vnc --disable-opengl \
     --disable-spice --disable-curses --disable-install-blobs >/dev/null &&
   make -j"$(nproc)" >/dev/null && make install >/dev/null)
  rm -rf "$work"
  hash -r
  qemu-system-riscv64 --version | head -n 1
}
qemu_is_new_enough || build_qemu

# QEMU's version (7.2 or later) and the cross compiler.
make -C "$tree" --no-print-directory check-tools NEED="cc qemu python"
make -C "$tree" --no-print-directory all
echo "setup.sh: the starter tree in $tree is built"
