// kill: kill processes by pid.

#include "user/user.h"

int
main(int argc, char *argv[])
{
  int status = 0;

  if (argc < 2) {
    fprintf(2, "usage: kill pid...\n");
    exit(1);
  }
  for (int i = 1; i < argc; i++) {
    char *end;
    long pid = strtol(argv[i], &end, 10);
    if (end == argv[i] || *end != '\0' || pid <= 0) {
      fprintf(2, "kill: %s: not a process id\n", argv[i]);
      status = 1;
      continue;
    }
    if (kill((int)pid) < 0) {
      fprintf(2, "kill: %s: %s\n", argv[i], strerror(errno));
      status = 1;
    }
  }
  exit(status);
}
