#!/bin/sh
# Builds the Domus demo guest (docs/demo-guest.md) into OUTDIR/demo.elf (default: this folder).
# Needs gcc with -m32 (Debian gcc-multilib), nasm and GNU ld on an x86 host. Reproducible: the
# same sources and toolchain give the same bytes (no timestamps, no .comment, no build ID, and
# object files named the same wherever OUTDIR is). --param=min-pagesize=0: low addresses such as
# the BIOS data area are real memory here, not null-pointer dereferences (GCC 12 warns otherwise).
#   ./build.sh            rebuild resources/guests/demo/demo.elf
#   ./build.sh OUTDIR     build into OUTDIR (the rebuild test compares it with the committed ELF)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)
obj=$(mktemp -d)
trap 'rm -rf "$obj"' EXIT
cd "$here/src"
CFLAGS="-m32 -march=i686 -mtune=generic -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-builtin
  -fno-asynchronous-unwind-tables -fno-ident -mgeneral-regs-only -mno-red-zone -O2 -std=gnu11 --param=min-pagesize=0
  -Wall -Wextra -Werror"
for f in *.c; do
  gcc $CFLAGS -c -o "$obj/${f%.c}.o" "$f"
done
nasm -f elf32 -Werror -o "$obj/entry.o" entry.asm
# entry.o first: the multiboot header leads .text.
ld -m elf_i386 -nostdlib -T ../link.ld -z max-page-size=0x1000 --build-id=none -z noexecstack \
  --no-warn-rwx-segments -o "$obj/demo.elf" "$obj/entry.o" $(ls "$obj"/*.o | grep -v '/entry\.o$' | LC_ALL=C sort)
strip --strip-debug -o "$out/demo.elf" "$obj/demo.elf"
size=$(wc -c < "$out/demo.elf")
[ "$size" -lt 65536 ] || { echo "demo.elf is $size bytes; keep it under 64 KiB" >&2; exit 1; }
echo "demo.elf: $size bytes, sha256 $(sha256sum "$out/demo.elf" | cut -d' ' -f1)"
