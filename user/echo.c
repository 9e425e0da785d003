// echo: print the arguments, separated by spaces, and a newline.

#include "user/user.h"

int
main(int argc, char *argv[])
{
  // Build the whole line first so that it reaches the output in one
  // write when it fits; a very long line goes out in pieces.
  char buf[512];
  int len = 0;

  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    int n = strlen(s);
    int sep = (i + 1 < argc) ? 1 : 0;
    if (len + n + sep + 1 > (int)sizeof(buf)) {
      if (len > 0 && write(1, buf, len) != len)
        exit(1);
      len = 0;
      if (n + sep + 1 > (int)sizeof(buf)) {
        // Longer than the whole buffer: send it straight through.
        if (write(1, s, n) != n)
          exit(1);
        n = 0;
      }
    }
    memmove(buf + len, s, n);
    len += n;
    if (sep)
      buf[len++] = ' ';
  }
  buf[len++] = '\n';
  if (write(1, buf, len) != len)
    exit(1);
  exit(0);
}
