/* SPDX-License-Identifier: MIT */
/*
 * The guest library: what every test kernel gets. entry.asm boots from
 * Multiboot (own GDT, IDT with all 32 exception vectors), then calls
 *     int main(struct multiboot_info *mbi);
 * mbi is NULL when EAX did not hold the Multiboot magic. main's return value
 * is passed to guest_exit().
 *
 * 64-bit kernels (a file BITS64 in their directory) get the same API from
 * 64/entry64.asm and 64/exception64.c: main runs in 64-bit mode with the
 * first 4 GiB identity-mapped (2 MiB pages), a 64-bit IDT and a TSS loaded.
 */
#ifndef GUEST_H
#define GUEST_H

#include <nestvisor/string.h>
#include <multiboot.h>
#include <stdbool.h>
#include <stdint.h>
#include <x86.h>

/* Exit codes (guest_exit); the run's status is (code << 1) | 1. */
#define GUEST_EXIT_PASS       0
#define GUEST_EXIT_FAIL       1
#define GUEST_EXIT_EXCEPTION  2   /* an exception nobody was catching */
#define GUEST_EXIT_BAD_MAGIC  3   /* not entered by a Multiboot loader */

/* GDT selectors (entry.asm). */
#define SEL_CODE32 0x08
#define SEL_DATA32 0x10
#define SEL_CODE64 0x18   /* for kernels that enter long mode */
#define SEL_TSS64  0x20   /* 64-bit kernels: their TSS (a 16-byte descriptor) */

int main(struct multiboot_info *mbi);

/* entry.asm: EAX and EBX as the loader left them. */
extern uint32_t boot_magic;
extern uint32_t boot_mbi;

/* ---- Output (serial.c): COM1, polled; '\n' becomes "\r\n". */
void serial_putc(char c);
void puts_serial(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);

/* ---- Exit (serial.c): out of code to port 0xF4 (QEMU isa-debug-exit, or L0: either
 * ends the run there); failing that, "Shutdown" to port 0x8900 (bare Bochs' shutdown
 * port), then cli; hlt forever. */
__attribute__((noreturn)) void guest_exit(uint32_t code);

/* ---- Reports (report.c) */
/* Prints "PASS: <name>" or "FAIL: <name>" and counts it; returns cond. */
bool report(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "SKIP: <name>" (not counted as a test). */
void report_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "SUMMARY: N tests, N failures"; returns the number of failures. */
unsigned report_summary(void);

/* ---- Exceptions (exception.c, entry.asm) */
#define NO_EXCEPTION (-1)
/*
 * Runs fn(arg); returns the vector of the first exception it raised (fn is
 * abandoned at that point, like longjmp) or NO_EXCEPTION if it returned.
 * Nests. An exception outside any catch prints vector, error code, EIP and CR2
 * and ends the run with GUEST_EXIT_EXCEPTION.
 */
int catch_exception(void (*fn)(void *), void *arg);
/* 64-bit kernels: called for each NMI (vector 2) instead of the report, then IRETQ. */
extern void (*nmi_hook)(void);
/* Error code of the last caught exception (0 for vectors without one). */
uint32_t caught_error_code(void);
/* EIP of the instruction that raised the last caught exception. */
uint32_t caught_eip(void);
/* The same, full width (RIP in 64-bit kernels). */
uintptr_t caught_ip(void);
const char *exception_name(int vector);

/* Each returns the vector the operation raised, or NO_EXCEPTION. */
int rdmsr_checked(uint32_t msr, uint64_t *val);
int wrmsr_checked(uint32_t msr, uint64_t val);
int write_cr4_checked(uint32_t val);
int write_cr0_checked(ureg_t val);
int vmcall_checked(void);
int vmxon_checked(uint32_t vmxon_region_phys);

/* ---- Multiboot helpers (mbi.c) */
/* The MBI command line ("" if none). */
const char *mbi_cmdline(const struct multiboot_info *mbi);
/* The part of a "<path> <args>" string after the first word and its spaces. */
const char *str_after_first_word(const char *s);
/* Does the first word of s end with suffix? */
bool first_word_ends_with(const char *s, const char *suffix);
/* Is word a whole space-separated word of s? */
bool has_word(const char *s, const char *word);
/* Finds a "key=<decimal>" word of s; false if absent or not a number. */
bool word_value(const char *s, const char *key, uint32_t *value);
const char *mmap_type_name(uint32_t type);
/* Prints the memory map, one "mmap: [base-last] type" line per entry; returns the count. */
unsigned mbi_print_mmap(const struct multiboot_info *mbi);

/* ---- Compiler helpers gcc calls for 64-bit division on i386 (libgcc.c). */
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);

#endif
