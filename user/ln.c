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
    // The error could be about either name; name both.
    fprintf(2, "ln: %s -> %s: %s\n", argv[2], argv[1], strerror(errno));
    exit(1);
  }
  exit(0);
}
