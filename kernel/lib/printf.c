// Kernel formatted output to the console, and panic().
//
// Supports %d %u %x %p %s %c %% with an optional 'l' (ignored: arguments
// are promoted to 64 bits where the size needs it) and a field width.
#include "types.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "dev/console.h"
#include "riscv.h"
#include "memlayout.h"
#include "proc/proc.h"

volatile int panicked = 0;

// Serialises whole printf calls so lines from different harts don't mix
// (and, with uart_hold, keeps user output out of a kernel message).
static struct spinlock printlock;

// Where formatted characters go: the console, or a bounded buffer.
struct sink {
  void (*put)(struct sink *s, char c);
  char *buf;
  int len, cap;
};

static void
put_console(struct sink *s, char c)
{
  console_putc(c);
}

static void
put_buffer(struct sink *s, char c)
{
  if (s->len + 1 < s->cap)
    s->buf[s->len] = c;
  s->len++;
}

static void
put_number(struct sink *s, uint64 x, int base, int is_signed, int width, char pad)
{
  static const char digits[] = "0123456789abcdef";
  char tmp[24];
  int n = 0, neg = 0;

  if (is_signed && (int64)x < 0) {
    neg = 1;
    x = -(int64)x;
  }
  do {
    tmp[n++] = digits[x % base];
    x /= base;
  } while (x != 0);
  if (neg && pad == '0')
    s->put(s, '-');
  for (int w = n + neg; w < width; w++)
    s->put(s, pad);
  if (neg && pad != '0')
    s->put(s, '-');
  while (n > 0)
    s->put(s, tmp[--n]);
}

static void
format(struct sink *s, const char *fmt, va_list ap)
{
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      s->put(s, *fmt);
      continue;
    }
    fmt++;
    char pad = ' ';
    int width = 0, longarg = 0;
    if (*fmt == '0')
      pad = '0';
    while (*fmt >= '0' && *fmt <= '9')
      width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l' || *fmt == 'z') {
      longarg = 1;
      fmt++;
    }
    switch (*fmt) {
    case 'd':
      put_number(s, longarg ? va_arg(ap, int64) : va_arg(ap, int), 10, 1, width, pad);
      break;
    case 'u':
      put_number(s, longarg ? va_arg(ap, uint64) : va_arg(ap, uint), 10, 0, width, pad);
      break;
    case 'x':
      put_number(s, longarg ? va_arg(ap, uint64) : va_arg(ap, uint), 16, 0, width, pad);
      break;
    case 'p':
      s->put(s, '0');
      s->put(s, 'x');
      put_number(s, va_arg(ap, uint64), 16, 0, 16, '0');
      break;
    case 's': {
      const char *str = va_arg(ap, const char *);
      if (str == 0)
        str = "(null)";
      int n = strlen(str);
      for (; n < width; n++)
        s->put(s, ' ');
      while (*str)
        s->put(s, *str++);
      break;
    }
    case 'c':
      s->put(s, va_arg(ap, int));
      break;
    case '%':
      s->put(s, '%');
      break;
    case 0:
      return;
    default:
      s->put(s, '%');
      s->put(s, *fmt);
      break;
    }
  }
}

void
vprintf(const char *fmt, va_list ap)
{
  struct sink s = { .put = put_console };
  int locking = !panicked;

  if (locking) {
    acquire(&printlock);
    uart_hold();
  }
  format(&s, fmt, ap);
  if (locking) {
    uart_unhold();
    release(&printlock);
  }
}

void
printf(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

int
snprintf(char *buf, int size, const char *fmt, ...)
{
  struct sink s = { .put = put_buffer, .buf = buf, .cap = size };
  va_list ap;

  va_start(ap, fmt);
  format(&s, fmt, ap);
  va_end(ap);
  if (size > 0)
    buf[MIN(s.len, size - 1)] = 0;
  return s.len;
}

// Stop the kernel: print the message and a backtrace, then wait forever
// with interrupts off.  Other harts go on until they next print to the
// console (uart_putc stops them there).
void
panic(const char *fmt, ...)
{
  va_list ap;

  panicked = 1;
  printf("\npanic: ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  backtrace();
  intr_off();
  for (;;)
    asm volatile("wfi");
}

// Print the return addresses of the calls that led here, by following the
// frame pointers (the kernel is built with -fno-omit-frame-pointer).  Look
// them up with: addr2line -f -e kernel/kernel ADDR
void
backtrace(void)
{
  uint64 fp = (uint64)__builtin_frame_address(0);
  // The walk stays on the current stack: a process's kernel stack, or
  // the boot stack page of this hart.
  struct proc *p = mycpu()->proc;
  uint64 lo = PGROUNDDOWN(fp), hi = lo + PGSIZE;
  if (p && fp >= p->kstack && fp < p->kstack + KSTACK_PAGES * PGSIZE) {
    lo = p->kstack;
    hi = p->kstack + KSTACK_PAGES * PGSIZE;
  }
  printf("backtrace:\n");
  for (int depth = 0; depth < 32 && fp > lo + 16 && fp <= hi; depth++) {
    printf("  %p\n", (void *)*(uint64 *)(fp - 8));
    fp = *(uint64 *)(fp - 16);
  }
}

void
printf_init(void)
{
  initlock(&printlock, "printf");
}
