// halt: power the machine off.  "halt N" makes QEMU exit with status N,
// which lets a test script report success or failure to the host.

#include "user/user.h"

int
main(int argc, char *argv[])
{
  int code = 0;

  if (argc > 2) {
    fprintf(2, "usage: halt [code]\n");
    exit(1);
  }
  if (argc == 2) {
    char *end;
    code = (int)strtol(argv[1], &end, 0);
    if (end == argv[1] || *end != '\0') {
      fprintf(2, "halt: %s: not a number\n", argv[1]);
      exit(1);
    }
  }
  poweroff(code);
  // Only reached if the kernel refused.
  fprintf(2, "halt: %s\n", strerror(errno));
  exit(1);
}
