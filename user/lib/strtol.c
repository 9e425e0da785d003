// Number parsing: strtol and atoi.

#include "user/user.h"

#define LONG_MAX_ ((long)(~0UL >> 1))
#define LONG_MIN_ (-LONG_MAX_ - 1)

static int
isspace_(int c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// The value of c as a digit, or 99 if it isn't one in any base up to 36.
static int
digitval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z')
    return c - 'A' + 10;
  return 99;
}

// Parse an integer in the given base (2..36, or 0 for "decimal unless it
// starts with 0x or 0").  *end, if not NULL, is set just past the digits;
// if there were none it is set to s.  Out-of-range values are clamped to
// LONG_MIN/LONG_MAX and errno is set to ERANGE.
long
strtol(const char *s, char **end, int base)
{
  const char *p = s;
  int neg = 0;

  if (base != 0 && (base < 2 || base > 36)) {
    errno = EINVAL;
    if (end)
      *end = (char *)s;
    return 0;
  }

  while (isspace_(*p))
    p++;
  if (*p == '+' || *p == '-')
    neg = (*p++ == '-');

  // A "0x" prefix counts only if a hex digit follows; otherwise the "0" is
  // the number and the "x" is where parsing stops.
  if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
      digitval(p[2]) < 16) {
    p += 2;
    base = 16;
  } else if (base == 0) {
    base = (p[0] == '0') ? 8 : 10;
  }

  // Accumulate as a negative number: its range is one larger, so LONG_MIN
  // parses without overflow.
  long acc = 0;
  long limit = LONG_MIN_ / base;   // acc below this can't be multiplied
  int overflow = 0;
  const char *digits = p;

  for (; digitval(*p) < base; p++) {
    int d = digitval(*p);
    if (overflow)
      continue;
    if (acc < limit || acc * base < LONG_MIN_ + d) {
      overflow = 1;
      continue;
    }
    acc = acc * base - d;
  }

  if (end)
    *end = (char *)(p == digits ? s : p);
  if (overflow) {
    errno = ERANGE;
    return neg ? LONG_MIN_ : LONG_MAX_;
  }
  if (!neg) {
    if (acc == LONG_MIN_) {
      errno = ERANGE;
      return LONG_MAX_;
    }
    return -acc;
  }
  return acc;
}

int
atoi(const char *s)
{
  return (int)strtol(s, NULL, 10);
}
