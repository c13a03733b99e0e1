/**
 * The x86 opcode map in the notation of the Intel SDM, Volume 2, Appendix A: a mnemonic and its
 * operands as addressing-method letter + size letter.
 *
 * Addressing methods: E ModRM r/m (register or memory), G ModRM reg, M ModRM memory only,
 * R ModRM r/m register only, I immediate, J relative offset, O absolute offset (moffs),
 * A far pointer immediate, S segment register from ModRM reg, C control and D debug register
 * from ModRM reg, X DS:rSI, Y ES:rDI, Z register from the low three opcode bits.
 * Fixed registers are named (AL, CL, DX, eAX, ES, ...); `1` is the constant 1.
 * Sizes: b byte, w word, d dword, v word/dword by operand size, z word for 16-bit operand size
 * else dword, p far pointer, q qword, a BOUND pair, s pseudo-descriptor. `Ibs` is an immediate
 * byte sign-extended to the operand size.
 *
 * `SSE Ex` marks the SSE/SSE2 opcodes handlers/sse-move.ts decodes itself (by mandatory prefix).
 * `#Gn` entries take their mnemonic from GROUPS[n] by ModRM.reg; group entries may carry their
 * own operands. `prefix`, `escape` and `x87` mark bytes the decoder handles itself; null is #UD.
 * The same table drives the decoder and the instruction tests.
 */

/** One-byte opcodes 00-FF. */
export const ONE_BYTE: readonly (string | null)[] = [
  /* 00 */ 'ADD Eb,Gb', 'ADD Ev,Gv', 'ADD Gb,Eb', 'ADD Gv,Ev', 'ADD AL,Ib', 'ADD eAX,Iz', 'PUSH ES', 'POP ES',
  /* 08 */ 'OR Eb,Gb', 'OR Ev,Gv', 'OR Gb,Eb', 'OR Gv,Ev', 'OR AL,Ib', 'OR eAX,Iz', 'PUSH CS', 'escape',
  /* 10 */ 'ADC Eb,Gb', 'ADC Ev,Gv', 'ADC Gb,Eb', 'ADC Gv,Ev', 'ADC AL,Ib', 'ADC eAX,Iz', 'PUSH SS', 'POP SS',
  /* 18 */ 'SBB Eb,Gb', 'SBB Ev,Gv', 'SBB Gb,Eb', 'SBB Gv,Ev', 'SBB AL,Ib', 'SBB eAX,Iz', 'PUSH DS', 'POP DS',
  /* 20 */ 'AND Eb,Gb', 'AND Ev,Gv', 'AND Gb,Eb', 'AND Gv,Ev', 'AND AL,Ib', 'AND eAX,Iz', 'prefix', 'DAA',
  /* 28 */ 'SUB Eb,Gb', 'SUB Ev,Gv', 'SUB Gb,Eb', 'SUB Gv,Ev', 'SUB AL,Ib', 'SUB eAX,Iz', 'prefix', 'DAS',
  /* 30 */ 'XOR Eb,Gb', 'XOR Ev,Gv', 'XOR Gb,Eb', 'XOR Gv,Ev', 'XOR AL,Ib', 'XOR eAX,Iz', 'prefix', 'AAA',
  /* 38 */ 'CMP Eb,Gb', 'CMP Ev,Gv', 'CMP Gb,Eb', 'CMP Gv,Ev', 'CMP AL,Ib', 'CMP eAX,Iz', 'prefix', 'AAS',
  /* 40 */ 'INC Zv', 'INC Zv', 'INC Zv', 'INC Zv', 'INC Zv', 'INC Zv', 'INC Zv', 'INC Zv',
  /* 48 */ 'DEC Zv', 'DEC Zv', 'DEC Zv', 'DEC Zv', 'DEC Zv', 'DEC Zv', 'DEC Zv', 'DEC Zv',
  /* 50 */ 'PUSH Zv', 'PUSH Zv', 'PUSH Zv', 'PUSH Zv', 'PUSH Zv', 'PUSH Zv', 'PUSH Zv', 'PUSH Zv',
  /* 58 */ 'POP Zv', 'POP Zv', 'POP Zv', 'POP Zv', 'POP Zv', 'POP Zv', 'POP Zv', 'POP Zv',
  /* 60 */ 'PUSHA', 'POPA', 'BOUND Gv,Ma', 'ARPL Ew,Gw', 'prefix', 'prefix', 'prefix', 'prefix',
  /* 68 */ 'PUSH Iz', 'IMUL Gv,Ev,Iz', 'PUSH Ibs', 'IMUL Gv,Ev,Ibs', 'INS Yb,DX', 'INS Yz,DX', 'OUTS DX,Xb', 'OUTS DX,Xz',
  /* 70 */ 'JCC Jb', 'JCC Jb', 'JCC Jb', 'JCC Jb', 'JCC Jb', 'JCC Jb', 'JCC Jb', 'JCC Jb',
  /* 78 */ 'JCC Jb', 'JCC Jb', 'JCC Jb', 'JCC Jb', 'JCC Jb', 'JCC Jb', 'JCC Jb', 'JCC Jb',
  /* 80 */ '#G1 Eb,Ib', '#G1 Ev,Iz', '#G1 Eb,Ib', '#G1 Ev,Ibs', 'TEST Eb,Gb', 'TEST Ev,Gv', 'XCHG Eb,Gb', 'XCHG Ev,Gv',
  /* 88 */ 'MOV Eb,Gb', 'MOV Ev,Gv', 'MOV Gb,Eb', 'MOV Gv,Ev', 'MOV Ev,Sw', 'LEA Gv,M', 'MOV Sw,Ew', '#G1A Ev',
  /* 90 */ 'NOP', 'XCHG Zv,eAX', 'XCHG Zv,eAX', 'XCHG Zv,eAX', 'XCHG Zv,eAX', 'XCHG Zv,eAX', 'XCHG Zv,eAX', 'XCHG Zv,eAX',
  /* 98 */ 'CBW', 'CWD', 'CALLF Ap', 'FWAIT', 'PUSHF', 'POPF', 'SAHF', 'LAHF',
  /* A0 */ 'MOV AL,Ob', 'MOV eAX,Ov', 'MOV Ob,AL', 'MOV Ov,eAX', 'MOVS Yb,Xb', 'MOVS Yv,Xv', 'CMPS Xb,Yb', 'CMPS Xv,Yv',
  /* A8 */ 'TEST AL,Ib', 'TEST eAX,Iz', 'STOS Yb,AL', 'STOS Yv,eAX', 'LODS AL,Xb', 'LODS eAX,Xv', 'SCAS AL,Yb', 'SCAS eAX,Yv',
  /* B0 */ 'MOV Zb,Ib', 'MOV Zb,Ib', 'MOV Zb,Ib', 'MOV Zb,Ib', 'MOV Zb,Ib', 'MOV Zb,Ib', 'MOV Zb,Ib', 'MOV Zb,Ib',
  /* B8 */ 'MOV Zv,Iv', 'MOV Zv,Iv', 'MOV Zv,Iv', 'MOV Zv,Iv', 'MOV Zv,Iv', 'MOV Zv,Iv', 'MOV Zv,Iv', 'MOV Zv,Iv',
  /* C0 */ '#G2 Eb,Ib', '#G2 Ev,Ib', 'RET Iw', 'RET', 'LES Gz,Mp', 'LDS Gz,Mp', '#G11 Eb,Ib', '#G11 Ev,Iz',
  /* C8 */ 'ENTER Iw,Ib', 'LEAVE', 'RETF Iw', 'RETF', 'INT3', 'INT Ib', 'INTO', 'IRET',
  /* D0 */ '#G2 Eb,1', '#G2 Ev,1', '#G2 Eb,CL', '#G2 Ev,CL', 'AAM Ib', 'AAD Ib', 'SALC', 'XLAT',
  /* D8 */ 'x87', 'x87', 'x87', 'x87', 'x87', 'x87', 'x87', 'x87',
  /* E0 */ 'LOOPNE Jb', 'LOOPE Jb', 'LOOP Jb', 'JCXZ Jb', 'IN AL,Ib', 'IN eAX,Ib', 'OUT Ib,AL', 'OUT Ib,eAX',
  /* E8 */ 'CALL Jz', 'JMP Jz', 'JMPF Ap', 'JMP Jb', 'IN AL,DX', 'IN eAX,DX', 'OUT DX,AL', 'OUT DX,eAX',
  /* F0 */ 'prefix', 'INT1', 'prefix', 'prefix', 'HLT', 'CMC', '#G3 Eb', '#G3 Ev',
  /* F8 */ 'CLC', 'STC', 'CLI', 'STI', 'CLD', 'STD', '#G4 Eb', '#G5 Ev',
];

/** Two-byte opcodes 0F 00 - 0F FF. */
export const TWO_BYTE: readonly (string | null)[] = [
  /* 00 */ '#G6 Ew', '#G7', 'LAR Gv,Ew', 'LSL Gv,Ew', null, null, 'CLTS', null,
  /* 08 */ 'INVD', 'WBINVD', null, 'UD2', null, 'NOP Ev', null, null,
  /* 10 */ 'SSE Ex', 'SSE Ex', null, null, null, null, null, null,
  /* 18 */ 'NOP Ev', 'NOP Ev', 'NOP Ev', 'NOP Ev', 'NOP Ev', 'NOP Ev', 'NOP Ev', 'NOP Ev',
  /* 20 */ 'MOVCR Rd,Cd', 'MOVDR Rd,Dd', 'MOVCR Cd,Rd', 'MOVDR Dd,Rd', null, null, null, null,
  /* 28 */ 'SSE Ex', 'SSE Ex', null, 'SSE Ex', null, null, null, null,
  /* 30 */ 'WRMSR', 'RDTSC', 'RDMSR', 'RDPMC', 'SYSENTER', 'SYSEXIT', null, null,
  /* 38 */ null, null, null, null, null, null, null, null,
  /* 40 */ 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev',
  /* 48 */ 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev', 'CMOV Gv,Ev',
  /* 50 */ null, null, null, null, 'SSE Ex', 'SSE Ex', 'SSE Ex', 'SSE Ex',
  /* 58 */ null, null, null, null, null, null, null, null,
  /* 60 */ null, null, null, null, null, null, null, null,
  /* 68 */ null, null, null, null, null, null, 'SSE Ex', 'SSE Ex',
  /* 70 */ null, null, null, null, null, null, null, null,
  /* 78 */ null, null, null, null, null, null, 'SSE Ex', 'SSE Ex',
  /* 80 */ 'JCC Jz', 'JCC Jz', 'JCC Jz', 'JCC Jz', 'JCC Jz', 'JCC Jz', 'JCC Jz', 'JCC Jz',
  /* 88 */ 'JCC Jz', 'JCC Jz', 'JCC Jz', 'JCC Jz', 'JCC Jz', 'JCC Jz', 'JCC Jz', 'JCC Jz',
  /* 90 */ 'SETCC Eb', 'SETCC Eb', 'SETCC Eb', 'SETCC Eb', 'SETCC Eb', 'SETCC Eb', 'SETCC Eb', 'SETCC Eb',
  /* 98 */ 'SETCC Eb', 'SETCC Eb', 'SETCC Eb', 'SETCC Eb', 'SETCC Eb', 'SETCC Eb', 'SETCC Eb', 'SETCC Eb',
  /* A0 */ 'PUSH FS', 'POP FS', 'CPUID', 'BT Ev,Gv', 'SHLD Ev,Gv,Ib', 'SHLD Ev,Gv,CL', null, null,
  /* A8 */ 'PUSH GS', 'POP GS', null, 'BTS Ev,Gv', 'SHRD Ev,Gv,Ib', 'SHRD Ev,Gv,CL', '#G15', 'IMUL Gv,Ev',
  /* B0 */ 'CMPXCHG Eb,Gb', 'CMPXCHG Ev,Gv', 'LSS Gz,Mp', 'BTR Ev,Gv', 'LFS Gz,Mp', 'LGS Gz,Mp', 'MOVZX Gv,Eb', 'MOVZX Gv,Ew',
  /* B8 */ null, 'UD1', '#G8 Ev,Ib', 'BTC Ev,Gv', 'BSF Gv,Ev', 'BSR Gv,Ev', 'MOVSX Gv,Eb', 'MOVSX Gv,Ew',
  /* C0 */ 'XADD Eb,Gb', 'XADD Ev,Gv', null, 'SSE Ex', null, null, null, '#G9',
  /* C8 */ 'BSWAP Zd', 'BSWAP Zd', 'BSWAP Zd', 'BSWAP Zd', 'BSWAP Zd', 'BSWAP Zd', 'BSWAP Zd', 'BSWAP Zd',
  /* D0 */ null, null, null, null, null, null, 'SSE Ex', null,
  /* D8 */ null, null, null, 'SSE Ex', null, null, null, 'SSE Ex',
  /* E0 */ null, null, null, null, null, null, null, 'SSE Ex',
  /* E8 */ null, null, null, 'SSE Ex', null, null, null, 'SSE Ex',
  /* F0 */ null, null, null, null, null, null, null, null,
  /* F8 */ null, null, null, null, null, null, null, null,
];

/**
 * Opcode groups: the entry for ModRM.reg = 0..7. An entry without operands inherits the
 * operands of the opcode-map entry. Entries starting with `mod3:` apply only to register forms
 * and are keyed by the whole ModRM byte (for 0F 01).
 */
export const GROUPS: Record<string, readonly (string | null)[]> = {
  G1: ['ADD', 'OR', 'ADC', 'SBB', 'AND', 'SUB', 'XOR', 'CMP'],
  G1A: ['POP', null, null, null, null, null, null, null],
  G2: ['ROL', 'ROR', 'RCL', 'RCR', 'SHL', 'SHR', 'SHL', 'SAR'],
  G3: ['TEST #,I', 'TEST #,I', 'NOT', 'NEG', 'MUL', 'IMUL', 'DIV', 'IDIV'],
  G4: ['INC', 'DEC', null, null, null, null, null, null],
  G5: ['INC', 'DEC', 'CALLN', 'CALLF Mp', 'JMPN', 'JMPF Mp', 'PUSH', null],
  G6: ['SLDT', 'STR', 'LLDT', 'LTR', 'VERR', 'VERW', null, null],
  G7: ['SGDT Ms', 'SIDT Ms', 'LGDT Ms', 'LIDT Ms', 'SMSW Ew', null, 'LMSW Ew', 'INVLPG Mb'],
  G8: [null, null, null, null, 'BT', 'BTS', 'BTR', 'BTC'],
  G9: [null, 'CMPXCHG8B Mq', null, null, null, null, null, null],
  G11: ['MOV', null, null, null, null, null, null, null],
  G15: [null, null, null, null, null, 'LFENCE', 'MFENCE', 'SFENCE'],
  /** Group 15 memory forms. */
  G15M: ['FXSAVE M', 'FXRSTOR M', 'LDMXCSR Md', 'STMXCSR Md', null, null, null, 'CLFLUSH Mb'],
};

/** ModRM.reg of 0F 01 /4 SMSW Ew and /6 LMSW Ew: their register forms are the instructions too. */
export const G7_REG_SMSW = 4;
export const G7_REG_LMSW = 6;

/** Register forms of 0F 01 other than SMSW/LMSW (ModRM byte -> mnemonic); the rest are #UD. */
export const G7_REGISTER_FORMS: Record<number, string> = {
  0xc1: 'VMCALL',
  0xd9: 'VMMCALL',
  0xf9: 'RDTSCP',
};


