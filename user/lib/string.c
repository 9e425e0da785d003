// Memory and string functions.
//
// The memory functions move eight bytes at a time when both pointers allow
// it, because tests and benchmarks push megabytes through them; the string
// functions are the plain byte-at-a-time loops.
//
// gcc recognises a byte-copy or byte-fill loop and may replace it with a
// call to memcpy or memset, which inside memcpy and memset themselves would
// recurse forever.  NO_LIBCALL switches that transformation off for the
// functions where it could happen.

#include "user/user.h"

#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

typedef uint64 word_t;
#define WSIZE sizeof(word_t)

static inline int
aligned(const void *p)
{
  return ((uintptr_t)p & (WSIZE - 1)) == 0;
}

NO_LIBCALL void *
memset(void *dst, int c, size_t n)
{
  uchar *d = dst;
  uchar b = (uchar)c;

  // Bytes until d is word-aligned, then whole words, then the tail.
  while (n > 0 && !aligned(d)) {
    *d++ = b;
    n--;
  }
  if (n >= WSIZE) {
    word_t w = b * 0x0101010101010101ULL;   // b in every byte of the word
    for (; n >= WSIZE; n -= WSIZE, d += WSIZE)
      *(word_t *)d = w;
  }
  while (n-- > 0)
    *d++ = b;
  return dst;
}

NO_LIBCALL void *
memmove(void *dst, const void *src, size_t n)
{
  uchar *d = dst;
  const uchar *s = src;

  if (d == s || n == 0)
    return dst;

  // Words are usable only if both pointers share the same alignment.
  int words = ((uintptr_t)d & (WSIZE - 1)) == ((uintptr_t)s & (WSIZE - 1));

  if (d < s || d >= s + n) {
    // Copying forwards is safe: dst starts below src, or they don't overlap.
    if (words) {
      while (n > 0 && !aligned(d)) {
        *d++ = *s++;
        n--;
      }
      for (; n >= WSIZE; n -= WSIZE, d += WSIZE, s += WSIZE)
        *(word_t *)d = *(const word_t *)s;
    }
    while (n-- > 0)
      *d++ = *s++;
  } else {
    // dst overlaps the end of src: copy from the top down so that every
    // source byte is read before it is overwritten.
    d += n;
    s += n;
    if (words) {
      while (n > 0 && !aligned(d)) {
        *--d = *--s;
        n--;
      }
      for (; n >= WSIZE; n -= WSIZE) {
        d -= WSIZE;
        s -= WSIZE;
        *(word_t *)d = *(const word_t *)s;
      }
    }
    while (n-- > 0)
      *--d = *--s;
  }
  return dst;
}

void *
memcpy(void *dst, const void *src, size_t n)
{
  // memmove is as fast when the regions don't overlap, and it forgives
  // callers who pass overlapping ones by mistake.
  return memmove(dst, src, n);
}

int
memcmp(const void *a, const void *b, size_t n)
{
  const uchar *p = a, *q = b;

  for (; n > 0; n--, p++, q++)
    if (*p != *q)
      return *p - *q;
  return 0;
}

size_t
strlen(const char *s)
{
  const char *e = s;

  while (*e)
    e++;
  return e - s;
}

NO_LIBCALL char *
strcpy(char *dst, const char *src)
{
  char *d = dst;

  while ((*d++ = *src++) != '\0')
    ;
  return dst;
}

NO_LIBCALL char *
strncpy(char *dst, const char *src, size_t n)
{
  size_t i = 0;

  // Copy at most n bytes; if src is shorter, pad the rest with NULs (and if
  // it is longer, dst is left unterminated, as the standard says).
  for (; i < n && src[i] != '\0'; i++)
    dst[i] = src[i];
  for (; i < n; i++)
    dst[i] = '\0';
  return dst;
}

char *
strcat(char *dst, const char *src)
{
  strcpy(dst + strlen(dst), src);
  return dst;
}

char *
strchr(const char *s, int c)
{
  char ch = (char)c;

  // The terminating NUL counts as part of the string: strchr(s, 0) finds it.
  for (;; s++) {
    if (*s == ch)
      return (char *)s;
    if (*s == '\0')
      return NULL;
  }
}

char *
strrchr(const char *s, int c)
{
  char ch = (char)c;
  const char *last = NULL;

  for (;; s++) {
    if (*s == ch)
      last = s;
    if (*s == '\0')
      return (char *)last;
  }
}

char *
strstr(const char *haystack, const char *needle)
{
  size_t n = strlen(needle);

  if (n == 0)
    return (char *)haystack;
  for (; *haystack != '\0'; haystack++)
    if (*haystack == *needle && strncmp(haystack, needle, n) == 0)
      return (char *)haystack;
  return NULL;
}

int
strcmp(const char *a, const char *b)
{
  while (*a != '\0' && *a == *b) {
    a++;
    b++;
  }
  return (uchar)*a - (uchar)*b;
}

int
strncmp(const char *a, const char *b, size_t n)
{
  for (; n > 0; n--, a++, b++) {
    if (*a != *b)
      return (uchar)*a - (uchar)*b;
    if (*a == '\0')
      return 0;
  }
  return 0;
}
