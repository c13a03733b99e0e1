; system — CPUID (leaf 0 and 1 consistent with what the CPU does: every feature it reports works,
; the MSRs of features it does not report raise #GP; leaves beyond the maximum return what the SDM
; says), RDTSC (monotonic, CR4.TSD at CPL 3), RDMSR/WRMSR (TSC, SYSENTER_CS/ESP/EIP, #GP for an
; unimplemented MSR), interrupts from the 8259 PIC and 8254 PIT (HLT woken by IRQ0, CLI holding an
; IRQ pending, the one-instruction shadows of STI and MOV SS), and port I/O in every width (UART
; scratch register, CMOS RAM, PIC registers, INS/OUTS).
%define GUEST_NAME "system"
%include "lib/kernel.inc"
%include "lib/check.inc"

guest_main:
    call run_checks
    ret

; ---- constants -------------------------------------------------------------------------------------------
CPUID_FPU  equ 1 << 0                ; CPUID.1:EDX feature bits (SDM Vol. 2, table 3-11)
CPUID_DE   equ 1 << 2
CPUID_PSE  equ 1 << 3
CPUID_TSC  equ 1 << 4
CPUID_MSR  equ 1 << 5
CPUID_PAE  equ 1 << 6
CPUID_MCE  equ 1 << 7
CPUID_CX8  equ 1 << 8
CPUID_APIC equ 1 << 9
CPUID_SEP  equ 1 << 11
CPUID_MTRR equ 1 << 12
CPUID_PGE  equ 1 << 13
CPUID_MCA  equ 1 << 14
CPUID_CMOV equ 1 << 15
CPUID_PAT  equ 1 << 16
CR4_DE     equ 0x08
CR4_PAE    equ 0x20

MSR_TSC           equ 0x10
MSR_APIC_BASE     equ 0x1B
MSR_MTRRCAP       equ 0xFE
MSR_SYSENTER_CS   equ 0x174
MSR_SYSENTER_ESP  equ 0x175
MSR_SYSENTER_EIP  equ 0x176
MSR_MCG_CAP       equ 0x179
MSR_PAT           equ 0x277
MSR_BOGUS         equ 0xDEAD0000     ; in no architectural or vendor MSR range

PIT_CH0    equ 0x40
PIT_CMD    equ 0x43
PIT_MODE2  equ 0x34                  ; channel 0, lobyte/hibyte, mode 2 (rate generator), binary
PIT_MODE0  equ 0x30                  ; channel 0, lobyte/hibyte, mode 0 (one interrupt on terminal count), binary
PIT_HZ     equ 1193182
PIT_1KHZ   equ (PIT_HZ + 500) / 1000
PIC_READ_IRR equ 0x0A                ; OCW3: read IRR on the next read of the command port
PIC_READ_ISR equ 0x0B                ; OCW3: read ISR
CMOS_INDEX equ 0x70
CMOS_DATA  equ 0x71
CMOS_NMI_OFF equ 0x80                ; index bit 7: NMI disabled
CMOS_RAM_A equ 0x34                  ; general-purpose CMOS RAM bytes (0x0E-0x7F) used as scratch
CMOS_RAM_B equ 0x35
WAIT_LOOPS equ 50000000              ; bound on busy waits for an IRQ (far more than 1 ms)

; ---- helpers ---------------------------------------------------------------------------------------------
; cpuid1: EDX of CPUID leaf 1 -> [feat_edx]. Preserves registers.
cpuid1:
    pushad
    mov eax, 1
    cpuid
    mov [feat_edx], edx
    mov [feat_eax], eax
    popad
    ret

; rdmsr_try: ECX = MSR -> EAX = 0 if RDMSR worked (value in msr_lo/msr_hi), else the vector.
rdmsr_try:
    call clear_exc
    TRY .caught
    rdmsr
    DISARM
    mov [msr_lo], eax
    mov [msr_hi], edx
    xor eax, eax
    ret
.caught:
    mov eax, [exc_vec]
    ret

; FEATURE_MSR label, name, feature bit, MSR: reported -> the MSR reads; not reported -> #GP
%macro FEATURE_MSR 5                 ; label, name, feature bit, MSR, description
CHECK %1, %2, %5
    call cpuid1
    mov ecx, %4
    call rdmsr_try
    test dword [feat_edx], %3
    jz .absent
    EXPECT eax, 0
    PASSED
.absent:
    EXPECT eax, VEC_GP
    PASSED
%endmacro

; pit_start: PIT channel 0 at 1 kHz, IRQ0 unmasked (the default hook EOIs and counts it).
pit_start:
    push eax
    mov al, PIT_MODE2
    jmp pit_program

; pit_oneshot: PIT channel 0 in mode 0, one IRQ0 edge 1 ms from now and no more (so a check can
; count interrupts exactly however long the host stops the CPU), IRQ0 unmasked.
pit_oneshot:
    push eax
    mov al, PIT_MODE0
; pit_program: channel 0 in mode AL with the 1 ms count, IRQ0 unmasked; pops EAX and returns.
pit_program:
    out PIT_CMD, al
    mov al, PIT_1KHZ & 0xFF
    out PIT_CH0, al
    mov al, PIT_1KHZ >> 8
    out PIT_CH0, al
    mov al, 0xFE                     ; OCW1: only IRQ0
    out PIC1_DATA, al
    pop eax
    ret

; pic_mask_all: OCW1 masks every IRQ again.
pic_mask_all:
    push eax
    mov al, 0xFF
    out PIC1_DATA, al
    pop eax
    ret

; wait_irr0: waits (IF = 0) until the master PIC has IRQ0 pending -> EAX = 1, or 0 on timeout.
wait_irr0:
    push ecx
    mov ecx, WAIT_LOOPS
.poll:
    mov al, PIC_READ_IRR
    out PIC1_CMD, al
    in al, PIC1_CMD
    test al, 1
    jnz .yes
    dec ecx
    jnz .poll
    xor eax, eax
    pop ecx
    ret
.yes:
    mov eax, 1
    pop ecx
    ret

; first_irq_hook: IRQ0 handler recording the EIP and the marker at the first interrupt; EOI.
first_irq_hook:
    push eax
    cmp dword [irq_n], 0
    jne .eoi
    mov eax, [esp + 8 + FRAME_EIP]
    mov [irq_eip], eax
    mov eax, [marker]
    mov [irq_marker], eax
.eoi:
    inc dword [irq_n]
    mov al, PIC_EOI
    out PIC1_CMD, al
    pop eax
    ret

%macro IRQ0_FIRST 0
    mov dword [irq_n], 0
    mov dword [irq_eip], 0
    mov dword [marker], 0
    mov dword [irq_marker], 0xFFFFFFFF
    mov byte [vec_mode + IRQ_BASE], MODE_HOOK
    mov dword [vec_hook + IRQ_BASE * 4], first_irq_hook
%endmacro

sys_clean:
    call pic_mask_all
    ret

; ---- CPUID -----------------------------------------------------------------------------------------------
CHECK chk_cpuid0, "cpuid.leaf0_vendor", "CPUID 0: maximum leaf >= 1, a printable 12-byte vendor"
    xor eax, eax
    cpuid
    mov [cpuid_max], eax
    mov [vendor], ebx
    mov [vendor + 4], edx
    mov [vendor + 8], ecx
    cmp eax, 1
    jb .bad_max
    mov esi, vendor
    mov ecx, 12
.chars:
    lodsb
    cmp al, 0x20
    jb .bad_char
    cmp al, 0x7E
    ja .bad_char
    loop .chars
    PASSED
.bad_max:
    FAILNOW 1, eax
.bad_char:
    movzx eax, al
    FAILNOW 0x20, eax

CHECK chk_cpuid1, "cpuid.leaf1_family_and_base_features", "CPUID 1: family >= 4; FPU TSC MSR CX8 CMOV PSE PAE PGE reported"
    call cpuid1
    mov eax, [feat_eax]
    shr eax, 8
    and eax, 0xF
    cmp eax, 4                       ; family 4 (i486) or later: CPUID exists since late i486
    jb .bad
    ; what a CPU that runs 32-bit kernels and this project needs: FPU TSC MSR CX8 CMOV PSE PAE PGE
    EXPECT_BITS dword [feat_edx], CPUID_FPU | CPUID_TSC | CPUID_MSR | CPUID_CX8 | CPUID_CMOV | CPUID_PSE | CPUID_PAE | CPUID_PGE, CPUID_FPU | CPUID_TSC | CPUID_MSR | CPUID_CX8 | CPUID_CMOV | CPUID_PSE | CPUID_PAE | CPUID_PGE
    PASSED
.bad:
    FAILNOW 4, eax

CHECK chk_cpuid_beyond, "cpuid.basic_leaf_beyond_max", "CPUID above the maximum basic leaf returns the highest basic leaf's data (zeros on AMD)"
    ; SDM Vol. 2, CPUID: an input above the maximum basic leaf returns the data of the highest
    ; basic leaf (AMD CPUs return zeros: checked when the vendor is AuthenticAMD)
    xor eax, eax
    cpuid
    mov esi, eax
    mov [vendor], ebx
    mov eax, esi
    xor ecx, ecx
    cpuid
    mov [leaf_a], eax
    mov [leaf_a + 4], ebx
    mov [leaf_a + 8], ecx
    mov [leaf_a + 12], edx
    lea eax, [esi + 1]
    xor ecx, ecx
    cpuid
    cmp dword [vendor], 'Auth'
    je .amd
    EXPECT eax, [leaf_a]
    EXPECT ebx, [leaf_a + 4]
    EXPECT ecx, [leaf_a + 8]
    EXPECT edx, [leaf_a + 12]
    PASSED
.amd:
    or eax, ebx
    or eax, ecx
    or eax, edx
    EXPECT eax, 0
    PASSED

CHECK chk_cpuid_ext, "cpuid.extended_leaves", "extended leaves: a printable NUL-terminated brand string; beyond the maximum: the highest basic leaf (zeros on AMD)"
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000000
    jbe .none                        ; no extended leaves: nothing more to check
    mov [ext_max], eax
    ; beyond the maximum extended leaf: Intel returns the highest basic leaf's data
    xor eax, eax
    cpuid
    mov [vendor], ebx
    xor ecx, ecx
    cpuid                            ; EAX = max basic leaf
    mov [leaf_a], eax
    mov [leaf_a + 4], ebx
    mov [leaf_a + 8], ecx
    mov [leaf_a + 12], edx
    mov eax, [ext_max]
    cmp eax, 0x80000004
    jb .beyond
    ; the brand string: 48 bytes of printable ASCII, NUL-terminated
    mov edi, brand
    mov esi, 0x80000002
.brand:
    mov eax, esi
    cpuid
    stosd
    mov eax, ebx
    stosd
    mov eax, ecx
    stosd
    mov eax, edx
    stosd
    inc esi
    cmp esi, 0x80000005
    jb .brand
    mov esi, brand
    mov ecx, 48
.bchar:
    lodsb
    test al, al
    jz .bend
    cmp al, 0x20
    jb .bad_char
    cmp al, 0x7E
    ja .bad_char
    loop .bchar
    FAILNOW 0, 48                    ; no NUL in 48 bytes
.bend:
.beyond:
    mov eax, [ext_max]
    inc eax
    xor ecx, ecx
    cpuid
    cmp dword [vendor], 'Auth'
    je .amd
    EXPECT eax, [leaf_a]
    EXPECT ebx, [leaf_a + 4]
    EXPECT ecx, [leaf_a + 8]
    EXPECT edx, [leaf_a + 12]
    PASSED
.amd:
    or eax, ebx
    or eax, ecx
    or eax, edx
    EXPECT eax, 0
.none:
    PASSED
.bad_char:
    movzx eax, al
    FAILNOW 0x20, eax

CHECK chk_feat_fpu, "cpuid.fpu_works", "FPU reported: FNINIT clears the status word, FLD1/FADDP/FISTP compute 2"
    call cpuid1
    test dword [feat_edx], CPUID_FPU
    jz .skip
    clts
    fninit
    fnstsw ax
    movzx eax, ax
    EXPECT eax, 0                    ; FNINIT clears the status word
    fld1
    fld1
    faddp st1, st0
    fistp dword [fpu_out]
    EXPECT dword [fpu_out], 2
    fnstsw ax
    and eax, 0x3800                  ; TOP back to 0
    EXPECT eax, 0
.skip:
    PASSED

CHECK chk_feat_tsc, "cpuid.tsc_rdtsc_works", "TSC reported: RDTSC does not fault"
    call cpuid1
    test dword [feat_edx], CPUID_TSC
    jz .skip
    TRY .caught
    rdtsc
    DISARM
.skip:
    PASSED
.caught:
    FAILNOW 0xFFFFFFFF, dword [exc_vec]

CHECK chk_feat_cx8, "cpuid.cx8_cmpxchg8b_works", "CX8 reported: CMPXCHG8B works"
    call cpuid1
    test dword [feat_edx], CPUID_CX8
    jz .skip
    mov dword [q64], 1
    mov dword [q64 + 4], 2
    mov eax, 1
    mov edx, 2
    mov ebx, 3
    mov ecx, 4
    cmpxchg8b [q64]
    EXPECT dword [q64], 3
    EXPECT dword [q64 + 4], 4
.skip:
    PASSED

CHECK chk_feat_cmov, "cpuid.cmov_works", "CMOV reported: CMOVE works"
    call cpuid1
    test dword [feat_edx], CPUID_CMOV
    jz .skip
    mov eax, 1
    mov ebx, 2
    cmp eax, eax
    cmove eax, ebx
    EXPECT eax, 2
.skip:
    PASSED

; CR4_BIT label, name, feature, CR4 bit: reported -> the bit can be set and reads back
%macro CR4_BIT 5                     ; label, name, feature bit, CR4 bit, description
CHECK %1, %2, %5
    call cpuid1
    test dword [feat_edx], %3
    jz .skip
    mov eax, cr4
    or eax, %4
    mov cr4, eax
    mov ebx, cr4
    and eax, ~%4
    mov cr4, eax
    EXPECT_BITS ebx, %4, %4
.skip:
    PASSED
%endmacro
CR4_BIT chk_feat_pse, "cpuid.pse_cr4_bit", CPUID_PSE, CR4_PSE, "PSE reported: CR4.PSE can be set"
CR4_BIT chk_feat_pae, "cpuid.pae_cr4_bit", CPUID_PAE, CR4_PAE, "PAE reported: CR4.PAE can be set"
CR4_BIT chk_feat_pge, "cpuid.pge_cr4_bit", CPUID_PGE, CR4_PGE, "PGE reported: CR4.PGE can be set"
CR4_BIT chk_feat_de, "cpuid.de_cr4_bit", CPUID_DE, CR4_DE, "DE reported: CR4.DE can be set"

FEATURE_MSR chk_feat_msr, "cpuid.msr_rdmsr_tsc", CPUID_MSR, MSR_TSC, "MSR reported: RDMSR 0x10 works (not reported: #GP)"
FEATURE_MSR chk_feat_sep, "cpuid.sep_sysenter_msrs", CPUID_SEP, MSR_SYSENTER_CS, "SEP reported: SYSENTER_CS reads (not reported: #GP)"
FEATURE_MSR chk_feat_mtrr, "cpuid.mtrr_mtrrcap_msr", CPUID_MTRR, MSR_MTRRCAP, "MTRR reported: MTRRcap (0xFE) reads (not reported: #GP)"
FEATURE_MSR chk_feat_pat, "cpuid.pat_msr", CPUID_PAT, MSR_PAT, "PAT reported: IA32_PAT (0x277) reads (not reported: #GP)"
FEATURE_MSR chk_feat_mca, "cpuid.mca_mcg_cap_msr", CPUID_MCA, MSR_MCG_CAP, "MCA reported: MCG_CAP (0x179) reads (not reported: #GP)"
FEATURE_MSR chk_feat_apic, "cpuid.apic_base_msr", CPUID_APIC, MSR_APIC_BASE, "APIC reported: IA32_APIC_BASE (0x1B) reads (not reported: #GP)"

CHECK chk_apic_mmio, "cpuid.apic_mmio_version", "APIC reported and enabled: its MMIO version register says integrated APIC with >= 4 LVT entries"
    call cpuid1
    test dword [feat_edx], CPUID_APIC
    jz .skip
    mov ecx, MSR_APIC_BASE
    rdmsr
    test eax, 1 << 11                ; IA32_APIC_BASE.EN
    jz .skip
    and eax, 0xFFFFF000
    mov eax, [eax + 0x30]            ; local APIC version register
    mov ebx, eax
    and eax, 0xF0                    ; an integrated APIC reports version 0x1X
    EXPECT eax, 0x10
    shr ebx, 16
    and ebx, 0xFF                    ; max LVT entry: at least LINT0, LINT1, error, timer
    cmp ebx, 3
    jb .bad
.skip:
    PASSED
.bad:
    FAILNOW 3, ebx

; ---- TSC and MSRs --------------------------------------------------------------------------------------
CHECK chk_tsc_mono, "tsc.rdtsc_monotonic", "RDTSC never goes backwards over 1000 reads and moves across a busy loop"
    rdtsc
    mov esi, eax
    mov edi, edx
    mov ecx, 1000
.l: rdtsc
    cmp edx, edi
    jb .bad
    ja .ok
    cmp eax, esi
    jb .bad
.ok:
    mov esi, eax
    mov edi, edx
    loop .l
    ; and it moves: a busy loop later the value is larger
    rdtsc
    mov [t0], eax
    mov [t0 + 4], edx
    mov ecx, 100000
.spin:
    loop .spin
    rdtsc
    sub eax, [t0]
    sbb edx, [t0 + 4]
    or eax, edx
    jz .still
    PASSED
.bad:
    FAILNOW esi, eax
.still:
    FAILNOW 1, 0

CHECK chk_tsc_msr, "msr.tsc_read_write", "RDMSR 0x10 reads the counter RDTSC reads; WRMSR 0x10 sets it (up, then back down)"
    rdtsc
    mov esi, eax
    mov edi, edx
    mov ecx, MSR_TSC
    rdmsr                            ; IA32_TIME_STAMP_COUNTER = what RDTSC reads, a bit later
    sub eax, esi
    sbb edx, edi
    EXPECT edx, 0                    ; later by less than 2^32 cycles
    ; WRMSR sets it (the value fits in 32 bits: older CPUs clear the upper half on writes)
    mov ecx, MSR_TSC
    mov eax, TSC_HIGH
    xor edx, edx
    wrmsr
    rdtsc
    EXPECT edx, 0
    cmp eax, TSC_HIGH
    jb .low
    mov ecx, MSR_TSC
    xor eax, eax
    xor edx, edx
    wrmsr                            ; and back near 0: a TSC that ignored the writes cannot
    rdtsc                            ; be at or above TSC_HIGH and then below it
    EXPECT edx, 0
    cmp eax, TSC_HIGH
    jae .high
    PASSED
.low:
    FAILNOW TSC_HIGH, eax
.high:
    FAILNOW 0, eax

TSC_HIGH equ 0xC0000000

CHECK chk_sysenter_msrs, "msr.sysenter_cs_esp_eip", "SEP reported: SYSENTER_CS/ESP/EIP (0x174-0x176) keep what WRMSR wrote"
    call cpuid1
    test dword [feat_edx], CPUID_SEP
    jz .skip
    mov ecx, MSR_SYSENTER_CS
    mov eax, SEL_KCODE
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    EXPECT eax, SEL_KCODE
    mov ecx, MSR_SYSENTER_ESP
    mov eax, 0x12345678
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    EXPECT eax, 0x12345678
    mov ecx, MSR_SYSENTER_EIP
    mov eax, 0x0BADC0DE
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    EXPECT eax, 0x0BADC0DE
.skip:
    PASSED

CHECK chk_msr_bogus_rd, "msr.rdmsr_unimplemented_gp", "RDMSR of an unimplemented MSR is #GP(0)"
    mov ecx, MSR_BOGUS
    call rdmsr_try
    EXPECT eax, VEC_GP
    EXPECT dword [exc_err], 0
    PASSED

CHECK chk_msr_bogus_wr, "msr.wrmsr_unimplemented_gp", "WRMSR of an unimplemented MSR is #GP(0) at the WRMSR"
    mov ecx, MSR_BOGUS
    xor eax, eax
    xor edx, edx
    TRY .caught
.insn:
    wrmsr
    DISARM
    NOEXC VEC_GP
.caught:
    EXPECT_EXC VEC_GP, 0, .insn
    PASSED

CHECK chk_tsd, "tsc.rdtsc_cpl3_with_tsd_gp", "CR4.TSD=1: RDTSC at CPL 3 is #GP(0)"
    mov eax, cr4
    or eax, CR4_TSD
    mov cr4, eax
    TRY .back
    RING3 .user, 2
.user:
.f: rdtsc
    int VEC_SYSCALL
.back:
    EXPECT_EXC VEC_GP, 0, .f
    PASSED

CHECK chk_tsd0, "tsc.rdtsc_cpl3_without_tsd_ok", "CR4.TSD=0: RDTSC at CPL 3 works"
    TRY .back
    RING3 .user, 2
.user:
    rdtsc
    int VEC_SYSCALL
.back:
    EXPECT dword [exc_vec], VEC_SYSCALL
    PASSED

; ---- interrupts ------------------------------------------------------------------------------------------
CHECK chk_hlt_irq0, "irq.hlt_woken_by_pit_irq0", "STI; HLT is woken by the PIT's IRQ0 through the 8259 (exactly one interrupt)"
    mov dword [sanitize_hook], sys_clean
    call pit_oneshot
    sti
    hlt                              ; the PIT's one tick (within 1 ms) wakes it
    cli
    call pic_mask_all
    EXPECT_BITS dword [vec_count + IRQ_BASE * 4], 0xFFFFFFFF, 1
    PASSED

CHECK chk_cli_holds, "irq.cli_keeps_irq_pending", "with IF=0 an IRQ stays pending in the PIC's IRR and is taken once IF=1"
    mov dword [sanitize_hook], sys_clean
    IRQ0_FIRST
    call pit_oneshot
    call wait_irr0                   ; IF = 0: the IRQ stays pending at the PIC
    EXPECT eax, 1
    EXPECT dword [irq_n], 0
    sti
    nop
    nop
    cli
    call pic_mask_all
    EXPECT dword [irq_n], 1          ; taken once IF = 1 (the one-shot PIT raises no other)
    PASSED

CHECK chk_sti_shadow, "irq.sti_shadow_one_instruction", "a pending IRQ is taken after the instruction following STI, not before it"
    mov dword [sanitize_hook], sys_clean
    IRQ0_FIRST
    call pit_start
    call wait_irr0
    EXPECT eax, 1
    sti
    mov dword [marker], 1            ; runs before the pending interrupt is taken
.after:
    nop
    cli
    call pic_mask_all
    EXPECT dword [irq_marker], 1
    EXPECT dword [irq_eip], .after
    PASSED

CHECK chk_sti_hlt, "irq.sti_hlt_wakes_after_hlt", "STI; HLT with an IRQ pending: the saved EIP is after the HLT"
    mov dword [sanitize_hook], sys_clean
    IRQ0_FIRST
    call pit_start
    call wait_irr0
    EXPECT eax, 1
    sti
    hlt                              ; the pending IRQ is taken after HLT has started
.after:
    cli
    call pic_mask_all
    EXPECT dword [irq_eip], .after
    PASSED

CHECK chk_movss_shadow, "irq.mov_ss_delays_single_step", "MOV SS holds back the single-step #DB until after the next instruction"
    ; MOV SS inhibits the #DB of a single step until after the next instruction
    mov byte [vec_mode + VEC_DB], MODE_HOOK
    mov dword [vec_hook + VEC_DB * 4], step_hook
    mov dword [step_n], 0
    mov ax, ss
    pushfd
    or dword [esp], FL_TF
    popfd
    nop
.m: mov ss, ax
.n: nop
.o: nop
.p: pushfd
    and dword [esp], ~FL_TF
    popfd
    EXPECT dword [step_eip], .m
    EXPECT dword [step_eip + 4], .o  ; nothing between MOV SS and the next instruction
    EXPECT dword [step_eip + 8], .p
    PASSED

; step_hook: records the saved EIP of each #DB (up to 8).
step_hook:
    push eax
    push ecx
    mov ecx, [step_n]
    cmp ecx, 8
    jae .full
    mov eax, [esp + 12 + FRAME_EIP]
    mov [step_eip + ecx * 4], eax
    inc dword [step_n]
.full:
    pop ecx
    pop eax
    ret

; ---- port I/O ---------------------------------------------------------------------------------------------
CHECK chk_io8, "io.byte_uart_scratch_and_cmos", "8-bit IN/OUT (DX and imm8 forms) to the UART scratch register and CMOS RAM"
    mov dx, COM1 + UART_SCR
    mov al, 0xA7
    out dx, al
    xor eax, eax
    in al, dx
    EXPECT eax, 0xA7
    mov al, CMOS_RAM_A | CMOS_NMI_OFF
    out CMOS_INDEX, al               ; imm8 port forms
    mov al, 0x3E
    out CMOS_DATA, al
    mov al, CMOS_RAM_A | CMOS_NMI_OFF
    out CMOS_INDEX, al
    xor eax, eax
    in al, CMOS_DATA
    EXPECT eax, 0x3E
    PASSED

CHECK chk_io16_out, "io.word_out_splits_into_bytes", "16-bit OUT to port 0x70 writes AL to 0x70 and AH to 0x71"
    ; a 16-bit OUT to 0x70 writes AL to the index port and AH to the data port
    mov ax, (0x5C << 8) | CMOS_RAM_B | CMOS_NMI_OFF
    out CMOS_INDEX, ax
    mov al, CMOS_RAM_B | CMOS_NMI_OFF
    out CMOS_INDEX, al
    xor eax, eax
    in al, CMOS_DATA
    EXPECT eax, 0x5C
    PASSED

CHECK chk_io32_out, "io.dword_out_low_bytes", "32-bit OUT to port 0x70 writes its low bytes to 0x70 and 0x71"
    mov eax, 0xFFFF0000 | (0x6D << 8) | CMOS_RAM_B | CMOS_NMI_OFF
    mov dx, CMOS_INDEX
    out dx, eax
    mov al, CMOS_RAM_B | CMOS_NMI_OFF
    out CMOS_INDEX, al
    xor eax, eax
    in al, CMOS_DATA
    EXPECT eax, 0x6D
    PASSED

CHECK chk_io16_in, "io.word_in_reads_two_ports", "16- and 32-bit IN from 0x20 read the PIC's ISR and IMR (0x20, 0x21) into the low bytes"
    ; IN AX from 0x20: AL = the master PIC's ISR (selected by OCW3), AH = its IMR at 0x21
    mov al, 0xB5
    out PIC1_DATA, al
    mov al, PIC_READ_ISR
    out PIC1_CMD, al
    mov eax, 0xFFFFFFFF
    in ax, PIC1_CMD
    mov ebx, eax
    mov eax, 0xFFFFFFFF
    mov dx, PIC1_CMD
    in eax, dx                       ; 32-bit: the low two bytes are the same two registers
    mov ecx, eax
    call pic_mask_all
    EXPECT ebx, 0xFFFF0000 | 0xB500
    and ecx, 0xFFFF
    EXPECT ecx, 0xB500
    PASSED

CHECK chk_ins_outs, "io.rep_outsb_insb", "REP OUTSB and INSB / REP INSB (DF=1) with the UART scratch register"
    mov dword [io_buf], 0x44332211
    mov esi, io_buf
    mov dx, COM1 + UART_SCR
    mov ecx, 3
    rep outsb                        ; the scratch register keeps the last byte
    EXPECT esi, io_buf + 3
    EXPECT ecx, 0
    mov edi, io_buf + 8
    mov dword [io_buf + 8], 0
    insb
    EXPECT edi, io_buf + 9
    EXPECT dword [io_buf + 8], 0x33
    mov edi, io_buf + 16
    mov ecx, 2
    std
    rep insb                         ; DF = 1: io_buf + 16, then + 15
    cld
    EXPECT edi, io_buf + 14
    EXPECT16 word [io_buf + 15], 0x3333
    PASSED

section .bss
alignb 8
q64:        resq 1
t0:         resq 1
feat_eax:   resd 1
feat_edx:   resd 1
cpuid_max:  resd 1
ext_max:    resd 1
vendor:     resb 16
leaf_a:     resd 4
brand:      resb 52
fpu_out:    resd 1
msr_lo:     resd 1
msr_hi:     resd 1
irq_n:      resd 1
irq_eip:    resd 1
irq_marker: resd 1
marker:     resd 1
step_n:     resd 1
step_eip:   resd 8
io_buf:     resb 32
section .text
