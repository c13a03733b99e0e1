; edge — checks that QEMU 7.2 TCG cannot run, so they live apart from their themes' guests (the
; QEMU runner skips this guest; docs/test-guests.md):
;   - IDIV of the most negative 32- and 16-bit dividends by -1: the quotient (2^31, 2^15) does
;     not fit, so the CPU raises #DE (SDM Vol. 2, IDIV). QEMU computes the division on the host
;     in C and dies of SIGFPE.
;   - MOV to CR4 with a reserved bit set raises #GP(0) (SDM Vol. 3A, 2.5): QEMU loops forever.
;   - MOV to CR0 with PG = 1 and PE = 0 raises #GP(0): QEMU enables paging (and triple-faults).
%define GUEST_NAME "edge"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

CHECK chk_idiv32_min, "muldiv.idiv32_min_by_minus1_faults", "IDIV 0x80000000:00000000 / -1 raises #DE (fault)"
    xor eax, eax
    mov edx, 0x80000000
    mov ebx, -1
    TRY .caught
.insn:
    idiv ebx
    DISARM
    NOEXC VEC_DE
.caught:
    EXPECT_EXC VEC_DE, 0, .insn
    PASSED

CHECK chk_idiv16_min, "muldiv.idiv16_min_by_minus1_faults", "IDIV DX:AX = 0x80000000 / -1 raises #DE (fault)"
    xor eax, eax
    mov edx, 0x8000
    mov ebx, -1
    TRY .caught
.insn:
    idiv bx
    DISARM
    NOEXC VEC_DE
.caught:
    EXPECT_EXC VEC_DE, 0, .insn
    PASSED

CHECK chk_gp_cr4, "exc.gp_reserved_cr4_bit", "MOV CR4 with a reserved bit raises #GP(0)"
    mov eax, cr4
    or eax, 0x80000000               ; a reserved CR4 bit
    TRY .caught
.insn:
    mov cr4, eax
    DISARM
    NOEXC VEC_GP
.caught:
    EXPECT_EXC VEC_GP, 0, .insn
    PASSED

CHECK chk_gp_cr0, "exc.gp_cr0_pg_without_pe", "MOV CR0 with PG=1 and PE=0 raises #GP(0)"
    mov eax, cr0
    and eax, ~CR0_PE
    or eax, CR0_PG                   ; PG = 1 with PE = 0
    TRY .caught
.insn:
    mov cr0, eax
    DISARM
    NOEXC VEC_GP
.caught:
    EXPECT_EXC VEC_GP, 0, .insn
    PASSED
