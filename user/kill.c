// kill: kill processes by pid.

#include "user/user.h"

static int
kill_arg(const char *arg)
{
  char *end;
  long pid = strtol(arg, &end, 10);

  if (end == arg || *end != '\0' || pid <= 0) {
    fprintf(2, "kill: %s: not a process id\n", arg);
    return -1;
  }
  return kill((int)pid);
}

int
main(int argc, char *argv[])
{
  exit(each_arg(argc, argv, "kill pid...", kill_arg));
}
