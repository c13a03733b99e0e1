#!/bin/sh
# Rebuilds runner.elf from runner.asm (needs nasm and GNU ld). The ELF is committed so the
# differential tests do not need nasm; rebuild and commit it whenever runner.asm changes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nasm -f elf32 -Wall -o "$tmp/runner.o" "$here/runner.asm"
ld -m elf_i386 -T "$here/runner.ld" --build-id=none --no-warn-rwx-segments -nostdlib -o "$here/runner.elf" "$tmp/runner.o"
echo "built $here/runner.elf"
