; paging — 32-bit paging (SDM Vol. 3A, 4.3): 4 KiB pages through page tables and 4 MiB pages
; (CR4.PSE), CR4.PSE=0 ignoring the PS bit, #PF error codes (P, W/R, U/S, RSVD) with CR2 and the
; saved EIP, a #PF that restarts the access once the handler maps the page, CR0.WP, the accessed
; and dirty bits in PDEs and PTEs, INVLPG, TLB flushes by CR3 writes, global pages (kept across a
; CR3 write, dropped by toggling CR4.PGE), and self-modifying code (same page, next page, code
; run before, and a write through another linear alias of the code's frame).
;
; Needs 16 MiB of RAM: page tables at 4 MiB, test frames at 6 MiB, a 4 MiB page frame at 8 MiB.
%define GUEST_NAME "paging"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

; ---- physical layout -----------------------------------------------------------------------------------
PD        equ 0x400000               ; the page directory
PT0       equ 0x401000               ; identity map of 0-4 MiB
PT1       equ 0x402000               ; identity map of 4-8 MiB (page tables, test frames)
PT_TEST   equ 0x403000               ; maps TEST_VA..TEST_VA + 4 MiB
PT_ALT    equ 0x404000               ; a page table reached through a PS=1 PDE when CR4.PSE = 0
FRAME_A   equ 0x600000               ; test frames, filled with FILL_A + i, FILL_B + i, ...
FRAME_B   equ 0x601000
FRAME_C   equ 0x602000
FRAME_D   equ 0x603000
BIG_FRAME equ 0x800000               ; the frame of the 4 MiB page (8-12 MiB)

TEST_VA   equ 0x40000000             ; PD index 256
BIG_VA    equ 0x80000000             ; PD index 512
TEST_PDI  equ TEST_VA >> 22
BIG_PDI   equ BIG_VA >> 22

FILL_A    equ 0xAAAA0000
FILL_B    equ 0xBBBB0000
FILL_C    equ 0xCCCC0000
FILL_D    equ 0xDDDD0000

; PDE/PTE bits (SDM Vol. 3A, tables 4-4 to 4-6)
PG_P      equ 0x001
PG_W      equ 0x002
PG_U      equ 0x004
PG_A      equ 0x020
PG_D      equ 0x040
PG_PS     equ 0x080
PG_G      equ 0x100
PG_PSE_RSVD21 equ 0x200000           ; a 4 MiB PDE's bit 21: reserved whatever MAXPHYADDR (<= 40)
PG_URW    equ PG_P | PG_W | PG_U

; #PF error code bits (SDM Vol. 3A, figure 6-11)
PF_P      equ 0x01
PF_W      equ 0x02
PF_U      equ 0x04
PF_RSVD   equ 0x08

; fill_frame: EDI = frame, EAX = first value; dword i = EAX + i. Preserves registers.
fill_frame:
    pushad
    mov ecx, 1024
.l: stosd
    inc eax
    loop .l
    popad
    ret

; pg_setup: builds the tables (identity 0-8 MiB with 4 KiB pages, user/writable; an empty test
; table at TEST_VA), fills the test frames and loads CR3. Paging stays off.
pg_setup:
    pushad
    xor eax, eax
    mov edi, PD
    mov ecx, 1024 * 5                ; PD, PT0, PT1, PT_TEST, PT_ALT
    rep stosd
    mov edi, PT0
    mov eax, PG_URW
    mov ecx, 2048                    ; PT0 and PT1 are adjacent: 0..8 MiB
.id:
    stosd
    add eax, 0x1000
    loop .id
    mov dword [PD + 0 * 4], PT0 | PG_URW
    mov dword [PD + 1 * 4], PT1 | PG_URW
    mov dword [PD + TEST_PDI * 4], PT_TEST | PG_URW
    mov edi, FRAME_A
    mov eax, FILL_A
    call fill_frame
    mov edi, FRAME_B
    mov eax, FILL_B
    call fill_frame
    mov edi, FRAME_C
    mov eax, FILL_C
    call fill_frame
    mov edi, FRAME_D
    mov eax, FILL_D
    call fill_frame
    mov eax, PD
    mov cr3, eax
    popad
    ret

; PG_ON / PG_OFF / WP_ON: set or clear CR0.PG, set CR0.WP. Preserve registers.
%macro PG_ON 0
    push eax
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    pop eax
%endmacro
%macro PG_OFF 0
    push eax
    mov eax, cr0
    and eax, ~CR0_PG
    mov cr0, eax
    pop eax
%endmacro
%macro WP_ON 0
    push eax
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    pop eax
%endmacro

; FAULT_PF label, error code, CR2, instruction: the instruction (at .f_<label>) must raise #PF
%macro FAULT_PF 4
    TRY %%c
.f_%1:
    %4
    DISARM
    NOEXC VEC_PF
%%c:
    EXPECT_EXC VEC_PF, %2, .f_%1
    EXPECT dword [exc_cr2], %3
%endmacro

; ---- mappings -------------------------------------------------------------------------------------------
CHECK chk_identity, "pg.enable_identity", "CR0.PG on with identity-mapped 4 KiB pages: reads and writes land where they did"
    call pg_setup
    mov dword [pg_var], 0x600DF00D
    PG_ON
    mov eax, [pg_var]
    mov dword [pg_var], 0x12345678
    PG_OFF
    EXPECT eax, 0x600DF00D
    EXPECT dword [pg_var], 0x12345678
    PASSED

CHECK chk_pte, "pg.pte_maps_4k_frames", "PTEs map linear pages to other frames (first, second, last entry; an access straddling two pages)"
    call pg_setup
    mov dword [PT_TEST + 0 * 4], FRAME_B | PG_P | PG_W
    mov dword [PT_TEST + 1 * 4], FRAME_A | PG_P | PG_W
    mov dword [PT_TEST + 1023 * 4], FRAME_C | PG_P
    PG_ON
    mov eax, [TEST_VA + 8]
    mov ebx, [TEST_VA + 0x1000 + 0xFFC]
    mov ecx, [TEST_VA + 0x3FF000 + 4]
    mov edx, [TEST_VA + 0xFFE]       ; straddles the two pages: FRAME_B's last 2 bytes, FRAME_A's first 2
    mov dword [TEST_VA + 0x1000 + 16], 0x77777777
    PG_OFF
    EXPECT eax, FILL_B + 2
    EXPECT ebx, FILL_A + 1023
    EXPECT ecx, FILL_C + 1
    EXPECT edx, ((FILL_A & 0xFFFF) << 16) | ((FILL_B + 1023) >> 16)
    EXPECT dword [FRAME_A + 16], 0x77777777
    PASSED

CHECK chk_pse, "pg.pse_4m_page", "CR4.PSE: a PS=1 PDE maps a 4 MiB page (offsets up to 4 MiB - 4)"
    call pg_setup
    mov dword [BIG_FRAME + 0x1234], 0x4D4D4D4D
    mov dword [BIG_FRAME + 0x3FFFFC], 0x5E5E5E5E
    mov dword [PD + BIG_PDI * 4], BIG_FRAME | PG_PS | PG_P | PG_W
    mov eax, cr4
    or eax, CR4_PSE
    mov cr4, eax
    PG_ON
    mov eax, [BIG_VA + 0x1234]
    mov ebx, [BIG_VA + 0x3FFFFC]
    PG_OFF
    EXPECT eax, 0x4D4D4D4D
    EXPECT ebx, 0x5E5E5E5E
    PASSED

CHECK chk_pse_off, "pg.ps_bit_ignored_without_cr4_pse", "CR4.PSE=0: the PDE's PS bit is ignored and the PDE names a page table"
    ; CR4.PSE = 0: the PDE's PS bit is ignored, its address names a page table
    call pg_setup
    mov dword [PT_ALT], FRAME_C | PG_P
    mov dword [PD + BIG_PDI * 4], PT_ALT | PG_PS | PG_P | PG_W
    PG_ON
    mov eax, [BIG_VA + 12]
    PG_OFF
    EXPECT eax, FILL_C + 3
    PASSED

; ---- #PF error codes ---------------------------------------------------------------------------------------
CHECK chk_pf_np_read, "pg.pf_not_present_read", "read of a not-present page: #PF error 0, CR2, saved EIP"
    call pg_setup
    PG_ON
    FAULT_PF a, 0, TEST_VA + 0x5008, {mov eax, [TEST_VA + 0x5008]}
    PASSED

CHECK chk_pf_np_write, "pg.pf_not_present_write", "write to a not-present page: #PF error W"
    call pg_setup
    PG_ON
    FAULT_PF a, PF_W, TEST_VA + 0x7FFC, {mov dword [TEST_VA + 0x7FFC], 1}
    PASSED

CHECK chk_pf_pde_np, "pg.pf_pde_not_present", "not-present PDE: #PF for reads (0) and writes (W)"
    call pg_setup
    PG_ON
    FAULT_PF a, 0, 0xC0001000, {mov eax, [0xC0001000]}
    FAULT_PF b, PF_W, 0xC0400000, {mov [0xC0400000], al}
    PASSED

CHECK chk_pf_np_bits, "pg.pf_not_present_ignores_other_bits", "a PTE with P=0 and all other bits set: #PF error 0 (no RSVD)"
    call pg_setup
    mov dword [PT_TEST], 0xFFFFFFFE  ; P = 0: everything else is ignored (no RSVD)
    PG_ON
    FAULT_PF a, 0, TEST_VA + 4, {mov eax, [TEST_VA + 4]}
    PASSED

CHECK chk_pf_fetch, "pg.pf_instruction_fetch", "a jump to a not-present page: #PF error 0, CR2 = saved EIP = target"
    call pg_setup
    PG_ON
    mov eax, TEST_VA + 0x2000
    TRY .c
    jmp eax                          ; fetch from a not-present page: saved EIP = CR2 = target
    DISARM
    NOEXC VEC_PF
.c:
    EXPECT dword [exc_vec], VEC_PF
    EXPECT dword [exc_err], 0        ; no I/D bit in 32-bit paging without SMEP/NX
    EXPECT dword [exc_eip], TEST_VA + 0x2000
    EXPECT dword [exc_cr2], TEST_VA + 0x2000
    PASSED

CHECK chk_pf_split, "pg.pf_split_access_no_partial_write", "a dword write straddling into a not-present page faults with CR2 in the second page and writes nothing"
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P | PG_W          ; the next page is not present
    PG_ON
    mov dword [TEST_VA + 0xFFC], 0x11111111
    FAULT_PF a, PF_W, TEST_VA + 0x1000, {mov dword [TEST_VA + 0xFFE], 0x22222222}
    PG_OFF
    EXPECT dword [FRAME_A + 0xFFC], 0x11111111          ; nothing written in the first page
    PASSED

CHECK chk_pf_restart, "pg.pf_restart_after_mapping", "a #PF handler maps the page and IRET restarts the access, which then completes"
    call pg_setup
    mov byte [vec_mode + VEC_PF], MODE_HOOK
    mov dword [vec_hook + VEC_PF * 4], map_hook
    PG_ON
.insn:
    mov eax, [TEST_VA + 0x3000 + 8]  ; #PF, the hook maps FRAME_D, IRET repeats the MOV
    PG_OFF
    EXPECT eax, FILL_D + 2
    EXPECT dword [exc_eip], chk_pf_restart.insn
    EXPECT dword [vec_count + VEC_PF * 4], 1
    PASSED

; map_hook: maps FRAME_D at the faulting page (CR2) and lets the access run again.
map_hook:
    mov dword [PT_TEST + 3 * 4], FRAME_D | PG_P | PG_W
    ret

CHECK chk_wp0, "pg.wp0_supervisor_writes_read_only", "CR0.WP=0: CPL-0 writes to a read-only page succeed"
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P                 ; read-only
    PG_ON
    mov dword [TEST_VA + 4], 0x3C3C3C3C                 ; CR0.WP = 0: allowed at CPL 0
    PG_OFF
    EXPECT dword [FRAME_A + 4], 0x3C3C3C3C
    PASSED

CHECK chk_wp1, "pg.wp1_supervisor_write_read_only_faults", "CR0.WP=1: CPL-0 write to a read-only page is #PF(P|W) and writes nothing"
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P
    WP_ON
    PG_ON
    mov eax, [TEST_VA + 4]           ; reading is fine
    FAULT_PF a, PF_P | PF_W, TEST_VA + 8, {mov dword [TEST_VA + 8], 0}
    PG_OFF
    EXPECT dword [FRAME_A + 8], FILL_A + 2
    PASSED

CHECK chk_wp1_pde, "pg.wp1_read_only_pde_faults", "CR0.WP=1: R/W=0 in the PDE write-protects a writable PTE"
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P | PG_W
    and dword [PD + TEST_PDI * 4], ~PG_W                ; R/W = 0 in the PDE wins
    WP_ON
    PG_ON
    FAULT_PF a, PF_P | PF_W, TEST_VA, {mov dword [TEST_VA], 0}
    PASSED

CHECK chk_pf_rsvd, "pg.pf_reserved_bit_in_4m_pde", "bit 21 of a 4 MiB PDE is reserved: #PF(P|RSVD) for reads, (P|W|RSVD) for writes"
    call pg_setup
    mov dword [PD + BIG_PDI * 4], BIG_FRAME | PG_PSE_RSVD21 | PG_PS | PG_P | PG_W
    mov eax, cr4
    or eax, CR4_PSE
    mov cr4, eax
    PG_ON
    FAULT_PF a, PF_P | PF_RSVD, BIG_VA + 0x10, {mov eax, [BIG_VA + 0x10]}
    FAULT_PF b, PF_P | PF_W | PF_RSVD, BIG_VA + 0x20, {mov [BIG_VA + 0x20], eax}
    PASSED

; ---- user/supervisor -------------------------------------------------------------------------------------
%macro USER_PF 6                     ; label, name, error code, CR2, user instruction, description
CHECK %1, %2, %6
    call pg_setup
    call user_pages
    PG_ON
    TRY .back
    RING3 .user, 2
.user:
.f: %5
    int VEC_SYSCALL
.back:
    EXPECT_EXC VEC_PF, %3, .f
    EXPECT dword [exc_cr2], %4
    EXPECT dword [exc_cs], SEL_UCODE
    PASSED
%endmacro

; user_pages: TEST_VA page 0 = FRAME_A supervisor, page 1 = FRAME_B user read-only,
; page 2 = FRAME_C user writable, page 3 = not present; the PDE allows everything.
user_pages:
    mov dword [PT_TEST + 0 * 4], FRAME_A | PG_P | PG_W
    mov dword [PT_TEST + 1 * 4], FRAME_B | PG_P | PG_U
    mov dword [PT_TEST + 2 * 4], FRAME_C | PG_P | PG_W | PG_U
    ret

USER_PF chk_u_sup_read, "pg.pf_user_reads_supervisor_page", PF_P | PF_U, TEST_VA + 0x10, {mov eax, [TEST_VA + 0x10]}, "CPL-3 read of a supervisor page: #PF(P|U)"
USER_PF chk_u_sup_write, "pg.pf_user_writes_supervisor_page", PF_P | PF_W | PF_U, TEST_VA + 0x10, {mov [TEST_VA + 0x10], eax}, "CPL-3 write of a supervisor page: #PF(P|W|U)"
USER_PF chk_u_np_read, "pg.pf_user_reads_not_present", PF_U, TEST_VA + 0x3010, {mov eax, [TEST_VA + 0x3010]}, "CPL-3 read of a not-present page: #PF(U)"
USER_PF chk_u_np_write, "pg.pf_user_writes_not_present", PF_U | PF_W, TEST_VA + 0x3020, {mov [TEST_VA + 0x3020], eax}, "CPL-3 write of a not-present page: #PF(W|U)"

CHECK chk_u_ro_write, "pg.pf_user_writes_read_only_page", "CPL 3 reads a user read-only page, writes a user writable page, and faults #PF(P|W|U) writing the read-only one"
    call pg_setup
    call user_pages
    PG_ON                            ; CR0.WP = 0 does not matter for CPL 3
    mov dword [r3_val], 0
    TRY .back
    RING3 .user, 2
.user:
    mov eax, [TEST_VA + 0x1000 + 4]  ; user read of a user page: fine
    mov [r3_val], eax
    mov dword [TEST_VA + 0x2000 + 4], 0x99   ; user write to a writable user page: fine
.f: mov dword [TEST_VA + 0x1000 + 8], 0
    int VEC_SYSCALL
.back:
    EXPECT dword [r3_val], FILL_B + 1
    EXPECT_EXC VEC_PF, PF_P | PF_W | PF_U, .f
    EXPECT dword [exc_cr2], TEST_VA + 0x1008
    PG_OFF
    EXPECT dword [FRAME_C + 4], 0x99
    PASSED

CHECK chk_u_pde_sup, "pg.pf_user_through_supervisor_pde", "U/S=0 in the PDE denies CPL 3 even when the PTE allows it: #PF(P|U)"
    call pg_setup
    call user_pages
    and dword [PD + TEST_PDI * 4], ~PG_U         ; U/S = 0 in the PDE wins over the PTE
    PG_ON
    TRY .back
    RING3 .user, 2
.user:
.f: mov eax, [TEST_VA + 0x2000]
    int VEC_SYSCALL
.back:
    EXPECT_EXC VEC_PF, PF_P | PF_U, .f
    EXPECT dword [exc_cr2], TEST_VA + 0x2000
    PASSED

; ---- accessed and dirty ----------------------------------------------------------------------------------
CHECK chk_ad_read, "pg.accessed_set_on_read", "a read sets A in the PDE and the PTE, not D; a PDE of a page table gets no D"
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P | PG_W
    PG_ON
    mov eax, [TEST_VA]
    PG_OFF
    EXPECT_BITS dword [PD + TEST_PDI * 4], PG_A, PG_A
    EXPECT_BITS dword [PT_TEST], PG_A | PG_D, PG_A          ; a read does not set D
    EXPECT_BITS dword [PD + TEST_PDI * 4], PG_D, 0          ; a PDE of a page table has no D
    PASSED

CHECK chk_ad_write, "pg.dirty_set_on_write", "writes set A and D in the PTE (first touch a write, and a write after a read)"
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P | PG_W
    mov dword [PT_TEST + 4], FRAME_B | PG_P | PG_W
    PG_ON
    mov eax, [TEST_VA]
    mov dword [TEST_VA + 0x1000], 5  ; first touch is a write: A and D together
    mov dword [TEST_VA], 6           ; a write after a read: D added
    PG_OFF
    EXPECT_BITS dword [PT_TEST], PG_A | PG_D, PG_A | PG_D
    EXPECT_BITS dword [PT_TEST + 4], PG_A | PG_D, PG_A | PG_D
    PASSED

CHECK chk_ad_pse, "pg.accessed_dirty_in_4m_pde", "a 4 MiB page's PDE gets A on a read and D on a write"
    call pg_setup
    mov dword [PD + BIG_PDI * 4], BIG_FRAME | PG_PS | PG_P | PG_W
    mov eax, cr4
    or eax, CR4_PSE
    mov cr4, eax
    PG_ON
    mov eax, [BIG_VA]
    PG_OFF
    EXPECT_BITS dword [PD + BIG_PDI * 4], PG_A | PG_D, PG_A
    PG_ON
    mov [BIG_VA + 0x200000], eax
    PG_OFF
    EXPECT_BITS dword [PD + BIG_PDI * 4], PG_A | PG_D, PG_A | PG_D
    PASSED

CHECK chk_ad_fetch, "pg.accessed_set_on_fetch", "an instruction fetch sets A (not D) in the PTE"
    call pg_setup
    ; copy a RET into FRAME_D and call it through TEST_VA + 0x3000
    mov byte [FRAME_D], 0xC3
    mov dword [PT_TEST + 3 * 4], FRAME_D | PG_P
    PG_ON
    mov eax, TEST_VA + 0x3000
    call eax
    PG_OFF
    EXPECT_BITS dword [PT_TEST + 3 * 4], PG_A | PG_D, PG_A
    PASSED

; ---- TLB ---------------------------------------------------------------------------------------------------
CHECK chk_invlpg, "pg.invlpg_drops_stale_entry", "after a PTE change, INVLPG makes the new translation used"
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P | PG_W
    PG_ON
    mov eax, [TEST_VA]               ; the translation is now cached
    mov dword [PT_TEST], FRAME_B | PG_P | PG_W
    invlpg [TEST_VA]
    mov ebx, [TEST_VA]
    PG_OFF
    EXPECT eax, FILL_A
    EXPECT ebx, FILL_B
    PASSED

CHECK chk_cr3_flush, "pg.cr3_write_flushes_tlb", "after a PTE change, a CR3 write makes the new translation used"
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P | PG_W
    PG_ON
    mov eax, [TEST_VA]
    mov dword [PT_TEST], FRAME_C | PG_P | PG_W
    mov ecx, cr3
    mov cr3, ecx
    mov ebx, [TEST_VA]
    PG_OFF
    EXPECT eax, FILL_A
    EXPECT ebx, FILL_C
    PASSED

CHECK chk_cr3_switch, "pg.cr3_switch_address_space", "switching CR3 between two directories switches the mapping"
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P | PG_W
    ; a second directory (a copy) whose test table maps FRAME_B
    mov esi, PD
    mov edi, PD2
    mov ecx, 1024
    rep movsd
    mov dword [PD2 + TEST_PDI * 4], PT_TEST2 | PG_URW
    mov edi, PT_TEST2
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PT_TEST2], FRAME_B | PG_P | PG_W
    PG_ON
    mov eax, [TEST_VA]
    mov ecx, PD2
    mov cr3, ecx
    mov ebx, [TEST_VA]
    mov ecx, PD
    mov cr3, ecx
    mov edx, [TEST_VA]
    PG_OFF
    EXPECT eax, FILL_A
    EXPECT ebx, FILL_B
    EXPECT edx, FILL_A
    PASSED

CHECK chk_global_cr3, "pg.global_page_survives_cr3_write", "CR4.PGE: a global translation is still used after a CR3 write"
    ; with CR4.PGE, a global translation is not invalidated by a CR3 write (SDM Vol. 3A,
    ; 4.10.4.1); the CPU may still evict it, so this passes on a CPU that keeps what it is allowed
    ; to keep right after the access (as Intel and AMD CPUs do)
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P | PG_W | PG_G
    mov eax, cr4
    or eax, CR4_PGE
    mov cr4, eax
    PG_ON
    mov eax, [TEST_VA]
    mov dword [PT_TEST], FRAME_B | PG_P | PG_W | PG_G
    mov ecx, cr3
    mov cr3, ecx
    mov ebx, [TEST_VA]
    PG_OFF
    EXPECT eax, FILL_A
    EXPECT ebx, FILL_A               ; still the old, global translation
    PASSED

CHECK chk_global_pge, "pg.global_page_dropped_by_pge_toggle", "toggling CR4.PGE flushes global translations"
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P | PG_W | PG_G
    mov eax, cr4
    or eax, CR4_PGE
    mov cr4, eax
    PG_ON
    mov eax, [TEST_VA]
    mov dword [PT_TEST], FRAME_B | PG_P | PG_W | PG_G
    mov ecx, cr4
    and ecx, ~CR4_PGE
    mov cr4, ecx                     ; changing PGE flushes everything, global entries too
    or ecx, CR4_PGE
    mov cr4, ecx
    mov ebx, [TEST_VA]
    PG_OFF
    EXPECT eax, FILL_A
    EXPECT ebx, FILL_B
    PASSED

CHECK chk_global_invlpg, "pg.global_page_dropped_by_invlpg", "INVLPG flushes a global translation"
    call pg_setup
    mov dword [PT_TEST], FRAME_A | PG_P | PG_W | PG_G
    mov eax, cr4
    or eax, CR4_PGE
    mov cr4, eax
    PG_ON
    mov eax, [TEST_VA]
    mov dword [PT_TEST], FRAME_C | PG_P | PG_W | PG_G
    invlpg [TEST_VA]
    mov ebx, [TEST_VA]
    PG_OFF
    EXPECT eax, FILL_A
    EXPECT ebx, FILL_C
    PASSED

; ---- self-modifying code ---------------------------------------------------------------------------------
CHECK chk_smc_same, "smc.same_page_next_instruction", "a store into the immediate of the very next instruction is seen when it executes"
    mov dword [smc_same.patch + 1], 0          ; start from a known immediate
    call smc_same
    mov ebx, eax
    call smc_same
    EXPECT ebx, 42
    EXPECT eax, 42
    PASSED

; smc_same: writes 42 into the immediate of the MOV right after the store, then runs it.
smc_same:
    mov dword [.patch + 1], 42
.patch:
    mov eax, strict dword 0
    ret

CHECK chk_smc_again, "smc.code_changed_after_running", "a function that already ran is changed and runs the new code"
    mov dword [smc_fn + 1], 1
    call smc_fn
    mov ebx, eax
    mov dword [smc_fn + 1], 2        ; the old version has run (and may be cached)
    call smc_fn
    EXPECT ebx, 1
    EXPECT eax, 2
    PASSED

CHECK chk_smc_next_page, "smc.next_page", "code at the end of a page patches the first instruction of the next page and falls into it"
    ; a copy of smc_tail at the end of a page: it patches the first instruction of the next page
    ; and falls through into it
    mov esi, smc_tail
    mov edi, smc_page + 0x1000 - SMC_TAIL_LEN
    mov ecx, SMC_TAIL_LEN
    rep movsb
    mov byte [smc_page + 0x1000], 0xB8         ; mov eax, imm32
    mov dword [smc_page + 0x1001], 7
    mov byte [smc_page + 0x1005], 0xC3         ; ret
    mov eax, smc_page + 0x1000 - SMC_TAIL_LEN
    call eax
    mov ebx, eax
    mov eax, smc_page + 0x1000 - SMC_TAIL_LEN
    call eax
    EXPECT ebx, 99
    EXPECT eax, 99
    PASSED

; smc_tail: position-independent: patches the immediate just past its own end to 99.
smc_tail:
    call .here
.here:
    pop edx
    mov dword [edx + (smc_tail_end - .here) + 1], 99
smc_tail_end:
SMC_TAIL_LEN equ smc_tail_end - smc_tail

CHECK chk_smc_alias, "smc.write_through_alias", "code patched through a second linear mapping of its frame runs the new code"
    ; the frame of smc_page is also mapped at TEST_VA: code runs at its identity address,
    ; the patch goes through the alias
    call pg_setup
    mov byte [smc_page], 0xB8
    mov dword [smc_page + 1], 5
    mov byte [smc_page + 5], 0xC3
    mov eax, smc_page
    mov dword [PT_TEST], eax
    or dword [PT_TEST], PG_P | PG_W
    PG_ON
    mov eax, smc_page
    call eax
    mov ebx, eax
    mov dword [TEST_VA + 1], 6
    mov eax, smc_page
    call eax
    PG_OFF
    EXPECT ebx, 5
    EXPECT eax, 6
    PASSED

section .data
align 16
smc_fn:
    mov eax, strict dword 0
    ret
section .bss
alignb 4096
smc_page: resb 0x2000
pg_var:   resd 1
r3_val:   resd 1
PD2       equ 0x405000
PT_TEST2  equ 0x406000
section .text
