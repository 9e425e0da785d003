// The open-file table, and read/write on open files.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/fs.h"
#include "uapi/stat.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "fs/log.h"

struct devsw devsw[NDEV];

static struct {
  struct spinlock lock;
  struct file file[NFILE];
} ftable;

void
fileinit(void)
{
  initlock(&ftable.lock, "ftable");
  for (int i = 0; i < NFILE; i++) {
    initsleeplock(&ftable.file[i].pos_lock, "file_pos");
    initlock(&ftable.file[i].wb_err_lock, "file_wb_err");
  }
}

// A free file structure with ref 1, or 0 when the table is full.
struct file *
filealloc(void)
{
  acquire(&ftable.lock);
  for (struct file *f = ftable.file; f < ftable.file + NFILE; f++) {
    if (f->ref == 0) {
      f->ref = 1;
      release(&ftable.lock);
      f->type = FD_NONE;
      f->readable = f->writable = f->append = 0;
      f->pipe = 0;
      f->ip = 0;
      f->off = 0;
      f->major = 0;
      f->f_wb_err = 0;
      f->f_sb_err = 0;
      return f;
    }
  }
  release(&ftable.lock);
  return 0;
}

struct file *
filedup(struct file *f)
{
  acquire(&ftable.lock);
  if (f->ref < 1)
    panic("filedup");
  f->ref++;
  release(&ftable.lock);
  return f;
}

// Drop a reference; the last one closes the pipe end or the inode.
void
fileclose(struct file *f)
{
  acquire(&ftable.lock);
  if (f->ref < 1)
    panic("fileclose");
  if (--f->ref > 0) {
    release(&ftable.lock);
    return;
  }
  struct file ff = *f;
  f->ref = 0;
  f->type = FD_NONE;
  release(&ftable.lock);

  if (ff.type == FD_PIPE) {
    pipeclose(ff.pipe, ff.writable);
  } else if (ff.type == FD_INODE || ff.type == FD_DEVICE) {
    begin_op();
    iput(ff.ip);
    end_op();
  }
}

// Copy the file's metadata to user address addr.  0 or -EFAULT/-EBADF.
int
filestat(struct file *f, uint64 addr)
{
  struct stat st;

  if (f->type != FD_INODE && f->type != FD_DEVICE)
    return -EBADF;
  ilock(f->ip);
  stati(f->ip, &st);
  iunlock(f->ip);
  if (copyout(myproc()->pagetable, addr, &st, sizeof(st)) < 0)
    return -EFAULT;
  return 0;
}

static int
devread(struct file *f, uint64 addr, int64 n)
{
  if (f->major < 0 || f->major >= NDEV || !devsw[f->major].read)
    return -ENXIO;
  return devsw[f->major].read(1, addr, n > 0x7fffffff ? 0x7fffffff : n);
}

static int
devwrite(struct file *f, uint64 addr, int64 n)
{
  if (f->major < 0 || f->major >= NDEV || !devsw[f->major].write)
    return -ENXIO;
  return devsw[f->major].write(1, addr, n > 0x7fffffff ? 0x7fffffff : n);
}

// Read at offset off from an inode file; the offset is not changed.
int64
file_pread(struct file *f, uint64 addr, int64 n, uint64 off)
{
  ilock(f->ip);
  int64 r = readi(f->ip, 1, addr, off, n);
  iunlock(f->ip);
  return r;
}

// Write at offset off (or at the end, for O_APPEND) to a regular file.
// Returns the bytes written, or -errno if none were; *endp gets the offset
// after the write.  The data goes into the page cache; nothing here
// touches the disk or the log.
static int64
inode_write(struct file *f, uint64 addr, int64 n, uint64 off, uint64 *endp)
{
  ilock(f->ip);
  if (f->append)
    off = f->ip->size;
  int64 r = writei(f->ip, 1, addr, off, n);
  iunlock(f->ip);
  *endp = off + (r > 0 ? r : 0);
  return r;
}

int64
file_pwrite(struct file *f, uint64 addr, int64 n, uint64 off)
{
  uint64 end;

  return inode_write(f, addr, n, off, &end);
}

int64
fileread(struct file *f, uint64 addr, int64 n)
{
  if (!f->readable)
    return -EBADF;
  switch (f->type) {
  case FD_PIPE:
    return piperead(f->pipe, addr, n);
  case FD_DEVICE:
    return devread(f, addr, n);
  case FD_INODE: {
    acquiresleep(&f->pos_lock);
    int64 r = file_pread(f, addr, n, f->off);
    if (r > 0)
      f->off += r;
    releasesleep(&f->pos_lock);
    return r;
  }
  default:
    panic("fileread");
  }
}

int64
filewrite(struct file *f, uint64 addr, int64 n)
{
  if (!f->writable)
    return -EBADF;
  switch (f->type) {
  case FD_PIPE:
    return pipewrite(f->pipe, addr, n);
  case FD_DEVICE:
    return devwrite(f, addr, n);
  case FD_INODE: {
    acquiresleep(&f->pos_lock);
    uint64 end = f->off;
    int64 r = inode_write(f, addr, n, f->off, &end);
    if (r > 0)
      f->off = end;
    releasesleep(&f->pos_lock);
    return r;
  }
  default:
    panic("filewrite");
  }
}
