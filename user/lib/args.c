// The argument loops of the command-line tools.  Most tools apply one
// operation to each argument (mkdir, rm, kill), or read each file named
// (cat, wc, grep), or standard input when none is; these do the looping,
// the error messages and the exit status, so each tool holds only its
// own work.
#include "user/user.h"

// Run op on each of argv[1..argc-1].  At least one argument is needed:
// without, print "usage: USAGE" and exit 1.  When op fails (returns < 0)
// print "tool: arg: error", unless op has printed its own message and left
// errno 0.  Returns the exit status: 0 if every op succeeded, else 1.
int
each_arg(int argc, char *argv[], const char *usage, int (*op)(const char *arg))
{
  int status = 0;

  if (argc < 2) {
    fprintf(2, "usage: %s\n", usage);
    exit(1);
  }
  for (int i = 1; i < argc; i++) {
    errno = 0;
    if (op(argv[i]) < 0) {
      if (errno)
        fprintf(2, "%s: %s: %s\n", argv[0], argv[i], strerror(errno));
      status = 1;
    }
  }
  return status;
}

// Call fn(fd, name) for each file named in argv[first..argc-1], open for
// reading, or fn(0, 0) for standard input when none is named.  A file
// that cannot be opened gets "tool: name: error".  fn returns < 0 when it
// failed (having said why).  Returns the exit status: 0 or 1.
int
each_file(int argc, char *argv[], int first, int (*fn)(int fd, const char *name))
{
  int status = 0;

  if (argc <= first)
    return fn(0, 0) < 0 ? 1 : 0;
  for (int i = first; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "%s: %s: %s\n", argv[0], argv[i], strerror(errno));
      status = 1;
      continue;
    }
    if (fn(fd, argv[i]) < 0)
      status = 1;
    close(fd);
  }
  return status;
}
