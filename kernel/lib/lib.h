// Kernel library: formatted output, panics, and string/memory helpers.
#ifndef QUIRE_LIB_H
#define QUIRE_LIB_H

#include "types.h"
#include <stdarg.h>

// printf.c
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, int size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void printf_init(void);
void backtrace(void);
extern volatile int panicked;

// dev/poweroff.c: stop the machine; QEMU exits with status code.
void poweroff(int code) __attribute__((noreturn));

// A cheap sanity check that stays on in every build.
#define assert(cond) \
  do { if (!(cond)) panic("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__); } while (0)

// string.c
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int strncmp(const char *a, const char *b, size_t n);
char *safestrcpy(char *dst, const char *src, int n);
size_t strlen(const char *s);

#endif
