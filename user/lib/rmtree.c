// rmtree: remove a file or a whole directory tree, best effort.
#include "user/user.h"

#define RMTREE_DEPTH 20   // deeper trees are left (a loop would never end)

static void
rmtree_at(const char *path, int depth)
{
  // The plain unlink first: it removes files, device nodes (which open
  // cannot reach when no driver exists) and empty directories.
  if (unlink(path) == 0 || errno != ENOTEMPTY || depth > RMTREE_DEPTH)
    return;
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return;
  struct dirent de;
  char sub[256];
  while (read(fd, &de, sizeof(de)) == sizeof(de)) {
    if (de.inum == 0)
      continue;
    char name[DIRSIZ + 1];
    memmove(name, de.name, DIRSIZ);
    name[DIRSIZ] = '\0';
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
      continue;
    if (snprintf(sub, sizeof(sub), "%s/%s", path, name) < (int)sizeof(sub))
      rmtree_at(sub, depth + 1);
  }
  close(fd);
  unlink(path);
}

// Remove path and, if it is a directory, everything below it (at most
// RMTREE_DEPTH levels).  For clearing what an earlier, possibly crashed,
// run of a test left behind.  Returns 0 if path is gone afterwards.
int
rmtree(const char *path)
{
  struct stat st;

  rmtree_at(path, 0);
  return stat(path, &st) < 0 ? 0 : -1;
}
