/*
 * Domus demo guest: the shell. A line editor on COM1 input (printable characters are echoed;
 * Backspace or DEL erases; Enter runs the line; Ctrl-C drops it; Ctrl-L clears the screen; ANSI
 * escape sequences such as arrow keys are swallowed; other bytes are ignored) and the command
 * table.
 *
 * While there is no input the CPU waits in "sti; hlt": an idle demo domain runs no instructions
 * between interrupts (timer ticks and received bytes).
 */
#include "kernel.h"

#define LINE_MAX 72
#define KEY_CTRL_C 0x03
#define KEY_BACKSPACE 0x08
#define KEY_CTRL_L 0x0C
#define KEY_ESC 0x1B
#define KEY_DEL 0x7F
#define AUTORUN_SEPARATOR ';'

struct command {
    const char *name;
    void (*run)(const char *args);
    const char *usage;
    const char *help;
};

static const struct command commands[] = {
    { "help", cmd_help, "", "list the commands" },
    { "info", cmd_info, "", "CPUID, memory map, command line" },
    { "uptime", cmd_uptime, "", "time since boot (PIT ticks and TSC)" },
    { "date", cmd_date, "", "date and time from the CMOS clock" },
    { "load", cmd_load, "[N]", "keep the CPU busy for N seconds (default 10; any key stops)" },
    { "bench", cmd_bench, "[M]", "integer benchmark: M million loops (default 2), checksum" },
    { "ticks", cmd_ticks, "", "timer interrupt count once a second for 5 s (idle in HLT)" },
    { "mem", cmd_mem, "[N]", "write, read and check N MiB of RAM (default 16), MB/s" },
    { "echo", cmd_echo, "TEXT", "print TEXT" },
    { "clear", cmd_clear, "", "clear the screen" },
    { "reboot", cmd_reboot, "", "reset the machine (8042, then port 0xCF9)" },
    { "poweroff", cmd_poweroff, "", "power off through ACPI (S5)" },
    { "fault", cmd_fault, "[de|ud|gp]", "raise a CPU exception on purpose (the kernel stops)" },
};

void cmd_help(const char *args) {
    (void)args;
    kprintf("Commands:\n");
    for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
        char left[24];
        size_t n = strlen(commands[i].name);
        memcpy(left, commands[i].name, n);
        if (commands[i].usage[0]) {
            left[n++] = ' ';
            strlcpy_demo(left + n, commands[i].usage, sizeof left - n);
        } else {
            left[n] = 0;
        }
        kprintf("  " ANSI_BOLD "%-18s" ANSI_RESET " %s\n", left, commands[i].help);
    }
    kprintf("Keys: Backspace erases, Ctrl-C drops the line, Ctrl-L clears the screen.\n");
}

void shell_prompt(void) { console_write(ANSI_GREEN "demo> " ANSI_RESET); }

void shell_execute(char *line) {
    while (*line == ' ') line++;
    size_t len = strlen(line);
    while (len && line[len - 1] == ' ') line[--len] = 0;
    if (!len) return;
    char *args = line;
    while (*args && *args != ' ') args++;
    if (*args) {
        *args++ = 0;
        while (*args == ' ') args++;
    }
    for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
        if (strcmp(line, commands[i].name) == 0) {
            commands[i].run(args);
            return;
        }
    }
    kprintf("%s: unknown command; type " ANSI_BOLD "help" ANSI_RESET " for the list.\n", line);
}

/* Runs the commands after "--" on the kernel command line, separated by ';'. */
static void autorun(void) {
    const char *list = boot_autorun();
    char line[LINE_MAX + 1];
    while (*list) {
        size_t n = 0;
        while (list[n] && list[n] != AUTORUN_SEPARATOR) n++;
        size_t keep = n < LINE_MAX ? n : LINE_MAX;
        while (keep && list[keep - 1] == ' ') keep--; /* "a ; b": show "a" as typed without the blank */
        memcpy(line, list, keep);
        line[keep] = 0;
        list += n;
        if (*list) list++;
        while (*list == ' ') list++;
        shell_prompt();
        kprintf("%s\n", line);
        shell_execute(line);
    }
}

/* Next input byte, waiting in HLT with interrupts on until one arrives. */
static char wait_key(void) {
    for (;;) {
        cli();
        int c = serial_getc();
        if (c >= 0) {
            sti();
            return (char)c;
        }
        sti_hlt();
    }
}

/*
 * Where the line editor stands in an escape sequence. ECMA-48 5.4: a control sequence is ESC [
 * (CSI), parameter bytes 0x30-0x3F, intermediate bytes 0x20-0x2F, one final byte 0x40-0x7E;
 * ESC O x is SS3 with one character (function keys). Any other byte inside a sequence (a control
 * character, DEL, a byte above 0x7F) ends it and counts as an ordinary key, so a Ctrl-C or Enter
 * typed after a broken sequence still works.
 */
enum escape_state { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3 };

#define CSI_INTRODUCER '['
#define SS3_INTRODUCER 'O'
#define CSI_PARAM_FIRST 0x20 /* intermediate and parameter bytes: 0x20-0x3F */
#define CSI_PARAM_LAST 0x3F
#define CSI_FINAL_LAST 0x7E

static bool printable(unsigned char c) { return c >= ' ' && c < KEY_DEL; }

/* Feeds one byte to the escape-sequence state; true if the byte was part of a sequence. */
static bool escape_swallows(enum escape_state *state, unsigned char c) {
    switch (*state) {
    case ESC_NONE: return false;
    case ESC_START:
        *state = c == CSI_INTRODUCER ? ESC_CSI : c == SS3_INTRODUCER ? ESC_SS3 : ESC_NONE;
        return printable(c); /* ESC x (Alt-x) is dropped whole */
    case ESC_CSI:
        if (c >= CSI_PARAM_FIRST && c <= CSI_PARAM_LAST) return true;
        *state = ESC_NONE;
        return c > CSI_PARAM_LAST && c <= CSI_FINAL_LAST;
    case ESC_SS3:
        *state = ESC_NONE;
        return printable(c);
    }
    return false;
}

void shell_run(void) {
    char line[LINE_MAX + 1];
    size_t len = 0;
    bool after_cr = false;
    enum escape_state escape = ESC_NONE;
    autorun();
    shell_prompt();
    for (;;) {
        char c = wait_key();
        if (escape_swallows(&escape, (unsigned char)c)) continue;
        bool was_cr = after_cr;
        after_cr = false;
        if (c == '\r' || c == '\n') {
            if (c == '\n' && was_cr) continue; /* CR LF is one Enter */
            after_cr = c == '\r';
            console_write("\n");
            line[len] = 0;
            shell_execute(line);
            len = 0;
            shell_prompt();
        } else if (c == KEY_BACKSPACE || c == KEY_DEL) {
            if (len) {
                len--;
                console_write("\b \b");
            }
        } else if (c == KEY_CTRL_C) {
            console_write("^C\n");
            len = 0;
            shell_prompt();
        } else if (c == KEY_CTRL_L) {
            console_clear();
            shell_prompt();
            line[len] = 0;
            console_write(line);
        } else if (c == KEY_ESC) {
            escape = ESC_START;
        } else if (printable((unsigned char)c) && len < LINE_MAX) {
            line[len++] = c;
            console_putc(c);
            vga_sync_cursor();
        }
    }
}
