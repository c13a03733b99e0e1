/*
 * Domus demo guest: the console, one byte stream to COM1 (with \n sent as \r\n) and to the VGA
 * screen, and a small printf.
 *
 * kprintf understands %s %c %d %u %x %X %p %%, the flags '0' and '-', a field width, and the
 * length modifier ll (64-bit %llu and %llx), which is all the kernel prints.
 */
#include "kernel.h"

void console_putc(char c) {
    if (c == '\n') serial_putc('\r');
    serial_putc((uint8_t)c);
    vga_putc(c);
}

void console_write(const char *s) {
    while (*s) console_putc(*s++);
    vga_sync_cursor();
}

void console_clear(void) {
    console_write("\x1b[2J\x1b[H");
}

/* Writes `digits` (most significant first) padded to `width`. */
static void emit_padded(const char *digits, unsigned len, unsigned width, bool zero, bool left, bool negative) {
    unsigned total = len + (negative ? 1 : 0);
    if (!left && !zero) for (; total < width; total++) console_putc(' ');
    if (negative) console_putc('-');
    if (!left && zero) for (; total < width; total++) console_putc('0');
    for (unsigned i = 0; i < len; i++) console_putc(digits[i]);
    if (left) for (; total < width; total++) console_putc(' ');
}

static void emit_number(uint64_t v, unsigned base, bool upper, unsigned width, bool zero, bool left, bool negative) {
    char buf[24];
    unsigned n = 0;
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        uint32_t r;
        v = udiv64(v, base, &r);
        buf[n++] = set[r];
    } while (v);
    char out[24];
    for (unsigned i = 0; i < n; i++) out[i] = buf[n - 1 - i];
    emit_padded(out, n, width, zero, left, negative);
}

void kvprintf(const char *fmt, va_list ap) {
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            console_putc(*fmt);
            continue;
        }
        fmt++;
        bool zero = false, left = false;
        for (;; fmt++) {
            if (*fmt == '0') zero = true;
            else if (*fmt == '-') left = true;
            else break;
        }
        unsigned width = 0;
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (unsigned)(*fmt++ - '0');
        bool wide = false;
        if (fmt[0] == 'l' && fmt[1] == 'l') {
            wide = true;
            fmt += 2;
        }
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            emit_padded(s, (unsigned)strlen(s), width, false, left, false);
            break;
        }
        case 'c': console_putc((char)va_arg(ap, int)); break;
        case 'd': {
            int64_t v = wide ? va_arg(ap, int64_t) : va_arg(ap, int);
            emit_number(v < 0 ? (uint64_t)-v : (uint64_t)v, 10, false, width, zero, left, v < 0);
            break;
        }
        case 'u': emit_number(wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, false, width, zero, left, false); break;
        case 'x':
        case 'X': emit_number(wide ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, *fmt == 'X', width, zero, left, false); break;
        case 'p': emit_number((uintptr_t)va_arg(ap, void *), 16, false, 8, true, false, false); break;
        case '%': console_putc('%'); break;
        case 0: fmt--; break;
        default: console_putc('%'); console_putc(*fmt); break;
        }
    }
    vga_sync_cursor();
}

void kprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}
