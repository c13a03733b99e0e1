#!/bin/sh
# Rebuilds the e2e guests (Debian: nasm, binutils). The committed echo.elf and vga-boot.bin are
# this script's output.
set -eu
cd "$(dirname "$0")"
nasm -f elf32 -o echo.o echo.asm
ld -m elf_i386 -T link.ld -o echo.elf echo.o
rm -f echo.o
nasm -f bin -o vga-boot.bin vga-boot.asm
