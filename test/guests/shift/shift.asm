; shift — shifts and rotates, data-driven: SHL SHR SAR ROL ROR RCL RCR SHLD SHRD with counts 0..33
; and beyond, against results and flags recorded on the host CPU (shift-ops.asm, shift-vectors.asm).
%define GUEST_NAME "shift"
%include "lib/kernel.inc"
%include "lib/check.inc"
%include "lib/vecrun.inc"

guest_main:
    call run_vector_ops
    call run_checks
    ret
