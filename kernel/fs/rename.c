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

// The body of rename, inside an operation with rename_lock held.
static int
do_rename(const char *oldpath, const char *newpath)
{
  char oname[DIRSIZ], nname[DIRSIZ];
  struct inode *odp = 0, *ndp = 0, *ip = 0, *target = 0;
  uint ooff, noff;
  int r;

  if ((r = nameiparent_err(oldpath, oname, &odp)) < 0)
    return r;
  if ((r = nameiparent_err(newpath, nname, &ndp)) < 0)
    goto out;
  r = -EINVAL;
  if (dots(oname) || dots(nname))
    goto out;

  // Find the file, unlocked, to check the tree's shape first.
  ilock(odp);
  ip = dirlookup(odp, oname, 0);
  iunlock(odp);
  r = -ENOENT;
  if (ip == 0)
    goto out;
  ilock(ip);
  int isdir = ip->type == T_DIR;
  iunlock(ip);
  // A directory can't move into itself or below itself.
  r = -EINVAL;
  if (isdir && is_ancestor(ip, ndp))
    goto out;

  // Lock the parents, ancestor first.
  int new_above_old = odp != ndp && is_ancestor(ndp, odp);
  struct inode *first = new_above_old ? ndp : odp;
  struct inode *second = new_above_old ? odp : ndp;
  ilock(first);
  if (second != first)
    ilock(second);

  // Another process may have changed the directories meanwhile.
  struct inode *again = dirlookup(odp, oname, &ooff);
  if (again != ip) {
    r = -ENOENT;
    if (again)
      iput(again);
    goto unlock;
  }
  iput(again);
  r = -ENOENT;
  if (ndp->nlink == 0)
    goto unlock;

  target = dirlookup(ndp, nname, &noff);
  if (target == ip) {
    r = 0;   // two names of the same file: nothing to do
    goto unlock;
  }
  if (target) {
    ilock(target);
    if (isdir && target->type != T_DIR)
      r = -ENOTDIR;
    else if (!isdir && target->type == T_DIR)
      r = -EISDIR;
    else if (target->type == T_DIR && !isdirempty(target))
      r = -ENOTEMPTY;
    else
      r = 0;
    if (r == 0) {
      dirunlink(ndp, noff);
      target->nlink--;
      iupdate(target);
    }
    iunlock(target);
    if (r < 0)
      goto unlock;
  }
  if ((r = dirlink(ndp, nname, ip->inum)) < 0)
    goto unlock;   // only when the disk is full: target is already gone
  dirunlink(odp, ooff);
  if (isdir && odp != ndp) {
    ilock(ip);
    set_dotdot(ip, ndp->inum);
    iunlock(ip);
  }
  r = 0;

unlock:
  if (second != first)
    iunlock(second);
  iunlock(first);
out:
  if (target)
    iput(target);
  if (ip)
    iput(ip);
  if (ndp)
    iput(ndp);
  if (odp)
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
