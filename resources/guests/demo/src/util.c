/*
 * Domus demo guest: the few C library functions the kernel needs (GCC may also call memset,
 * memcpy, memmove and memcmp on its own, even with -ffreestanding), number parsing and 64-bit
 * division without libgcc.
 */
#include "kernel.h"

void *memset(void *dst, int value, size_t n) {
    uint8_t *d = dst;
    while (n--) *d++ = (uint8_t)value;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y) return *x - *y;
    }
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

int strcmp(const char *a, const char *b) {
    while (*a && *a == *b) a++, b++;
    return (uint8_t)*a - (uint8_t)*b;
}

void strlcpy_demo(char *dst, const char *src, size_t size) {
    size_t i = 0;
    if (size == 0) return;
    for (; i + 1 < size && src[i]; i++) dst[i] = src[i];
    dst[i] = 0;
}

bool parse_u32(const char *s, uint32_t *out) {
    uint32_t v = 0;
    if (!*s) return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        uint32_t digit = (uint32_t)(*s - '0');
        if (v > (UINT32_MAX - digit) / 10) return false;
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem) {
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
    uint32_t q_hi = hi / d;
    uint32_t r = hi % d;
    uint32_t q_lo;
    /* EDX:EAX = r:lo with r < d, so the quotient fits in 32 bits and DIV cannot fault. */
    __asm__("divl %4" : "=a"(q_lo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
    if (rem) *rem = r;
    return ((uint64_t)q_hi << 32) | q_lo;
}

uint64_t muldiv64(uint64_t n, uint32_t num, uint32_t den) {
    /* (hi * 2^32 + lo) * num / den, carrying the remainder of the high part into the low part. */
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
    uint64_t hi_prod = (uint64_t)hi * num;
    uint32_t r;
    uint64_t q_hi = udiv64(hi_prod, den, &r);
    uint64_t lo_prod = (uint64_t)lo * num + ((uint64_t)r << 32);
    /* lo_prod < 2^32 * (num + den): callers keep num + den below 2^32, so it fits in 64 bits. */
    uint64_t q_lo = udiv64(lo_prod, den, NULL);
    return (q_hi << 32) + q_lo;
}
