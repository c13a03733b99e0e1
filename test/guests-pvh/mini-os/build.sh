#!/bin/sh
# Builds Xen's Mini-OS as a 32-bit PVH guest for test/unit/xen/minios.test.ts. Mini-OS is
# third-party code: this script fetches and builds it locally; neither the sources (src/) nor the
# ELF are committed (see .gitignore). Needs git, gcc with -m32 (gcc-multilib), make and binutils.
#   ./build.sh                 clone (or update) and build mini-os-x86_32-pvh.elf here
#   MINIOS_REPO=<url> MINIOS_COMMIT=<sha> ./build.sh   use another mirror or commit
set -eu
cd "$(dirname "$0")"
REPO=${MINIOS_REPO:-https://xenbits.xen.org/git-http/mini-os.git}
COMMIT=${MINIOS_COMMIT:-2d3b22f}
if [ ! -d src/.git ]; then
  git clone -q "$REPO" src
fi
git -C src fetch -q origin || true
git -C src checkout -q "$COMMIT"
make -C src -s clean >/dev/null 2>&1 || true
MINIOS_CONFIG="$(pwd)/minios-test.cfg" make -C src -s -j2 XEN_TARGET_ARCH=x86_32 debug=n
cp src/mini-os mini-os-x86_32-pvh.elf
echo "built $(pwd)/mini-os-x86_32-pvh.elf"
