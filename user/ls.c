// ls: list files.  For each argument (default "."): a file prints one
// line, a directory prints one line per entry.  Each line is
//
//     name  type  inode  size
//
// with type as in uapi/stat.h (1 directory, 2 file, 3 device).

#include "user/user.h"

static int status;

// The last component of a path, for printing.
static const char *
basename(const char *path)
{
  const char *slash = strrchr(path, '/');

  if (slash == NULL)
    return path;
  if (slash[1] == '\0')
    return path;       // "dir/": keep it as given rather than print ""
  return slash + 1;
}

static void
show(const char *name, const struct stat *st)
{
  printf("%-14s %d %u %lu\n", name, st->type, st->ino, (unsigned long)st->size);
}

static void
fail(const char *path)
{
  fprintf(2, "ls: %s: %s\n", path, strerror(errno));
  status = 1;
}

static void
list(const char *path)
{
  struct stat st;
  int fd = open(path, O_RDONLY);

  if (fd < 0) {
    fail(path);
    return;
  }
  if (fstat(fd, &st) < 0) {
    fail(path);
    close(fd);
    return;
  }
  if (st.type != T_DIR) {
    show(basename(path), &st);
    close(fd);
    return;
  }

  // A directory is a file of struct dirent; free slots have inum 0.
  char full[512];
  struct dirent de;
  int n;
  while ((n = read(fd, &de, sizeof(de))) == sizeof(de)) {
    if (de.inum == 0)
      continue;
    char name[DIRSIZ + 1];
    memmove(name, de.name, DIRSIZ);
    name[DIRSIZ] = '\0';          // in case the disk holds no NUL
    if (snprintf(full, sizeof(full), "%s/%s", path, name) >= (int)sizeof(full)) {
      fprintf(2, "ls: %s/%s: %s\n", path, name, strerror(ENAMETOOLONG));
      status = 1;
      continue;
    }
    struct stat est;
    if (stat(full, &est) < 0) {
      fail(full);
      continue;
    }
    show(name, &est);
  }
  if (n < 0)
    fail(path);
  close(fd);
}

int
main(int argc, char *argv[])
{
  if (argc < 2)
    list(".");
  for (int i = 1; i < argc; i++)
    list(argv[i]);
  exit(status);
}
