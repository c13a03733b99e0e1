/*
 * Domus demo guest: date and time from the MC146818 CMOS real-time clock.
 *
 * Reference: Motorola MC146818A datasheet (index port 0x70, data port 0x71; registers 0x00
 * seconds, 0x02 minutes, 0x04 hours, 0x07 day of month, 0x08 month, 0x09 year; status A bit 7
 * UIP = update in progress; status B bit 2 DM = binary (else BCD), bit 1 24/12 = 24-hour mode,
 * in 12-hour mode bit 7 of the hour means PM). The century byte is register 0x32 on PCs (the
 * ACPI FADT's CENTURY field names it).
 */
#include "kernel.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_STATUS_A 0x0A
#define RTC_STATUS_B 0x0B
#define RTC_CENTURY 0x32
#define STATUS_A_UIP 0x80
#define STATUS_B_BINARY 0x04
#define STATUS_B_24HOUR 0x02
#define HOUR_PM 0x80
/* Reads of status A before giving up waiting for an update cycle to end (one lasts < 2 ms). */
#define UIP_SPIN_LIMIT 1000000
/* Attempts at two identical consecutive readings. */
#define READ_ATTEMPTS 10

static uint8_t cmos_read(uint8_t reg) {
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static bool wait_update_done(void) {
    for (int i = 0; i < UIP_SPIN_LIMIT; i++) {
        if (!(cmos_read(RTC_STATUS_A) & STATUS_A_UIP)) return true;
    }
    return false;
}

static void read_raw(uint8_t raw[7]) {
    raw[0] = cmos_read(RTC_SECONDS);
    raw[1] = cmos_read(RTC_MINUTES);
    raw[2] = cmos_read(RTC_HOURS);
    raw[3] = cmos_read(RTC_DAY);
    raw[4] = cmos_read(RTC_MONTH);
    raw[5] = cmos_read(RTC_YEAR);
    raw[6] = cmos_read(RTC_CENTURY);
}

static unsigned from_bcd(uint8_t v) { return (unsigned)(v >> 4) * 10 + (v & 0x0F); }

bool rtc_read(struct rtc_time *t) {
    uint8_t a[7], b[7];
    int attempt = 0;
    do {
        if (!wait_update_done()) return false;
        read_raw(a);
        if (!wait_update_done()) return false;
        read_raw(b);
    } while (memcmp(a, b, sizeof a) != 0 && ++attempt < READ_ATTEMPTS);
    if (attempt == READ_ATTEMPTS) return false;
    uint8_t status_b = cmos_read(RTC_STATUS_B);
    bool pm = (a[2] & HOUR_PM) != 0;
    a[2] &= (uint8_t)~HOUR_PM;
    unsigned v[7];
    for (int i = 0; i < 7; i++) v[i] = (status_b & STATUS_B_BINARY) ? a[i] : from_bcd(a[i]);
    if (!(status_b & STATUS_B_24HOUR)) v[2] = (v[2] % 12) + (pm ? 12 : 0);
    t->second = v[0];
    t->minute = v[1];
    t->hour = v[2];
    t->day = v[3];
    t->month = v[4];
    /* No century register value (0 or garbage): assume 20xx. */
    t->year = (v[6] >= 19 && v[6] <= 99 ? v[6] : 20) * 100 + v[5];
    return true;
}
