// init: the first user process.
//
// It gives itself the console as standard input, output and error (which
// every later process inherits), then runs the shell again and again, so
// that leaving the shell brings up a fresh one.  As the parent of last
// resort it also collects orphaned processes: every wait that returns some
// other child's pid is one of those.

#include "user/user.h"

int
main(void)
{
  char *argv[] = { "sh", NULL };

  // The console device file exists in a fresh image only after the first
  // boot creates it.
  if (open("console", O_RDWR) < 0) {
    mknod("console", CONSOLE, 0);
    if (open("console", O_RDWR) < 0)
      poweroff(1); // no console (a disk that fails its reads): nobody to talk to
  }
  dup(0);          // standard output
  dup(0);          // standard error

  for (;;) {
    printf("init: starting sh\n");
    int pid = fork();
    if (pid < 0) {
      fprintf(2, "init: fork: %s\n", strerror(errno));
      sleep(100);
      continue;
    }
    if (pid == 0) {
      exec("/sh", argv);
      fprintf(2, "init: exec /sh: %s\n", strerror(errno));
      exit(127);
    }

    int status = 0;
    for (;;) {
      int w = wait(&status);
      if (w == pid)
        break;
      if (w < 0 && errno == ECHILD)
        break;     // should not happen: the shell is our child
      // Otherwise an orphan was reaped; keep waiting for the shell.
    }
    // A shell that could not even start would otherwise be restarted in
    // a tight loop that floods the console.
    if (status == 127)
      sleep(100);
  }
}
