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
    fprintf(2, "wc: %s: %s\n", name ? name : "standard input", strerror(errno));
    return -1;
  }
  printf("%ld %ld %ld %s\n", lines, words, bytes, name ? name : "");
  return 0;
}

int
main(int argc, char *argv[])
{
  exit(each_file(argc, argv, 1, count));
}
