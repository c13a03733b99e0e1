/**
 * nasm source shared by the small SMP test guests assembled inside tests: the 16-bit AP start-up
 * trampoline, the flat GDT and the GDTR/IDTR, read from test/fixtures/smp/smp-trampoline.inc (the
 * committed smp.bin fixture includes the same file). The including source defines `ap_main` and
 * `idt` (256 gates).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const SMP_TRAMPOLINE_ASM = readFileSync(path.resolve(__dirname, '../fixtures/smp/smp-trampoline.inc'), 'utf8');
