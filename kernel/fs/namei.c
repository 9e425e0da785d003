// Path names: walking from the root or the current directory to an inode.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/fs.h"
#include "lib/lib.h"
#include "proc/proc.h"
#include "fs/fs.h"

// Copy the next element of path into name and return the rest of the path
// after it (and any slashes), or 0 if there is no element left.  Sets *err
// to -ENAMETOOLONG for an element of DIRSIZ bytes or more.
//   skipelem("a/bb/c", name) = "bb/c", name = "a"
//   skipelem("///a//bb", name) = "bb", name = "a"
//   skipelem("", name) = skipelem("////", name) = 0
static const char *
skipelem(const char *path, char *name, int *err)
{
  while (*path == '/')
    path++;
  if (*path == 0)
    return 0;
  const char *s = path;
  while (*path != '/' && *path != 0)
    path++;
  int len = path - s;
  if (len >= DIRSIZ) {
    *err = -ENAMETOOLONG;
    len = DIRSIZ - 1;
  }
  memmove(name, s, len);
  name[len] = 0;
  while (*path == '/')
    path++;
  return path;
}

// Walk path.  With parent set, stop one element early: return the parent
// directory and leave the last element in name.  0 or -errno; on success
// *ipp holds a referenced, unlocked inode.  Must run inside an operation,
// because it calls iput().
static int
namex(const char *path, int parent, char *name, struct inode **ipp)
{
  struct inode *ip, *next;
  int err = 0;

  if (*path == 0)
    return -ENOENT;
  ip = (*path == '/') ? iget(ROOTDEV, ROOTINO) : idup(myproc()->cwd);

  while ((path = skipelem(path, name, &err)) != 0) {
    if (err) {
      iput(ip);
      return err;
    }
    if ((err = ilock(ip)) < 0) {
      iput(ip);
      return err;
    }
    if (ip->type != T_DIR) {
      iunlockput(ip);
      return -ENOTDIR;
    }
    if (parent && *path == 0) {
      iunlock(ip);   // stop one level early
      *ipp = ip;
      return 0;
    }
    err = dirlookup(ip, name, 0, &next);
    iunlockput(ip);
    if (err < 0)
      return err;
    ip = next;
  }
  if (parent) {
    // The path named no element ("/" or ""): there is no parent to give.
    iput(ip);
    return -EINVAL;
  }
  *ipp = ip;
  return 0;
}

int
namei_err(const char *path, struct inode **ipp)
{
  char name[DIRSIZ];

  return namex(path, 0, name, ipp);
}

int
nameiparent_err(const char *path, char *name, struct inode **ipp)
{
  return namex(path, 1, name, ipp);
}

struct inode *
namei(const char *path)
{
  struct inode *ip;

  return namei_err(path, &ip) == 0 ? ip : 0;
}

struct inode *
nameiparent(const char *path, char *name)
{
  struct inode *ip;

  return nameiparent_err(path, name, &ip) == 0 ? ip : 0;
}
