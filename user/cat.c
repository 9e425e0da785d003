// cat: copy files (or standard input) to standard output.

#include "user/user.h"

static char buf[8192];

// Copy everything from fd to standard output; name (0: standard input)
// is used in messages.
static int
copy(int fd, const char *name)
{
  for (;;) {
    int n = read(fd, buf, sizeof(buf));
    if (n == 0)
      return 0;
    if (n < 0) {
      fprintf(2, "cat: %s: %s\n", name ? name : "standard input", strerror(errno));
      return -1;
    }
    // A write may take less than asked (a pipe whose reader is slow, say).
    for (int off = 0; off < n;) {
      int w = write(1, buf + off, n - off);
      if (w <= 0) {
        fprintf(2, "cat: write error: %s\n", w < 0 ? strerror(errno) : "short write");
        return -1;
      }
      off += w;
    }
  }
}

int
main(int argc, char *argv[])
{
  exit(each_file(argc, argv, 1, copy));
}
