// Formatted output: printf, fprintf, vfprintf, snprintf, vsnprintf.
//
// All of them share one formatter that hands characters to an "out"
// structure.  An out either fills a caller's string (snprintf) or fills a
// buffer on the stack that is written to a file descriptor when it is full
// and once at the end (printf).  So a printf whose output fits in the buffer
// reaches the kernel as a single write(), and lines printed by processes
// running at the same time do not get mixed inside a line.
//
// Supported: %d %i %u %x %X %p %s %c %%, the length modifiers hh h l ll z,
// the flags - 0 + space #, a field width and a precision (either may be *).

#include "user/user.h"

#define FDBUF 1024

struct out {
  char *buf;        // where characters go
  size_t cap;       // size of buf
  size_t len;       // characters now in buf
  int fd;           // file descriptor to flush to, or -1 for a string
  int failed;       // a write() failed
  size_t total;     // characters produced so far, stored or not
};

static void
flush(struct out *o)
{
  size_t done = 0;

  while (done < o->len && !o->failed) {
    int n = write(o->fd, o->buf + done, o->len - done);
    if (n <= 0)
      o->failed = 1;
    else
      done += n;
  }
  o->len = 0;
}

static void
putch(struct out *o, char c)
{
  o->total++;
  if (o->fd >= 0) {
    if (o->len == o->cap)
      flush(o);
    o->buf[o->len++] = c;
  } else if (o->len + 1 < o->cap) {
    // Keep one byte for the NUL that vsnprintf adds at the end.
    o->buf[o->len++] = c;
  }
}

static void
putrep(struct out *o, char c, int n)
{
  while (n-- > 0)
    putch(o, c);
}

// One conversion's flags, width and precision.
struct spec {
  int left;         // '-': pad on the right
  int zero;         // '0': pad numbers with zeros
  int plus;         // '+': always print a sign
  int space;        // ' ': a space where a plus sign would go
  int alt;          // '#': 0x before hex numbers
  int width;        // minimum field width, 0 if none
  int prec;         // precision, -1 if none
};

// Print a string of n characters padded to the field width.
static void
putfield(struct out *o, const struct spec *sp, const char *s, int n)
{
  int pad = sp->width > n ? sp->width - n : 0;

  if (!sp->left)
    putrep(o, ' ', pad);
  for (int i = 0; i < n; i++)
    putch(o, s[i]);
  if (sp->left)
    putrep(o, ' ', pad);
}

// Print an unsigned magnitude v with the given prefix ("-", "0x", ...).
static void
putnum(struct out *o, const struct spec *sp, unsigned long long v, int base,
       int upper, const char *prefix)
{
  const char *digitset = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char digits[24];      // 2^64 has 20 decimal digits, 16 hex ones
  int nd = 0;

  // Digits come out least significant first.  With a precision of 0 the
  // value 0 prints no digits at all, as in C.
  while (v != 0) {
    digits[nd++] = digitset[v % base];
    v /= base;
  }
  if (nd == 0 && sp->prec != 0)
    digits[nd++] = '0';

  int plen = strlen(prefix);
  int zeros = sp->prec > nd ? sp->prec - nd : 0;
  int body = plen + zeros + nd;
  int pad = sp->width > body ? sp->width - body : 0;

  // The 0 flag pads between the prefix and the digits, but is ignored
  // when a precision is given or the field is left-justified.
  if (sp->zero && !sp->left && sp->prec < 0) {
    zeros += pad;
    pad = 0;
  }
  if (!sp->left)
    putrep(o, ' ', pad);
  for (int i = 0; i < plen; i++)
    putch(o, prefix[i]);
  putrep(o, '0', zeros);
  while (nd > 0)
    putch(o, digits[--nd]);
  if (sp->left)
    putrep(o, ' ', pad);
}

// Length modifiers.
enum { LEN_HH, LEN_H, LEN_INT, LEN_L, LEN_LL, LEN_Z };

static void
format(struct out *o, const char *fmt, va_list ap)
{
  for (const char *p = fmt; *p != '\0'; p++) {
    if (*p != '%') {
      putch(o, *p);
      continue;
    }
    const char *start = p;     // to echo an unknown conversion
    struct spec sp = { .prec = -1 };

    // Flags, in any order.
    for (;;) {
      p++;
      if (*p == '-') sp.left = 1;
      else if (*p == '0') sp.zero = 1;
      else if (*p == '+') sp.plus = 1;
      else if (*p == ' ') sp.space = 1;
      else if (*p == '#') sp.alt = 1;
      else break;
    }

    // Width: digits or '*'; a negative '*' width means left-justify.
    if (*p == '*') {
      sp.width = va_arg(ap, int);
      if (sp.width < 0) {
        sp.left = 1;
        sp.width = -sp.width;
      }
      p++;
    } else {
      while (*p >= '0' && *p <= '9')
        sp.width = sp.width * 10 + (*p++ - '0');
    }

    // Precision: '.' then digits or '*'; a negative '*' means none.
    if (*p == '.') {
      p++;
      sp.prec = 0;
      if (*p == '*') {
        sp.prec = va_arg(ap, int);
        if (sp.prec < 0)
          sp.prec = -1;
        p++;
      } else {
        while (*p >= '0' && *p <= '9')
          sp.prec = sp.prec * 10 + (*p++ - '0');
      }
    }

    int len = LEN_INT;
    if (*p == 'h') {
      len = LEN_H;
      if (*++p == 'h') {
        len = LEN_HH;
        p++;
      }
    } else if (*p == 'l') {
      len = LEN_L;
      if (*++p == 'l') {
        len = LEN_LL;
        p++;
      }
    } else if (*p == 'z') {
      len = LEN_Z;
      p++;
    }

    switch (*p) {
    case 'd':
    case 'i': {
      long long v;
      if (len == LEN_L || len == LEN_LL || len == LEN_Z)
        v = va_arg(ap, long long);   // long, long long and ssize_t: 64 bits
      else
        v = va_arg(ap, int);
      if (len == LEN_H)
        v = (short)v;
      else if (len == LEN_HH)
        v = (signed char)v;
      // Negate in unsigned arithmetic so that the most negative value works.
      unsigned long long mag = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
      const char *sign = v < 0 ? "-" : sp.plus ? "+" : sp.space ? " " : "";
      putnum(o, &sp, mag, 10, 0, sign);
      break;
    }
    case 'u':
    case 'x':
    case 'X': {
      unsigned long long v;
      if (len == LEN_L || len == LEN_LL || len == LEN_Z)
        v = va_arg(ap, unsigned long long);
      else
        v = va_arg(ap, unsigned int);
      if (len == LEN_H)
        v = (unsigned short)v;
      else if (len == LEN_HH)
        v = (unsigned char)v;
      int base = *p == 'u' ? 10 : 16;
      const char *prefix = "";
      if (sp.alt && base == 16 && v != 0)
        prefix = *p == 'X' ? "0X" : "0x";
      putnum(o, &sp, v, base, *p == 'X', prefix);
      break;
    }
    case 'p': {
      void *ptr = va_arg(ap, void *);
      putnum(o, &sp, (uintptr_t)ptr, 16, 0, "0x");
      break;
    }
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (s == NULL)
        s = "(null)";
      // With a precision, read no further than it: the string need not be
      // NUL-terminated then.
      int n = 0;
      while ((sp.prec < 0 || n < sp.prec) && s[n] != '\0')
        n++;
      putfield(o, &sp, s, n);
      break;
    }
    case 'c': {
      char c = (char)va_arg(ap, int);
      putfield(o, &sp, &c, 1);
      break;
    }
    case '%':
      putch(o, '%');
      break;
    default:
      // Not a conversion we know (or the string ended): print it as it
      // was written so the mistake is visible.
      for (const char *q = start; q <= p && *q != '\0'; q++)
        putch(o, *q);
      if (*p == '\0')
        return;
      break;
    }
  }
}

int
vfprintf(int fd, const char *fmt, va_list ap)
{
  char buf[FDBUF];
  struct out o = { .buf = buf, .cap = sizeof(buf), .fd = fd };

  format(&o, fmt, ap);
  flush(&o);
  return o.failed ? -1 : (int)o.total;
}

int
fprintf(int fd, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  int r = vfprintf(fd, fmt, ap);
  va_end(ap);
  return r;
}

int
printf(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  int r = vfprintf(1, fmt, ap);
  va_end(ap);
  return r;
}

// Like C's vsnprintf: writes at most size-1 characters and a NUL, and
// returns the length the whole output would have had.
int
vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
  struct out o = { .buf = buf, .cap = size, .fd = -1 };

  format(&o, fmt, ap);
  if (size > 0)
    buf[o.len] = '\0';
  return (int)o.total;
}

int
snprintf(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  int r = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return r;
}
