// wc: count lines, words and bytes.  Prints "lines words bytes name" for
// each file, or for standard input when there are no arguments.

#include "user/user.h"

static char buf[8192];

static int
isspace_(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Returns 0, or -1 after printing an error.
static int
count(int fd, const char *name)
{
  long lines = 0, words = 0, bytes = 0;
  int inword = 0;    // carried across reads: a word may span two buffers
  int n;

  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    bytes += n;
    for (int i = 0; i < n; i++) {
      if (buf[i] == '\n')
        lines++;
      if (isspace_(buf[i])) {
        inword = 0;
      } else if (!inword) {
        inword = 1;
        words++;
      }
    }
  }
  if (n < 0) {
    fprintf(2, "wc: %s: %s\n", name, strerror(errno));
    return -1;
  }
  printf("%ld %ld %ld %s\n", lines, words, bytes, name);
  return 0;
}

int
main(int argc, char *argv[])
{
  int status = 0;

  if (argc < 2)
    exit(count(0, "") < 0 ? 1 : 0);
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "wc: %s: %s\n", argv[i], strerror(errno));
      status = 1;
      continue;
    }
    if (count(fd, argv[i]) < 0)
      status = 1;
    close(fd);
  }
  exit(status);
}
