// System calls on files, directories and paths.  Each checks its
// arguments, so that a bad descriptor, pointer or length gives -errno and
// never reaches the layers below.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "uapi/errno.h"
#include "uapi/fcntl.h"
#include "uapi/fs.h"
#include "uapi/stat.h"
#include "lib/lib.h"
#include "lib/sleeplock.h"
#include "mm/mm.h"
#include "mm/reclaim.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "fs/log.h"
#include "fs/sync.h"
#include "lib/errseq.h"
#include "mm/pagemap.h"
#include "mm/writeback.h"

// The open file for descriptor argument n, or 0.
static struct file *
argfd(int n, int *pfd)
{
  int fd = argint(n);
  struct file *f;

  if (fd < 0 || fd >= NOFILE || (f = myproc()->ofile[fd]) == 0)
    return 0;
  if (pfd)
    *pfd = fd;
  return f;
}

// Give f a descriptor in the current process: the lowest free one.
static int
fdalloc(struct file *f)
{
  struct proc *p = myproc();

  for (int fd = 0; fd < NOFILE; fd++) {
    if (p->ofile[fd] == 0) {
      p->ofile[fd] = f;
      return fd;
    }
  }
  return -EMFILE;
}

int64
sys_dup(void)
{
  struct file *f = argfd(0, 0);

  if (f == 0)
    return -EBADF;
  int fd = fdalloc(f);
  if (fd >= 0)
    filedup(f);
  return fd;
}

int64
sys_dup2(void)
{
  struct file *f = argfd(0, 0);
  int newfd = argint(1);
  struct proc *p = myproc();

  if (f == 0 || newfd < 0 || newfd >= NOFILE)
    return -EBADF;
  if (p->ofile[newfd] == f)
    return newfd;
  if (p->ofile[newfd])
    fileclose(p->ofile[newfd]);
  p->ofile[newfd] = filedup(f);
  return newfd;
}

// A byte count argument: negative counts are invalid.
static int64
argcount(int n)
{
  return (int64)argraw(n);
}

// read(fd, buf, n) and write(fd, buf, n).
static int64
sequential_io(int write)
{
  struct file *f = argfd(0, 0);
  int n = argint(2);

  if (f == 0)
    return -EBADF;
  if (n < 0)
    return -EINVAL;
  return write ? filewrite(f, argaddr(1), n) : fileread(f, argaddr(1), n);
}

int64
sys_read(void)
{
  return sequential_io(0);
}

int64
sys_write(void)
{
  return sequential_io(1);
}

// pread(fd, buf, n, off) and pwrite(fd, buf, n, off): I/O at an offset,
// leaving the file's own offset alone.  Only inode files have offsets.
static int64
positional_io(int write)
{
  struct file *f = argfd(0, 0);
  int64 n = argcount(2);
  int64 off = argraw(3);

  if (f == 0 || !(write ? f->writable : f->readable))
    return -EBADF;
  if (f->type != FD_INODE)
    return -ESPIPE;
  if (n < 0 || off < 0)
    return -EINVAL;
  if (write)
    return file_pwrite(f, argaddr(1), n, off);
  return file_pread(f, argaddr(1), n, off);
}

int64
sys_pread(void)
{
  return positional_io(0);
}

int64
sys_pwrite(void)
{
  return positional_io(1);
}

int64
sys_lseek(void)
{
  struct file *f = argfd(0, 0);
  int64 off = argraw(1);
  int whence = argint(2);
  int64 base;

  if (f == 0)
    return -EBADF;
  if (f->type != FD_INODE)
    return -ESPIPE;
  acquiresleep(&f->pos_lock);
  switch (whence) {
  case SEEK_SET:
    base = 0;
    break;
  case SEEK_CUR:
    base = f->off;
    break;
  case SEEK_END:
    if (ilock(f->ip) < 0) {
      releasesleep(&f->pos_lock);
      return -EIO;
    }
    base = f->ip->size;
    iunlock(f->ip);
    break;
  default:
    releasesleep(&f->pos_lock);
    return -EINVAL;
  }
  if (base + off < 0 || (off > 0 && base + off < base)) {
    releasesleep(&f->pos_lock);
    return -EINVAL;
  }
  f->off = base + off;
  releasesleep(&f->pos_lock);
  return base + off;
}

int64
sys_close(void)
{
  int fd;
  struct file *f = argfd(0, &fd);

  if (f == 0)
    return -EBADF;
  myproc()->ofile[fd] = 0;
  fileclose(f);
  return 0;
}

int64
sys_fstat(void)
{
  struct file *f = argfd(0, 0);

  if (f == 0)
    return -EBADF;
  return filestat(f, argaddr(1));
}

// link(old, new): another name for an existing file.
int64
sys_link(void)
{
  char name[DIRSIZ], new[MAXPATH], old[MAXPATH];
  struct inode *dp, *ip;
  int r;

  if ((r = argstr(0, old, MAXPATH)) < 0 || (r = argstr(1, new, MAXPATH)) < 0)
    return r;
  if ((r = fs_check_writable()) < 0)
    return r;
  begin_op();
  if ((r = namei_err(old, &ip)) < 0) {
    end_op();
    return r;
  }
  if ((r = ilock(ip)) < 0) {
    iput(ip);
    end_op();
    return r;
  }
  if (ip->type == T_DIR) {
    iunlockput(ip);
    end_op();
    return -EPERM;
  }
  ip->nlink++;
  iupdate(ip);
  iunlock(ip);

  if ((r = nameiparent_err(new, name, &dp)) < 0)
    goto undo;
  if ((r = ilock(dp)) < 0) {
    iput(dp);
    goto undo;
  }
  if (dp->nlink == 0) {
    r = -ENOENT;
  } else if (dp->dev != ip->dev) {
    r = -EXDEV;
  } else {
    r = dirlink(dp, name, ip->inum);
  }
  iunlockput(dp);
  if (r < 0)
    goto undo;
  iput(ip);
  end_op();
  return 0;

undo:
  if (ilock(ip) == 0) {
    ip->nlink--;
    iupdate(ip);
    iunlock(ip);
  }
  iput(ip);
  end_op();
  return r;
}

static int
is_dot_or_dotdot(const char *name)
{
  return namecmp(name, ".") == 0 || namecmp(name, "..") == 0;
}

// Remove the entry at off of dp (locked) that names ip (referenced):
// 0, -ENOTEMPTY, or -EIO.  Drops the reference.
static int
unlink_entry(struct inode *dp, uint off, struct inode *ip)
{
  int r = ilock(ip);

  if (r < 0) {
    iput(ip);
    return r;
  }
  if (ip->nlink < 1) {
    printf("fs: inode %d has no links but a name: the metadata is damaged\n", ip->inum);
    r = -EIO;
  } else if (ip->type == T_DIR && (r = isdirempty(ip)) <= 0) {
    r = r < 0 ? r : -ENOTEMPTY;
  } else if ((r = dirunlink(dp, off)) == 0) {
    ip->nlink--;
    iupdate(ip);
  }
  iunlockput(ip);
  return r;
}

// unlink(path): remove a name.  A directory must be empty.  The inode is
// freed when its last name and last reference are gone.
int64
sys_unlink(void)
{
  char name[DIRSIZ], path[MAXPATH];
  struct inode *ip, *dp;
  uint off;
  int r;

  if ((r = argstr(0, path, MAXPATH)) < 0)
    return r;
  if ((r = fs_check_writable()) < 0)
    return r;
  begin_op();
  if ((r = nameiparent_err(path, name, &dp)) < 0) {
    end_op();
    return r;
  }
  if ((r = ilock(dp)) < 0) {
    iput(dp);
    end_op();
    return r;
  }
  if (is_dot_or_dotdot(name))
    r = -EINVAL;
  else if ((r = dirlookup(dp, name, &off, &ip)) == 0)
    r = unlink_entry(dp, off, ip);
  iunlockput(dp);
  end_op();
  return r;
}

// The name create() was asked for exists already: for open(O_CREAT)
// without O_EXCL of a file, that file, locked, in *ipp; else an error
// (open(dir, O_CREAT) is EISDIR, as in Linux; with O_EXCL, EEXIST).
// Drops the reference on failure.
static int
open_existing(struct inode *ip, short type, int excl, struct inode **ipp)
{
  int r = ilock(ip);

  if (r < 0) {
    iput(ip);
    return r;
  }
  if (type == T_FILE && !excl && (ip->type == T_FILE || ip->type == T_DEVICE)) {
    *ipp = ip;
    return 0;
  }
  int isdir = ip->type == T_DIR;
  iunlockput(ip);
  return type == T_FILE && !excl && isdir ? -EISDIR : -EEXIST;
}

// Create path as a new inode of the given type, or (for T_FILE without
// excl) open the existing file.  Returns the inode locked and referenced
// in *ipp, 0 or -errno.  Inside an operation.
static int
create(const char *path, short type, short major, short minor, int excl,
       struct inode **ipp)
{
  char name[DIRSIZ];
  struct inode *ip, *dp;
  int r;

  if ((r = nameiparent_err(path, name, &dp)) < 0)
    return r;
  if ((r = ilock(dp)) < 0) {
    iput(dp);
    return r;
  }
  if (dp->nlink == 0) {
    // The directory was removed while someone still had it open.
    iunlockput(dp);
    return -ENOENT;
  }
  if ((r = dirlookup(dp, name, 0, &ip)) != -ENOENT) {
    iunlockput(dp);
    return r < 0 ? r : open_existing(ip, type, excl, ipp);
  }
  if ((r = fs_check_writable()) < 0 || (r = ialloc(dp->dev, type, &ip)) < 0) {
    iunlockput(dp);
    return r;
  }
  if ((r = ilock(ip)) < 0) {
    iput(ip);
    iunlockput(dp);
    return r;
  }
  ip->major = major;
  ip->minor = minor;
  ip->nlink = 1;
  iupdate(ip);
  // A directory's "." and ".." do not count in anyone's nlink.
  if (type == T_DIR) {
    if ((r = dirlink(ip, ".", ip->inum)) < 0 || (r = dirlink(ip, "..", dp->inum)) < 0)
      goto fail;
  }
  if ((r = dirlink(dp, name, ip->inum)) < 0)
    goto fail;
  iunlockput(dp);
  *ipp = ip;
  return 0;

fail:
  // Undo: nlink 0 makes the final iput free the new inode.
  ip->nlink = 0;
  iupdate(ip);
  iunlockput(ip);
  iunlockput(dp);
  return r;
}

int64
sys_open(void)
{
  char path[MAXPATH];
  int flags = argint(1);
  struct inode *ip;
  struct file *f;
  int fd, r;
  int acc = flags & O_ACCMODE;

  if ((r = argstr(0, path, MAXPATH)) < 0)
    return r;
  if (acc == 3 || (flags & ~(O_ACCMODE | O_CREATE | O_TRUNC | O_EXCL | O_APPEND)))
    return -EINVAL;

  // A read-only file system can still be read.
  if ((acc != O_RDONLY || (flags & O_TRUNC)) && (r = fs_check_writable()) < 0)
    return r;
  begin_op();
  if (flags & O_CREATE) {
    r = create(path, T_FILE, 0, 0, flags & O_EXCL, &ip);
  } else if ((r = namei_err(path, &ip)) == 0 && (r = ilock(ip)) < 0) {
    iput(ip);
  }
  if (r < 0) {
    end_op();
    return r;
  }
  if (ip->type == T_DIR && acc != O_RDONLY) {
    r = -EISDIR;
    goto bad;
  }
  if (ip->type == T_DEVICE && (ip->major < 0 || ip->major >= NDEV || !devsw[ip->major].read)) {
    r = -ENXIO;
    goto bad;
  }
  r = -ENFILE;
  if ((f = filealloc()) == 0)
    goto bad;
  if ((fd = fdalloc(f)) < 0) {
    fileclose(f);
    r = fd;
    goto bad;
  }
  if (ip->type == T_DEVICE) {
    f->type = FD_DEVICE;
    f->major = ip->major;
  } else {
    f->type = FD_INODE;
  }
  f->ip = ip;
  f->readable = acc != O_WRONLY;
  f->writable = acc != O_RDONLY;
  f->append = (flags & O_APPEND) != 0;
  f->f_wb_err = errseq_sample(&ip->i_data.wb_err);
  f->f_sb_err = errseq_sample(&sb_wb_err);
  if ((flags & O_TRUNC) && ip->type == T_FILE && f->writable)
    truncate_file(ip, 0);
  iunlock(ip);
  end_op();
  return fd;

bad:
  iunlockput(ip);
  end_op();
  return r;
}

int64
sys_mkdir(void)
{
  char path[MAXPATH];
  struct inode *ip;
  int r;

  if ((r = argstr(0, path, MAXPATH)) < 0)
    return r;
  if ((r = fs_check_writable()) < 0)
    return r;
  begin_op();
  if ((r = create(path, T_DIR, 0, 0, 1, &ip)) == 0)
    iunlockput(ip);
  end_op();
  return r;
}

int64
sys_mknod(void)
{
  char path[MAXPATH];
  struct inode *ip;
  int major = argint(1), minor = argint(2);
  int r;

  if ((r = argstr(0, path, MAXPATH)) < 0)
    return r;
  if (major < 0 || major >= NDEV || minor < 0 || minor > 0x7fff)
    return -EINVAL;
  if ((r = fs_check_writable()) < 0)
    return r;
  begin_op();
  if ((r = create(path, T_DEVICE, major, minor, 1, &ip)) == 0)
    iunlockput(ip);
  end_op();
  return r;
}

int64
sys_chdir(void)
{
  char path[MAXPATH];
  struct inode *ip;
  struct proc *p = myproc();
  int r;

  if ((r = argstr(0, path, MAXPATH)) < 0)
    return r;
  begin_op();
  if ((r = namei_err(path, &ip)) < 0) {
    end_op();
    return r;
  }
  if ((r = ilock(ip)) < 0) {
    iput(ip);
    end_op();
    return r;
  }
  if (ip->type != T_DIR) {
    iunlockput(ip);
    end_op();
    return -ENOTDIR;
  }
  iunlock(ip);
  iput(p->cwd);
  end_op();
  p->cwd = ip;
  return 0;
}

// Free the kernel copies of exec's arguments.
static void
free_args(char **argv)
{
  for (int i = 0; i < MAXARG && argv[i]; i++)
    kfree(argv[i]);
}

int64
sys_exec(void)
{
  char path[MAXPATH], *argv[MAXARG + 1];
  uint64 uargv = argaddr(1);
  int r;

  if ((r = argstr(0, path, MAXPATH)) < 0)
    return r;
  memset(argv, 0, sizeof(argv));
  for (int i = 0; ; i++) {
    uint64 uarg;
    if (i > MAXARG) {
      r = -E2BIG;
      goto out;
    }
    if ((r = fetchaddr(uargv + sizeof(uint64) * i, &uarg)) < 0)
      goto out;
    if (uarg == 0)
      break;
    if (i == MAXARG) {
      r = -E2BIG;
      goto out;
    }
    if ((argv[i] = kalloc_reclaim()) == 0) {
      r = -ENOMEM;
      goto out;
    }
    if ((r = fetchstr(uarg, argv[i], PGSIZE)) < 0) {
      if (r == -ENAMETOOLONG)
        r = -E2BIG;
      goto out;
    }
  }
  r = kernel_execve(path, argv);
out:
  free_args(argv);
  return r;
}

int64
sys_pipe(void)
{
  uint64 fdarray = argaddr(0);
  struct file *rf, *wf;
  struct proc *p = myproc();
  int fd[2], r;

  if ((r = pipealloc(&rf, &wf)) < 0)
    return r;
  fd[0] = fdalloc(rf);
  fd[1] = fd[0] < 0 ? -EMFILE : fdalloc(wf);
  if (fd[1] < 0) {
    if (fd[0] >= 0)
      p->ofile[fd[0]] = 0;
    fileclose(rf);
    fileclose(wf);
    return -EMFILE;
  }
  if (copyout(p->pagetable, fdarray, fd, sizeof(fd)) < 0) {
    p->ofile[fd[0]] = 0;
    p->ofile[fd[1]] = 0;
    fileclose(rf);
    fileclose(wf);
    return -EFAULT;
  }
  return 0;
}

int64
sys_ftruncate(void)
{
  struct file *f = argfd(0, 0);
  int64 length = argraw(1);

  if (f == 0)
    return -EBADF;
  if (f->type != FD_INODE || !f->writable || length < 0)
    return -EINVAL;
  if ((uint64)length > (uint64)MAXFILE * BSIZE)
    return -EFBIG;
  int r = fs_check_writable();
  if (r < 0)
    return r;
  begin_op();
  if ((r = ilock(f->ip)) == 0) {
    r = f->ip->type == T_FILE ? truncate_file(f->ip, length) : -EINVAL;
    iunlock(f->ip);
  }
  end_op();
  return r;
}

// fsync(fd) and fdatasync(fd): see vfs_fsync_range() in sync.c.
static int64
do_fsync(int datasync)
{
  struct file *f = argfd(0, 0);

  if (f == 0)
    return -EBADF;
  if (f->type != FD_INODE)
    return -EINVAL;
  return vfs_fsync(f, datasync);
}

int64
sys_fsync(void)
{
  return do_fsync(0);
}

int64
sys_fdatasync(void)
{
  return do_fsync(1);
}

int64
sys_sync(void)
{
  sync_filesystem();
  return 0;
}

// syncfs(fd): sync the file system fd is on, and report (once per open
// file) a writeback error that happened anywhere in it.
int64
sys_syncfs(void)
{
  struct file *f = argfd(0, 0);

  if (f == 0)
    return -EBADF;
  int err = sync_filesystem();
  if (f->type == FD_INODE || f->type == FD_DEVICE) {
    acquire(&f->wb_err_lock);
    int err2 = errseq_check_and_advance(&sb_wb_err, &f->f_sb_err);
    release(&f->wb_err_lock);
    if (!err)
      err = err2;
  }
  return err;
}

// sync_file_range(fd, offset, nbytes, flags): see sync_file_range() in
// sync.c.  nbytes 0 means "to the end of the file".
int64
sys_sync_file_range(void)
{
  struct file *f = argfd(0, 0);
  int64 off = argraw(1), nbytes = argraw(2);
  uint flags = argint(3);
  const uint all = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                   SYNC_FILE_RANGE_WAIT_AFTER;

  if (f == 0)
    return -EBADF;
  if (off < 0 || nbytes < 0 || off + nbytes < off || (flags & ~all))
    return -EINVAL;
  if (f->type != FD_INODE)
    return -ESPIPE;
  return sync_file_range(f, off, nbytes == 0 ? LLONG_MAX : off + nbytes - 1, flags);
}
