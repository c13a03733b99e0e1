/* gen.c — runs every stub of an ops file natively on the host x86 CPU and writes the vectors the
 * guest replays (see lib/ops.inc for the stub convention).
 *
 * Build: gcc -m32 -O1 gen/gen.c <ops>.o -o gen-<ops>; run: ./gen-<ops> > <ops>-vectors.asm
 *
 * Output: a NASM file with `vec_index` (per op, in ops_table order: vector count, address) and the
 * vectors, 8 dwords each:
 *   a, b, c, d            inputs (EAX EBX ECX EDX at the instruction, io.m = a, io.m2 = b)
 *   fin | fout << 16      EFLAGS in (status flags | bit 1) and out (masked to the defined flags)
 *   mask | meta << 16     defined status flags; meta bit 0/1: check r0/r1, bit 2: expect #DE
 *   r0, r1                expected results (0 when not checked)
 * The inputs come from a fixed-seed PRNG per op (seeded with the op's name) and undefined flags
 * and results are zeroed, so the output is the same on every x86 host: Intel and AMD agree on
 * everything the SDM defines. Deterministic: same ops object -> byte-identical output. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

struct op { uint32_t stub, insn, name; uint8_t kind, uf, width, outs; uint32_t imm; };
struct io { uint32_t a, b, c, d, fin, r0, r1, fout, m[2], m2; };
extern struct op ops_table[], ops_end[];

/* lib/ops.inc constants (kept in step by hand: both files are small and side by side) */
enum { K_BIN = 1, K_UN, K_SHIFT, K_SHIFTD, K_MUL, K_DIV, K_BCD, K_AAX, K_SCAN, K_BIT, K_BITMEM,
       K_COND, K_XCHG, K_EXT };
enum { UF_NONE, UF_LOGIC, UF_SHIFT, UF_SAR, UF_ROT, UF_SHD, UF_MUL, UF_DIV, UF_DAA, UF_AAA, UF_AAM,
       UF_BT, UF_BSF };
enum { OUT_R0 = 1, OUT_R1 = 2, VSET_SMALL = 0x80 };
enum { META_R0 = 1, META_R1 = 2, META_DE = 4 };
#define IMM_CL 0xFFFFFFFFu             /* op.imm for shifts whose count comes from CL */

#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u
#define STATUS (CF | PF | AF | ZF | SF | OF)

static uint32_t rng;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }
static uint32_t rfl(void) { return (rnd() & STATUS) | 2u; }
static uint32_t wmask(int w) { return w == 32 ? 0xFFFFFFFFu : (1u << w) - 1u; }

static const uint32_t EDGES[] = { 0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF,
                                  0x80000000u, 0xFFFFFFFFu };
static int edges(int w, uint32_t *out)
{
    int n = 0;
    for (unsigned i = 0; i < sizeof EDGES / sizeof EDGES[0]; i++)
        if (EDGES[i] <= wmask(w)) out[n++] = EDGES[i];
    return n;
}
/* a w-bit value in a 32-bit register: random bits above; an 8-bit value sits in bits 7..0 and
 * 15..8 so that both AL-style and AH-style forms see it */
static uint32_t place(uint32_t v, int w)
{
    if (w == 32) return v;
    if (w == 16) return (rnd() & 0xFFFF0000u) | (v & 0xFFFF);
    return (rnd() & 0xFFFF0000u) | ((v & 0xFF) << 8) | (v & 0xFF);
}
/* a random w-bit value: fully random, or an edge value plus or minus a little */
static uint32_t rval(int w)
{
    uint32_t e[16];
    int n = edges(w, e);
    switch (rnd() % 4) {
    case 0: return (e[rnd() % n] + (rnd() % 5) - 2) & wmask(w);
    case 1: return rnd() >> (rnd() % 32) & wmask(w);
    default: return rnd() & wmask(w);
    }
}

/* ---- the mask of defined status flags (Intel SDM Vol. 2, "Flags Affected" of each instruction) */
static uint32_t defined_flags(int uf, int w, uint32_t count, int *r0_undefined)
{
    uint32_t m = count & 0x1F;
    *r0_undefined = 0;
    switch (uf) {
    case UF_NONE: return STATUS;
    case UF_LOGIC: return STATUS & ~AF;
    case UF_SHIFT: case UF_SAR: {
        if (m == 0) return STATUS;                    /* count 0: flags unaffected */
        uint32_t d = STATUS & ~AF;                    /* AF undefined for a non-zero count */
        if (m != 1) d &= ~OF;                         /* OF only defined for 1-bit shifts */
        if (uf == UF_SHIFT && m >= (uint32_t)w) d &= ~CF; /* SHL/SHR: CF undefined if count >= size */
        return d;
    }
    case UF_ROT:
        if (m == 0) return STATUS;                    /* masked count 0: flags unaffected */
        return m == 1 ? STATUS : STATUS & ~OF;        /* OF only defined for a masked count of 1 */
    case UF_SHD:
        if (m == 0) return STATUS;
        if (m > (uint32_t)w) { *r0_undefined = 1; return 0; } /* count > size: result, flags undefined */
        return m == 1 ? STATUS & ~AF : STATUS & ~(AF | OF);
    case UF_MUL: return CF | OF;
    case UF_DIV: return 0;
    case UF_DAA: return STATUS & ~OF;
    case UF_AAA: return AF | CF;
    case UF_AAM: return SF | ZF | PF;
    case UF_BT: return CF | ZF;                       /* ZF unaffected, so defined as unchanged */
    case UF_BSF: return ZF;
    }
    fprintf(stderr, "gen: unknown undefined-flags rule %d\n", uf);
    exit(2);
}

/* ---- running a stub, with #DE (SIGFPE) caught ------------------------------------------------- */
static sigjmp_buf de_jmp;
static uint32_t de_eip;
static void on_fpe(int sig, siginfo_t *si, void *uc_)
{
    (void)sig; (void)si;
    ucontext_t *uc = uc_;
    de_eip = (uint32_t)uc->uc_mcontext.gregs[REG_EIP];
    siglongjmp(de_jmp, 1);
}

struct vec { uint32_t a, b, c, d, fin; };
static struct vec vecs[8192];
static int nvec;
static void add(uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t fin)
{
    if (nvec == (int)(sizeof vecs / sizeof vecs[0])) { fprintf(stderr, "gen: too many vectors\n"); exit(2); }
    vecs[nvec++] = (struct vec){ a, b, c, d, (fin & STATUS) | 2u };
}

/* ---- inputs per kind ---------------------------------------------------------------------------- */
static void inputs(const struct op *op)
{
    int w = op->width, small = op->outs & VSET_SMALL;
    uint32_t e[16];
    int ne = edges(w, e);
    switch (op->kind) {
    case K_BIN: case K_MUL:
        if (small) {
            for (int i = 0; i < 8; i++) add(place(e[rnd() % ne], w), place(e[rnd() % ne], w), rnd(), rnd(), rfl());
            for (int i = 0; i < 8; i++) add(place(rval(w), w), place(rval(w), w), rnd(), rnd(), rfl());
            break;
        }
        for (int i = 0; i < ne; i++)
            for (int j = 0; j < ne; j++) {
                uint32_t f = rfl();
                add(place(e[i], w), place(e[j], w), rnd(), rnd(), f);
                add(place(e[i], w), place(e[j], w), rnd(), rnd(), f ^ STATUS);
            }
        for (int i = 0; i < 32; i++) add(place(rval(w), w), place(rval(w), w), rnd(), rnd(), rfl());
        break;
    case K_UN: case K_EXT:
        for (int i = 0; i < ne; i++) {
            uint32_t f = rfl();
            add(place(e[i], w), rnd(), rnd(), rnd(), f);
            if (!small) add(place(e[i], w), rnd(), rnd(), rnd(), f ^ STATUS);
        }
        for (int i = 0; i < (small ? 4 : 16); i++) add(place(rval(w), w), rnd(), rnd(), rnd(), rfl());
        break;
    case K_SHIFT: case K_SHIFTD: {
        static const uint32_t big[] = { 0x20, 0x21, 0x3F, 0x40, 0x41, 0x7F, 0x80, 0xE1, 0xFF };
        if (op->imm != IMM_CL) {
            int n = small ? 12 : 24;
            for (int i = 0; i < n; i++) {
                uint32_t v = i < ne ? e[i] : rval(w);
                add(place(v, w), place(rval(w), w), rnd(), rnd(), rfl());
            }
            break;
        }
        int per = small ? 1 : 5;
        for (uint32_t cnt = 0; cnt < 34 + sizeof big / sizeof big[0]; cnt++) {
            uint32_t c = cnt < 34 ? cnt : big[cnt - 34];
            for (int k = 0; k < per; k++) {
                uint32_t v = k < 3 ? e[(c * 3 + k) % ne] : rval(w);
                add(place(v, w), place(rval(w), w), (rnd() & 0xFFFFFF00u) | c, rnd(), rfl());
            }
        }
        break;
    }
    case K_DIV: {
        int n = small ? 24 : 160;
        for (int i = 0; i < n; i++) {
            uint32_t div = i < ne * 2 ? e[i % ne] : (rnd() % 4 == 0 ? rnd() % 4 : rval(w));
            uint32_t hi, lo = rnd();
            switch (rnd() % 4) {                      /* the dividend's high half */
            case 0: hi = 0; break;                    /* small dividend */
            case 1: hi = div ? rnd() % div : 0; break; /* large, quotient fits (unsigned) */
            case 2: hi = wmask(w); break;             /* negative (signed) */
            default: hi = rval(w); break;             /* anything, often an overflow */
            }
            if (i % 16 == 5) div = 0;                 /* divide by zero */
            uint32_t a, d;
            if (w == 8) { a = (rnd() & 0xFFFF0000u) | ((hi & 0xFF) << 8) | (lo & 0xFF); d = rnd(); }
            else if (w == 16) { a = (rnd() & 0xFFFF0000u) | (lo & 0xFFFF); d = (rnd() & 0xFFFF0000u) | (hi & 0xFFFF); }
            else { a = lo; d = hi; }
            if (w == 16 && (d & 0xFFFF) == 0x8000 && (a & 0xFFFF) == 0 && (div & 0xFFFF) == 0xFFFF) continue;
            if (w == 32 && d == 0x80000000u && a == 0 && div == 0xFFFFFFFFu) continue;
            add(a, place(div, w), rnd(), d, rfl());
        }
        /* the most negative dividend over 1, and nearly so over -1. The most negative 16- and
         * 32-bit dividends over -1 are left to the edge guest: they crash QEMU 7.2 TCG
         * (helper_idivw/helper_idivl divide INT32_MIN/INT64_MIN by -1 on the host) */
        uint32_t msb = 1u << (w - 1);
        if (w == 32) { add(0, 0xFFFFFFFFu, 0, msb - 1, 0); add(0, 1, 0, msb, 0); add(0, 0xFFFFFFFFu, 0, 0xFFFFFFFFu, 0); }
        else if (w == 16) { add(0, 0xFFFF, 0, msb - 1, 0); add(0, 1, 0, msb, 0); add(0, 0xFFFF, 0, 0xFFFF, 0); }
        else { add(0x8000, 0xFF, 0, 0, 0); add(0x8000, 1, 0, 0, 0); add(0xFF80, 0xFF, 0, 0, 0); }
        break;
    }
    case K_BCD:
        for (uint32_t al = 0; al < 256; al++)
            for (uint32_t fl = 0; fl < 4; fl++)
                add((rnd() & 0xFFFFFF00u) | al, rnd(), rnd(), rnd(), (rfl() & ~(AF | CF)) | (fl & 1 ? AF : 0) | (fl & 2 ? CF : 0));
        break;
    case K_AAX:
        for (uint32_t al = 0; al < 256; al++)
            for (int k = 0; k < (small ? 1 : 2); k++)
                add((rnd() & 0xFFFFFF00u) | al, rnd(), rnd(), rnd(), rfl());
        break;
    case K_SCAN:
        for (int k = 0; k < 4; k++) add(place(0, w), rnd(), rnd(), rnd(), rfl());
        for (int i = 0; i < w; i++) {
            add(place(1u << i, w), rnd(), rnd(), rnd(), rfl());
            if (!small) add(place(rnd() | (1u << i), w), rnd(), rnd(), rnd(), rfl());
            if (!small) add(place((rnd() & wmask(w)) & (0xFFFFFFFFu << i) & wmask(w), w), rnd(), rnd(), rnd(), rfl());
        }
        for (int i = 0; i < ne; i++) add(place(e[i], w), rnd(), rnd(), rnd(), rfl());
        break;
    case K_BIT:
        for (int i = 0; i < (small ? 16 : 80); i++) {
            uint32_t off = i < 40 ? (uint32_t)i : rnd() >> (rnd() % 32);
            if (w == 16) off = (rnd() & 0xFFFF0000u) | (off & 0xFFFF);
            add(place(rval(w), w), off, rnd(), rnd(), rfl());
        }
        break;
    case K_BITMEM: {
        /* signed bit offsets reaching 512 bytes either side of the operand (lib/ops buffer) */
        static const int32_t fixed[] = { 0, 1, 7, 8, 15, 16, 31, 32, 33, 63, 64, -1, -2, -8, -16,
                                         -17, -31, -32, -33, -64, 4095, -4096, 1000, -1000 };
        for (unsigned i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            add(rnd(), (w == 16 ? (rnd() & 0xFFFF0000u) : 0) | ((uint32_t)fixed[i] & wmask(w)), rnd(), rnd(), rfl());
        for (int i = 0; i < (small ? 8 : 40); i++) {
            int32_t off = (int32_t)(rnd() % 8192) - 4096;
            add(rnd(), (w == 16 ? (rnd() & 0xFFFF0000u) : 0) | ((uint32_t)off & wmask(w)), rnd(), rnd(), rfl());
        }
        break;
    }
    case K_COND:
        for (int rep = 0; rep < (small ? 1 : 2); rep++)
            for (uint32_t x = 0; x < 32; x++) {
                uint32_t f = (x & 1 ? CF : 0) | (x & 2 ? PF : 0) | (x & 4 ? ZF : 0) | (x & 8 ? SF : 0) |
                             (x & 16 ? OF : 0) | (rnd() & AF);
                add(rnd(), rnd(), rnd(), rnd(), f);
            }
        break;
    case K_XCHG:
        for (int i = 0; i < (small ? 16 : 48); i++) {
            uint32_t a = place(i < ne ? e[i] : rval(w), w), b = place(rval(w), w);
            uint32_t c = i % 2 ? a : place(rval(w), w);
            if (i % 4 == 3) c = (c & ~wmask(w)) | (a & wmask(w)); /* equal in the operand, not above */
            add(a, b, c, rnd(), rfl());
        }
        break;
    default:
        fprintf(stderr, "gen: op %s has unknown kind %d\n", (const char *)op->name, op->kind);
        exit(2);
    }
}

/* ---- main ------------------------------------------------------------------------------------- */
static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
    return h ? h : 1;
}

/* what each undefined-flags rule leaves defined, for the check list (docs/test-guests.md) */
static const char *const UF_TEXT[] = {
    "all six status flags", "all but AF", "SHL/SHR count rule", "SAR count rule",
    "rotate count rule", "SHLD/SHRD count rule", "CF OF", "none (results only)", "all but OF",
    "AF CF", "SF ZF PF", "CF ZF", "ZF (result only for a non-zero source)",
};

/* --list: one line per op: name, address of the instruction under test, vector count, flags
 * compared. build.sh joins it with a disassembly to list every check in docs/test-guests.md. */
static int list(void)
{
    for (struct op *op = ops_table; op < ops_end; op++) {
        rng = fnv1a((const char *)op->name);
        nvec = 0;
        inputs(op);
        printf("%s\t%x\t%d\t%s\n", (const char *)op->name, op->insn, nvec,
               op->uf < sizeof UF_TEXT / sizeof UF_TEXT[0] ? UF_TEXT[op->uf] : "?");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0) return list();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fpe;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGFPE, &sa, NULL);

    int nops = (int)(ops_end - ops_table);
    printf("; generated by gen/gen.c from the ops object on an x86 host: do not edit\n");
    printf("; per vector: a, b, c, d, fin|fout<<16, mask|meta<<16, r0, r1 (see gen/gen.c)\n");
    printf("section .rodata\nalign 4\nglobal vec_index\nvec_index:\n");
    for (int i = 0; i < nops; i++) {
        rng = fnv1a((const char *)ops_table[i].name);
        nvec = 0;
        inputs(&ops_table[i]);
        printf("    dd %d, v%d ; %s\n", nvec, i, (const char *)ops_table[i].name);
    }
    for (int i = 0; i < nops; i++) {
        const struct op *op = &ops_table[i];
        rng = fnv1a((const char *)op->name);
        nvec = 0;
        inputs(op);
        printf("v%d: ; %s\n", i, (const char *)op->name);
        for (int k = 0; k < nvec; k++) {
            struct vec *v = &vecs[k];
            struct io io = { v->a, v->b, v->c, v->d, v->fin, 0, 0, 0, { 0, 0 }, 0 };
            uint32_t meta = 0, mask;
            int r0_undef = 0;
            uint32_t count = op->imm != IMM_CL ? op->imm : (v->c & 0xFF);
            mask = defined_flags(op->uf, op->width, count, &r0_undef);
            if (op->uf == UF_BSF && (v->a & wmask(op->width)) == 0) r0_undef = 1;
            if (sigsetjmp(de_jmp, 1) == 0) {
                ((void (*)(struct io *))op->stub)(&io);
                if (op->outs & OUT_R0 && !r0_undef) meta |= META_R0;
                if (op->outs & OUT_R1) meta |= META_R1;
            } else {
                if (de_eip != op->insn) {
                    fprintf(stderr, "gen: %s: SIGFPE at %08x, not at the instruction %08x\n",
                            (const char *)op->name, de_eip, op->insn);
                    return 1;
                }
                meta = META_DE;
                mask = 0;
                io.r0 = io.r1 = io.fout = 0;
            }
            if (!(meta & META_R0)) io.r0 = 0;
            if (!(meta & META_R1)) io.r1 = 0;
            printf("    dd 0x%x,0x%x,0x%x,0x%x,0x%x,0x%x,0x%x,0x%x\n", v->a, v->b, v->c, v->d,
                   v->fin | ((io.fout & mask) << 16), mask | (meta << 16), io.r0, io.r1);
        }
    }
    printf("section .note.GNU-stack noalloc noexec nowrite progbits\n");
    return 0;
}
