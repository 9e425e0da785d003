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
// through ".." from b; no inode locks may be held.
static int
is_ancestor(struct inode *a, struct inode *b)
{
  struct inode *cur = idup(b);

  for (int depth = 0; depth < 4096; depth++) {
    if (cur->inum == a->inum) {
      iput(cur);
      return 1;
    }
    if (cur->inum == ROOTINO)
      break;
    ilock(cur);
    struct inode *up = dirlookup(cur, "..", 0);
    iunlockput(cur);
    if (up == 0)
      return 0;
    cur = up;
  }
  iput(cur);
  return 0;
}

static int
dots(const char *name)
{
  return namecmp(name, ".") == 0 || namecmp(name, "..") == 0;
}

// Point directory ip's ".." at newparent.  ip is locked.
static void
set_dotdot(struct inode *ip, uint newparent)
{
  uint off;
  struct inode *old = dirlookup(ip, "..", &off);

  if (old == 0)
    panic("rename: directory without ..");
  iput(old);
  struct dirent de;
  memset(&de, 0, sizeof(de));
  de.inum = newparent;
  de.name[0] = de.name[1] = '.';
  if (writei(ip, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
    panic("rename: cannot rewrite ..");
}

// The entry name in directory dp, looked up with only dp locked for the
// moment.  Returns it referenced, unlocked, or 0.
static struct inode *
peek(struct inode *dp, const char *name)
{
  ilock(dp);
  struct inode *ip = dirlookup(dp, name, 0);
  iunlock(dp);
  return ip;
}

static int
is_dir(struct inode *ip)
{
  ilock(ip);
  int r = ip->type == T_DIR;
  iunlock(ip);
  return r;
}

// Lock two directories, an ancestor before its descendant.
static void
lock_parents(struct inode *odp, struct inode *ndp, struct inode **first, struct inode **second)
{
  int new_above_old = odp != ndp && is_ancestor(ndp, odp);

  *first = new_above_old ? ndp : odp;
  *second = new_above_old ? odp : ndp;
  ilock(*first);
  if (*second != *first)
    ilock(*second);
}

static void
unlock_parents(struct inode *first, struct inode *second)
{
  if (second != first)
    iunlock(second);
  iunlock(first);
}

// Replace the existing target (a child of ndp, unlocked) by ip: check the
// types, then remove target's entry.  ndp is locked.  0 or -errno.
static int
remove_target(struct inode *ndp, uint noff, struct inode *target, int isdir)
{
  int r = 0;

  ilock(target);
  if (isdir && target->type != T_DIR)
    r = -ENOTDIR;
  else if (!isdir && target->type == T_DIR)
    r = -EISDIR;
  else if (target->type == T_DIR && !isdirempty(target))
    r = -ENOTEMPTY;
  if (r == 0) {
    dirunlink(ndp, noff);
    target->nlink--;
    iupdate(target);
  }
  iunlock(target);
  return r;
}

// One attempt at the rename, inside an operation with rename_lock held.
// Returns -EAGAIN if another process changed one of the directories while
// it looked, and the caller tries again.
//
// The tree's shape is checked before any two directories are locked,
// because the checks walk up through ".." and lock inodes themselves;
// after locking, the entries are looked up again to see they still match.
static int
try_rename(struct inode *odp, const char *oname, struct inode *ndp, const char *nname)
{
  struct inode *ip, *target, *first, *second;
  uint ooff, noff;
  int r;

  if ((ip = peek(odp, oname)) == 0)
    return -ENOENT;
  target = peek(ndp, nname);
  int isdir = is_dir(ip);
  if (target == ip) {
    r = 0;   // two names of one file: nothing to do
    goto out;
  }
  // A directory can't move into itself or below itself.
  r = -EINVAL;
  if (isdir && is_ancestor(ip, ndp))
    goto out;
  // A target above the old name is a directory that contains it, so it
  // is not empty; and locking it after odp would break the
  // parent-before-child order.
  r = isdir ? -ENOTEMPTY : -EISDIR;
  if (target && is_ancestor(target, odp))
    goto out;

  lock_parents(odp, ndp, &first, &second);
  struct inode *o = dirlookup(odp, oname, &ooff);
  struct inode *n = dirlookup(ndp, nname, &noff);
  r = (o != ip || n != target) ? -EAGAIN : 0;
  if (o)
    iput(o);
  if (n)
    iput(n);
  if (r == 0 && ndp->nlink == 0)
    r = -ENOENT;
  if (r == 0 && target)
    r = remove_target(ndp, noff, target, isdir);
  // dirlink fails only when the disk is full, and then before it changes
  // anything: target, if any, is already gone, but no name is lost.
  if (r == 0 && (r = dirlink(ndp, nname, ip->inum)) == 0) {
    dirunlink(odp, ooff);
    if (isdir && odp != ndp) {
      ilock(ip);
      set_dotdot(ip, ndp->inum);
      iunlock(ip);
    }
  }
  unlock_parents(first, second);

out:
  if (target)
    iput(target);
  iput(ip);
  return r;
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
  acquiresleep(&rename_lock);
  begin_op();
  r = do_rename(oldpath, newpath);
  end_op();
  releasesleep(&rename_lock);
  return r;
}
