// Helpers shared by mkfs and fsck.  See fsutil.h.

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"

void
vcomplain(const char *prog, const char *fmt, va_list ap)
{
  fprintf(stderr, "%s: ", prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

int
read_block(int fd, uint32_t b, void *buf)
{
  char *p = buf;
  size_t done = 0;
  off_t off = (off_t)b * BSIZE;

  while (done < BSIZE) {
    ssize_t n = pread(fd, p + done, BSIZE - done, off + done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (n == 0)
      break;            // end of file: the rest reads as zeros
    done += n;
  }
  memset(p + done, 0, BSIZE - done);
  return 0;
}

int
write_block(int fd, uint32_t b, const void *buf)
{
  const char *p = buf;
  size_t done = 0;
  off_t off = (off_t)b * BSIZE;

  while (done < BSIZE) {
    ssize_t n = pwrite(fd, p + done, BSIZE - done, off + done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    done += n;
  }
  return 0;
}

int
parse_u32(const char *s, uint32_t *out)
{
  uint64_t v = 0;

  // strtoul would accept "-1", " 7" and "0x10"; a size given on a command
  // line should be exactly what it looks like.
  if (*s == '\0')
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    v = v * 10 + (uint64_t)(*s - '0');
    if (v > UINT32_MAX)
      return -1;
  }
  *out = (uint32_t)v;
  return 0;
}
