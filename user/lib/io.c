// gets and stat: small conveniences built on system calls.

#include "user/user.h"

// Read one line from standard input into buf, keeping the newline, and
// stop early when buf is full (max-1 characters) or input ends.  buf is
// always NUL-terminated; an empty result means end of input.  Reading one
// byte at a time is slow but never consumes input past the line, which
// matters when a child process will read the rest.
char *
gets(char *buf, int max)
{
  int i = 0;

  if (max <= 0)
    return buf;
  while (i + 1 < max) {
    char c;
    if (read(0, &c, 1) != 1)
      break;
    buf[i++] = c;
    if (c == '\n' || c == '\r')
      break;
  }
  buf[i] = '\0';
  return buf;
}

int
stat(const char *path, struct stat *st)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  int r = fstat(fd, st);
  // close must not clobber the errno of a failed fstat.
  int err = errno;
  close(fd);
  errno = err;
  return r;
}
