; pae — PAE paging (SDM Vol. 3 4.4): PDPTE registers, 2-MiB and 4-KiB pages, accessed and dirty
; bits, #PF error codes for not-present, reserved-bit, write-protect and execute-disable faults
; (EFER.NXE), global pages across CR3 reloads. The first 1 GiB is identity-mapped with 2-MiB
; pages; 0x40000000 (PDPTE 1) maps single 4-KiB test pages.
%define GUEST_NAME "pae"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

CR4_PAE  equ 0x20
MSR_EFER equ 0xC0000080
EFER_NXE equ 0x800
PG_P     equ 0x001
PG_RW    equ 0x002
PG_A     equ 0x020
PG_D     equ 0x040
PG_PS    equ 0x080
PG_G     equ 0x100
ALIAS    equ 0x40000000               ; linear address of the 4-KiB test pages
PF_P     equ 1
PF_W     equ 2
PF_RSVD  equ 8
PF_ID    equ 16

; build_tables: PDPTE0 -> pd0 (512 x 2 MiB identity), PDPTE1 -> pd1 -> pt1 (4-KiB pages at
; ALIAS: page 0 -> buf0, page 1 -> buf1), PDPTE2/3 not present. Preserves registers.
build_tables:
    pushad
    mov edi, pdpt
    mov ecx, 8
    xor eax, eax
    rep stosd
    mov dword [pdpt], pd0 + PG_P
    mov dword [pdpt + 8], pd1 + PG_P
    mov edi, pd0
    mov eax, PG_P | PG_RW | PG_PS
    mov ecx, 512
.pd0:
    mov [edi], eax
    mov dword [edi + 4], 0
    add eax, 0x200000
    add edi, 8
    loop .pd0
    mov edi, pd1
    mov ecx, 1024
    xor eax, eax
    rep stosd
    mov dword [pd1], pt1 + PG_P + PG_RW
    mov edi, pt1
    mov ecx, 1024
    rep stosd
    mov dword [pt1], buf0 + PG_P + PG_RW
    mov dword [pt1 + 8], buf1 + PG_P + PG_RW
    popad
    ret

; paging_on: CR4.PAE (| EAX extra CR4 bits), CR3 = pdpt, CR0.PG.
paging_on:
    push eax
    mov edx, cr4
    or edx, eax
    or edx, CR4_PAE
    mov cr4, edx
    mov eax, pdpt
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    pop eax
    ret

; paging_off: CR0.PG, then CR4.PAE/PGE off, EFER.NXE off (if it exists).
paging_off:
    pushad
    mov eax, cr0
    and eax, ~CR0_PG
    mov cr0, eax
    mov eax, cr4
    and eax, ~(CR4_PAE | CR4_PGE)
    mov cr4, eax
    popad
    ret

CHECK chk_on, "pae.identity_2m_pages", "PAE with 2-MiB pages: memory reads back through the mapping; the PDE gets A and, after a write, D"
    call build_tables
    xor eax, eax
    call paging_on
    mov dword [probe], 0x5A5A1234
    mov eax, [probe]
    call paging_off
    EXPECT eax, 0x5A5A1234
    mov eax, probe
    shr eax, 21
    mov eax, [pd0 + eax * 8]
    and eax, PG_A | PG_D
    EXPECT eax, PG_A | PG_D
    PASSED

CHECK chk_4k, "pae.alias_4k_and_ad_bits", "a 4-KiB page at 0x40000000 aliases a buffer; reading sets A only, writing sets D in the PTE, A in the PDE"
    call build_tables
    mov dword [buf0 + 0x10], 0x11223344
    xor eax, eax
    call paging_on
    mov ebx, [ALIAS + 0x10]           ; read through the alias
    mov ecx, [pt1]
    mov dword [ALIAS + 0x1000 + 8], 0x55667788   ; write through page 1
    mov edx, [pt1 + 8]
    call paging_off
    EXPECT ebx, 0x11223344
    and ecx, PG_A | PG_D
    EXPECT ecx, PG_A
    and edx, PG_A | PG_D
    EXPECT edx, PG_A | PG_D
    EXPECT dword [buf1 + 8], 0x55667788
    mov eax, [pd1]
    and eax, PG_A
    EXPECT eax, PG_A
    PASSED

CHECK chk_np, "pae.not_present_pdpte_pf", "an access through a not-present PDPTE is #PF with error code 0 (read) or 2 (write) and CR2 = the address"
    call build_tables
    xor eax, eax
    call paging_on
    TRY .caught
.insn:
    mov dword [0x80000010], 1
    DISARM
    call paging_off
    NOEXC VEC_PF
.caught:
    call paging_off
    EXPECT_EXC VEC_PF, PF_W, .insn
    EXPECT dword [exc_cr2], 0x80000010
    PASSED

CHECK chk_rsvd, "pae.reserved_bit_pf", "a PTE with a reserved high bit (bit 52) is #PF with P and RSVD"
    call build_tables
    mov dword [pt1 + 4], 0x00100000   ; bit 52
    xor eax, eax
    call paging_on
    TRY .caught
.insn:
    mov eax, [ALIAS]
    DISARM
    call paging_off
    NOEXC VEC_PF
.caught:
    call paging_off
    EXPECT_EXC VEC_PF, PF_P | PF_RSVD, .insn
    PASSED

CHECK chk_wp, "pae.write_protect_pf", "with CR0.WP a supervisor write to a read-only page is #PF(P | W)"
    call build_tables
    and dword [pt1], ~PG_RW
    xor eax, eax
    call paging_on
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    TRY .caught
.insn:
    mov dword [ALIAS], 1
    DISARM
    call paging_off
    NOEXC VEC_PF
.caught:
    call paging_off
    EXPECT_EXC VEC_PF, PF_P | PF_W, .insn
    PASSED

CHECK chk_nx, "pae.execute_disable_pf", "with EFER.NXE a jump into an XD page is #PF(P | I/D) at the target; reading it is fine"
    mov eax, 0x80000001
    cpuid
    test edx, 1 << 20
    jz .no_nx
    call build_tables
    mov byte [buf0], 0xC3             ; RET
    mov dword [pt1 + 4], 0x80000000   ; XD
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_NXE
    wrmsr
    xor eax, eax
    call paging_on
    movzx ebx, byte [ALIAS]
    TRY .caught
    call ALIAS
    DISARM
    call nx_off
    NOEXC VEC_PF
.caught:
    call nx_off
    EXPECT ebx, 0xC3
    EXPECT_EXC VEC_PF, PF_P | PF_ID, ALIAS
    EXPECT dword [exc_cr2], ALIAS
    PASSED
.no_nx:
    FAILNOW 1 << 20, edx
nx_off:
    call paging_off
    mov ecx, MSR_EFER
    rdmsr
    and eax, ~EFER_NXE
    wrmsr
    ret

CHECK chk_global, "pae.global_page_survives_cr3", "a global translation survives a CR3 reload (PGE); a non-global one is walked again"
    call build_tables
    mov dword [pt1], buf0 + PG_P + PG_RW + PG_G
    mov dword [buf0], 0xAAAA0000
    mov dword [buf1], 0xBBBB0000
    mov dword [buf2], 0xCCCC0000
    mov dword [buf3], 0xDDDD0000
    mov eax, CR4_PGE
    call paging_on
    mov eax, [ALIAS]
    mov eax, [ALIAS + 0x1000]
    mov dword [pt1], buf2 + PG_P + PG_RW + PG_G
    mov dword [pt1 + 8], buf3 + PG_P + PG_RW
    mov eax, cr3
    mov cr3, eax
    mov ebx, [ALIAS]                  ; global: the old frame
    mov ecx, [ALIAS + 0x1000]         ; walked again: the new frame
    call paging_off
    EXPECT ebx, 0xAAAA0000
    EXPECT ecx, 0xDDDD0000
    PASSED

section .bss
alignb 4096
pd0:  resb 4096
pd1:  resb 4096
pt1:  resb 4096
buf0: resb 4096
buf1: resb 4096
buf2: resb 4096
buf3: resb 4096
alignb 32
pdpt: resq 4
probe: resd 1
section .text
