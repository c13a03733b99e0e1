; alu — the integer ALU, data-driven: ADD ADC SUB SBB AND OR XOR CMP TEST INC DEC NEG NOT in 8, 16
; and 32-bit register, memory and immediate forms, against results and flags recorded on the host
; CPU (alu-ops.asm holds the stubs, alu-vectors.asm the generated vectors).
%define GUEST_NAME "alu"
%include "lib/kernel.inc"
%include "lib/check.inc"
%include "lib/vecrun.inc"

guest_main:
    call run_vector_ops
    call run_checks
    ret
