// ln: make a new name for an existing file (a hard link).

#include "user/user.h"

int
main(int argc, char *argv[])
{
  if (argc != 3) {
    fprintf(2, "usage: ln old new\n");
    exit(1);
  }
  if (link(argv[1], argv[2]) < 0) {
    // Name the path the error is about: the old one if it cannot be
    // reached, else the new one.
    int err = errno;
    struct stat st;
    if (stat(argv[1], &st) < 0)
      fprintf(2, "ln: %s: %s\n", argv[1], strerror(errno));
    else
      fprintf(2, "ln: %s: %s\n", argv[2], strerror(err));
    exit(1);
  }
  exit(0);
}
