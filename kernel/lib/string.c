// Memory and string helpers.  gcc may also emit calls to memset, memcpy and
// memmove for structure copies, so these names must exist.
#include "types.h"
#include "lib/lib.h"

void *
memset(void *dst, int c, size_t n)
{
  uchar *d = dst;

  // Whole words when both the pointer and the count allow it.
  if (((uint64)d & 7) == 0 && (n & 7) == 0) {
    uint64 w = (uchar)c;
    w |= w << 8;
    w |= w << 16;
    w |= w << 32;
    for (uint64 *p = dst; n > 0; n -= 8)
      *p++ = w;
    return dst;
  }
  while (n-- > 0)
    *d++ = c;
  return dst;
}

void *
memmove(void *dst, const void *src, size_t n)
{
  uchar *d = dst;
  const uchar *s = src;

  if (s < d && s + n > d) {
    // Overlap with the destination above: copy from the end.
    while (n-- > 0)
      d[n] = s[n];
    return dst;
  }
  if ((((uint64)d | (uint64)s | n) & 7) == 0) {
    uint64 *dw = dst;
    const uint64 *sw = src;
    for (; n > 0; n -= 8)
      *dw++ = *sw++;
    return dst;
  }
  while (n-- > 0)
    *d++ = *s++;
  return dst;
}

void *
memcpy(void *dst, const void *src, size_t n)
{
  return memmove(dst, src, n);
}

int
memcmp(const void *a, const void *b, size_t n)
{
  const uchar *x = a, *y = b;

  for (; n > 0; n--, x++, y++)
    if (*x != *y)
      return *x - *y;
  return 0;
}

int
strncmp(const char *a, const char *b, size_t n)
{
  for (; n > 0; n--, a++, b++) {
    if (*a != *b)
      return (uchar)*a - (uchar)*b;
    if (*a == 0)
      return 0;
  }
  return 0;
}

// Copy at most n-1 characters and always NUL-terminate (unlike strncpy).
char *
safestrcpy(char *dst, const char *src, int n)
{
  char *d = dst;

  if (n <= 0)
    return dst;
  while (--n > 0 && *src)
    *d++ = *src++;
  *d = 0;
  return dst;
}

size_t
strlen(const char *s)
{
  size_t n = 0;

  while (s[n])
    n++;
  return n;
}
