// rename(2): move a name from one place in the tree to another, in one
// operation, so that a crash leaves either the old name or the new one.
//
// Two directories must be locked at once.  Everywhere else the rule is
// parent before child, so rename locks an ancestor before its descendant;
// for unrelated directories any order is safe because renames, the only
// operations that lock two directories, run one at a time (rename_lock).
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/fs.h"
#include "lib/lib.h"
#include "lib/sleeplock.h"
#include "proc/syscall.h"
#include "fs/fs.h"
#include "fs/log.h"

static struct sleeplock rename_lock;

void
rename_init(void)
{
  initsleeplock(&rename_lock, "rename");
}

// Is directory a the same as, or an ancestor of, directory b?  Walks up
// through ".." from b; no inode locks may be held.  1, 0, or -EIO.
static int
is_ancestor(struct inode *a, struct inode *b)
{
  struct inode *cur = idup(b), *up;
  int r = 0;

  for (int depth = 0; depth < 4096 && r == 0; depth++) {
    if (cur->inum == a->inum) {
      r = 1;
      break;
    }
    if (cur->inum == ROOTINO || (r = ilock(cur)) < 0)
      break;
    r = dirlookup(cur, "..", 0, &up);
    iunlock(cur);
    if (r < 0)
      break;
    iput(cur);
    cur = up;
  }
  iput(cur);
  return r == -ENOENT ? 0 : r;
}

static int
dots(const char *name)
{
  return namecmp(name, ".") == 0 || namecmp(name, "..") == 0;
}

// Point directory ip's ".." at newparent.  ip is locked.  0 or -EIO.
static int
set_dotdot(struct inode *ip, uint newparent)
{
  uint off;
  struct inode *old;
  int r = dirlookup(ip, "..", &off, &old);

  if (r < 0)
    return r == -ENOENT ? -EIO : r;   // a directory without "..": damaged
  iput(old);
  struct dirent de;
  memset(&de, 0, sizeof(de));
  de.inum = newparent;
  de.name[0] = de.name[1] = '.';
  return writei(ip, 0, (uint64)&de, off, sizeof(de)) == sizeof(de) ? 0 : -EIO;
}

// The entry name in directory dp, looked up with only dp locked for the
// moment: 0 with it referenced, unlocked, in *ipp; -ENOENT; or -EIO.
static int
peek(struct inode *dp, const char *name, struct inode **ipp)
{
  int r = ilock(dp);

  if (r < 0)
    return r;
  r = dirlookup(dp, name, 0, ipp);
  iunlock(dp);
  return r;
}

// 1 if ip is a directory, 0 if not, -EIO.
static int
is_dir(struct inode *ip)
{
  int r = ilock(ip);

  if (r < 0)
    return r;
  r = ip->type == T_DIR;
  iunlock(ip);
  return r;
}

// Lock two directories, an ancestor before its descendant.  0 or -EIO
// (then none is locked).
static int
lock_parents(struct inode *odp, struct inode *ndp, struct inode **first, struct inode **second)
{
  int new_above_old = odp != ndp ? is_ancestor(ndp, odp) : 0;
  int r;

  if (new_above_old < 0)
    return new_above_old;
  *first = new_above_old ? ndp : odp;
  *second = new_above_old ? odp : ndp;
  if ((r = ilock(*first)) < 0)
    return r;
  if (*second != *first && (r = ilock(*second)) < 0)
    iunlock(*first);
  return r;
}

static void
unlock_parents(struct inode *first, struct inode *second)
{
  if (second != first)
    iunlock(second);
  iunlock(first);
}

// With the directories locked: does name in dp still name want (0 for
// none)?  0, -EAGAIN if not (another process changed dp), or -EIO.
static int
still_named(struct inode *dp, const char *name, uint *off, struct inode *want)
{
  struct inode *ip = 0;
  int r = dirlookup(dp, name, off, &ip);

  if (r == 0)
    iput(ip);
  else if (r != -ENOENT)
    return r;
  return ip == want ? 0 : -EAGAIN;
}

// Replace the existing target (a child of ndp, unlocked) by ip: check the
// types, then remove target's entry.  ndp is locked.  0 or -errno.
static int
remove_target(struct inode *ndp, uint noff, struct inode *target, int isdir)
{
  int r = ilock(target);

  if (r < 0)
    return r;
  if (isdir && target->type != T_DIR)
    r = -ENOTDIR;
  else if (!isdir && target->type == T_DIR)
    r = -EISDIR;
  else if (target->type == T_DIR && (r = isdirempty(target)) <= 0)
    r = r < 0 ? r : -ENOTEMPTY;
  else if ((r = dirunlink(ndp, noff)) == 0) {
    target->nlink--;
    iupdate(target);
  }
  iunlock(target);
  return r;
}

// The last steps, once the new name exists: remove the old one, and
// point a moved directory's ".." at its new parent (newparent, or 0).
static int
drop_old_name(struct inode *odp, uint ooff, struct inode *ip, struct inode *newparent)
{
  int r = dirunlink(odp, ooff);

  if (r == 0 && newparent && (r = ilock(ip)) == 0) {
    r = set_dotdot(ip, newparent->inum);
    iunlock(ip);
  }
  return r;
}

// The checks that walk up the tree, before any directory is locked: a
// directory can't move into itself or below itself; a target above the
// old name is a directory that contains it, so it is not empty (and
// locking it after odp would break the parent-before-child order).
static int
check_shape(struct inode *ip, int isdir, struct inode *target, struct inode *odp,
            struct inode *ndp)
{
  int r = isdir ? is_ancestor(ip, ndp) : 0;

  if (r != 0)
    return r < 0 ? r : -EINVAL;
  r = target ? is_ancestor(target, odp) : 0;
  if (r != 0)
    return r < 0 ? r : isdir ? -ENOTEMPTY : -EISDIR;
  return 0;
}

// One attempt at the rename, inside an operation with rename_lock held.
// Returns -EAGAIN if another process changed one of the directories while
// it looked, and the caller tries again.  After locking, the entries are
// looked up again to see they still match.  A disk error after the first
// change would leave half a rename to commit: the file system shuts down
// instead.
static int
try_rename(struct inode *odp, const char *oname, struct inode *ndp, const char *nname)
{
  struct inode *ip, *target = 0, *first, *second;
  uint ooff, noff;
  int r, isdir;

  if ((r = peek(odp, oname, &ip)) < 0)
    return r;
  if ((r = peek(ndp, nname, &target)) < 0 && r != -ENOENT)
    goto out;
  if ((r = isdir = is_dir(ip)) < 0 || target == ip ||
      (r = check_shape(ip, isdir, target, odp, ndp)) < 0 ||
      (r = lock_parents(odp, ndp, &first, &second)) < 0)
    goto out;
  if ((r = still_named(odp, oname, &ooff, ip)) == 0 &&
      (r = still_named(ndp, nname, &noff, target)) == 0)
    r = ndp->nlink == 0 ? -ENOENT : 0;
  if (r == 0 && target)
    r = remove_target(ndp, noff, target, isdir);
  // dirlink fails on a full disk before it changes anything: target, if
  // any, is gone then, but no name is lost.
  if (r == 0 && (r = dirlink(ndp, nname, ip->inum)) == 0 &&
      (r = drop_old_name(odp, ooff, ip, isdir && odp != ndp ? ndp : 0)) < 0)
    fs_shutdown("renaming (half done)", 0);
  unlock_parents(first, second);
out:
  if (target)
    iput(target);
  iput(ip);
  return r < 0 ? r : 0;
}

// The body of rename, inside an operation with rename_lock held.
static int
do_rename(const char *oldpath, const char *newpath)
{
  char oname[DIRSIZ], nname[DIRSIZ];
  struct inode *odp, *ndp;
  int r;

  if ((r = nameiparent_err(oldpath, oname, &odp)) < 0)
    return r;
  if ((r = nameiparent_err(newpath, nname, &ndp)) < 0) {
    iput(odp);
    return r;
  }
  if (dots(oname) || dots(nname))
    r = -EINVAL;
  else
    while ((r = try_rename(odp, oname, ndp, nname)) == -EAGAIN)
      ;
  iput(ndp);
  iput(odp);
  return r;
}

int64
sys_rename(void)
{
  char oldpath[MAXPATH], newpath[MAXPATH];
  int r;

  if ((r = argstr(0, oldpath, MAXPATH)) < 0 || (r = argstr(1, newpath, MAXPATH)) < 0)
    return r;
  if ((r = fs_check_writable()) < 0)
    return r;
  acquiresleep(&rename_lock);
  begin_op();
  r = do_rename(oldpath, newpath);
  end_op();
  releasesleep(&rename_lock);
  return r;
}
