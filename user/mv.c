// mv: rename a file or directory.  If the new name is an existing
// directory, the file moves into it under its old last name.

#include "user/user.h"

int
main(int argc, char *argv[])
{
  if (argc != 3) {
    fprintf(2, "usage: mv old new\n");
    exit(1);
  }
  const char *from = argv[1];
  const char *to = argv[2];
  char path[512];
  struct stat st;

  if (stat(to, &st) == 0 && st.type == T_DIR) {
    // Last component of the source, ignoring trailing slashes.
    int end = strlen(from);
    while (end > 1 && from[end - 1] == '/')
      end--;
    int start = end;
    while (start > 0 && from[start - 1] != '/')
      start--;
    int n = snprintf(path, sizeof(path), "%s/%.*s", to, end - start, from + start);
    if (n >= (int)sizeof(path)) {
      fprintf(2, "mv: %s: %s\n", to, strerror(ENAMETOOLONG));
      exit(1);
    }
    to = path;
  }
  if (rename(from, to) < 0) {
    // Name the path the error is about: the source if it cannot be
    // reached, else the destination.
    int err = errno;
    if (stat(from, &st) < 0 && errno != ENXIO)
      fprintf(2, "mv: %s: %s\n", from, strerror(errno));
    else
      fprintf(2, "mv: %s: %s\n", to, strerror(err));
    exit(1);
  }
  exit(0);
}
