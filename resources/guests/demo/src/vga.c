/*
 * Domus demo guest: the VGA colour text screen (mode 3, 80x25) at 0xB8000, fed the same byte
 * stream as COM1. It scrolls, moves the hardware cursor, and understands the few ANSI sequences
 * the console sends: SGR colours (ESC [ n ; ... m), erase display (ESC [ 2 J), home (ESC [ H).
 *
 * References: IBM VGA Technical Reference (text cells: character byte, attribute byte with
 * foreground in bits 0-3 and background in bits 4-6; CRTC index 0x3D4 / data 0x3D5, registers
 * 0x0E/0x0F cursor location high/low); ECMA-48 8.3.117 SGR (30-37 foreground colours).
 */
#include "kernel.h"

#define VGA_TEXT ((volatile uint16_t *)0xB8000)
#define VGA_COLS 80
#define VGA_ROWS 25
#define CRTC_INDEX 0x3D4
#define CRTC_DATA 0x3D5
#define CRTC_CURSOR_HIGH 0x0E
#define CRTC_CURSOR_LOW 0x0F
#define ATTR_DEFAULT 0x07 /* light grey on black */
#define ATTR_BRIGHT 0x08  /* foreground intensity bit */
#define TAB_WIDTH 8
#define ESC 0x1B
/* Longest ANSI parameter list kept (more parameters are ignored). */
#define ANSI_MAX_PARAMS 4

/* ANSI colour order (black red green yellow blue magenta cyan white) to VGA colour numbers. */
static const uint8_t ansi_to_vga[8] = { 0, 4, 2, 6, 1, 5, 3, 7 };

static unsigned row, col;
static uint8_t attr = ATTR_DEFAULT;
static enum { TEXT, GOT_ESC, IN_CSI } state;
static unsigned params[ANSI_MAX_PARAMS], nparams;

/* Cursor cell last written to the CRTC (each CRTC write is a VM exit under a hypervisor). */
static unsigned shown_cursor = ~0u;

void vga_sync_cursor(void) {
    unsigned cell = row * VGA_COLS + col;
    if (cell == shown_cursor) return;
    shown_cursor = cell;
    outb(CRTC_INDEX, CRTC_CURSOR_HIGH);
    outb(CRTC_DATA, (uint8_t)(cell >> 8));
    outb(CRTC_INDEX, CRTC_CURSOR_LOW);
    outb(CRTC_DATA, (uint8_t)cell);
}

static uint16_t blank(void) { return (uint16_t)(ATTR_DEFAULT << 8 | ' '); }

void vga_clear(void) {
    for (unsigned i = 0; i < VGA_COLS * VGA_ROWS; i++) VGA_TEXT[i] = blank();
    row = col = 0;
    vga_sync_cursor();
}

void vga_init(void) {
    attr = ATTR_DEFAULT;
    state = TEXT;
    vga_clear();
}

static void scroll(void) {
    for (unsigned i = 0; i < VGA_COLS * (VGA_ROWS - 1); i++) VGA_TEXT[i] = VGA_TEXT[i + VGA_COLS];
    for (unsigned i = 0; i < VGA_COLS; i++) VGA_TEXT[VGA_COLS * (VGA_ROWS - 1) + i] = blank();
    row = VGA_ROWS - 1;
}

static void newline(void) {
    col = 0;
    if (++row == VGA_ROWS) scroll();
}

static void sgr(unsigned p) {
    if (p == 0) attr = ATTR_DEFAULT;
    else if (p == 1) attr |= ATTR_BRIGHT;
    else if (p == 22) attr &= (uint8_t)~ATTR_BRIGHT;
    else if (p >= 30 && p <= 37) attr = (uint8_t)((attr & 0xF8) | ansi_to_vga[p - 30]);
    else if (p == 39) attr = (uint8_t)((attr & 0xF8) | ATTR_DEFAULT);
    else if (p >= 90 && p <= 97) attr = (uint8_t)((attr & 0xF0) | ATTR_BRIGHT | ansi_to_vga[p - 90]);
}

/* The final byte of an ESC [ ... sequence. */
static void csi(char final) {
    if (final == 'm') {
        if (nparams == 0) sgr(0);
        for (unsigned i = 0; i < nparams; i++) sgr(params[i]);
    } else if (final == 'J' && nparams == 1 && params[0] == 2) {
        uint8_t keep = attr;
        vga_clear();
        attr = keep;
    } else if (final == 'H') {
        row = col = 0;
    } else if (final == 'K') {
        for (unsigned c = col; c < VGA_COLS; c++) VGA_TEXT[row * VGA_COLS + c] = blank();
    }
}

static void put_visible(char c) {
    VGA_TEXT[row * VGA_COLS + col] = (uint16_t)(attr << 8 | (uint8_t)c);
    if (++col == VGA_COLS) newline();
}

void vga_putc(char c) {
    if (state == GOT_ESC) {
        if (c == '[') {
            state = IN_CSI;
            nparams = 0;
            params[0] = 0;
        } else {
            state = TEXT;
        }
        return;
    }
    if (state == IN_CSI) {
        if (c >= '0' && c <= '9') {
            if (nparams == 0) nparams = 1;
            if (nparams <= ANSI_MAX_PARAMS) params[nparams - 1] = params[nparams - 1] * 10 + (unsigned)(c - '0');
        } else if (c == ';') {
            if (nparams == 0) nparams = 1;
            if (nparams < ANSI_MAX_PARAMS) params[nparams] = 0;
            nparams++;
        } else {
            if (nparams > ANSI_MAX_PARAMS) nparams = ANSI_MAX_PARAMS;
            csi(c);
            state = TEXT;
        }
        return;
    }
    switch (c) {
    case ESC: state = GOT_ESC; return;
    case '\n': newline(); break;
    case '\r': col = 0; break;
    case '\b': if (col > 0) col--; break;
    case '\t':
        do put_visible(' ');
        while (col % TAB_WIDTH != 0);
        break;
    default:
        if ((uint8_t)c >= ' ') put_visible(c);
        break;
    }
}
