#!/bin/sh
# Builds the Domus PVH test guests (docs/xen-abi.md, "Test guests") from C against Xen's public
# headers (/usr/include/xen, Debian libxen-dev) with gcc -m32 -ffreestanding, into build/*.elf
# (committed). Needs gcc-multilib and binutils on an x86 host. Reproducible: the same sources and
# toolchain give byte-identical ELFs. Usage: ./build.sh [guest...] (default: all).
set -eu
cd "$(dirname "$0")"
GUESTS="${*:-basic grant blk smp hostile}"
CFLAGS="-m32 -march=i686 -ffreestanding -fno-pie -fno-pic -fno-stack-protector -fno-asynchronous-unwind-tables
  -fno-builtin -mno-sse -mno-mmx -mgeneral-regs-only -O2 -Wall -Wextra -Werror -Wno-unused-parameter
  -D__XEN_INTERFACE_VERSION__=0x00040e00 -Ilib"
LDFLAGS="-m elf_i386 -nostdlib -z max-page-size=0x1000 --build-id=none -z noexecstack --no-warn-rwx-segments"
mkdir -p obj build
for f in start.S xen.c xs.c grant.c; do
  gcc $CFLAGS -c -o "obj/lib-${f%.*}.o" "lib/$f"
done
LIBGCC=$(gcc -m32 -print-libgcc-file-name)
for g in $GUESTS; do
  gcc $CFLAGS -c -o "obj/$g.o" "$g/$g.c"
  ld $LDFLAGS -T lib/link.ld -o "build/$g.elf" obj/lib-start.o obj/lib-xen.o obj/lib-xs.o obj/lib-grant.o "obj/$g.o" "$LIBGCC"
done
if [ -f obj/basic.o ]; then
  # The basic guest again: with its Xen note only in a non-loaded section (no PT_NOTE, as Mini-OS),
  # and in an ELF64 container (like a Linux vmlinux). The loader must find and boot both.
  rm -f build/basic-secnote.elf
  ld $LDFLAGS -T lib/link-section-note.ld -o build/basic-secnote.elf obj/lib-start.o obj/lib-xen.o obj/lib-xs.o obj/lib-grant.o obj/basic.o "$LIBGCC" \
    2>&1 | grep -v "allocated section .\.note' not in segment" || true
  test -f build/basic-secnote.elf
  objcopy -I elf32-i386 -O elf64-x86-64 build/basic.elf build/basic64.elf
fi
rm -rf obj
