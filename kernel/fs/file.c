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
  int r = ilock(f->ip);
  if (r < 0)
    return r;
  stati(f->ip, &st);
  iunlock(f->ip);
  if (copyout(myproc()->pagetable, addr, &st, sizeof(st)) < 0)
    return -EFAULT;
  return 0;
}

// Read or write a device through its driver (devsw).
static int
dev_io(struct file *f, uint64 addr, int64 n, int write)
{
  struct devsw *dev = f->major >= 0 && f->major < NDEV ? &devsw[f->major] : 0;
  int (*fn)(int, uint64, int) = dev == 0 ? 0 : write ? dev->write : dev->read;

  if (fn == 0)
    return -ENXIO;
  return fn(1, addr, n > 0x7fffffff ? 0x7fffffff : n);
}

// Read at offset off from an inode file; the offset is not changed.
int64
file_pread(struct file *f, uint64 addr, int64 n, uint64 off)
{
  int64 r = ilock(f->ip);

  if (r < 0)
    return r;
  r = readi(f->ip, 1, addr, off, n);
  iunlock(f->ip);
  return r;
}

// Write at offset off (or at the end, for O_APPEND) to a regular file.
// Returns the bytes written, or -errno if none were; *endp gets the offset
// after the write.  The data goes into the page cache; nothing here
// touches the disk or the log.  -EROFS once the file system has shut down.
static int64
inode_write(struct file *f, uint64 addr, int64 n, uint64 off, uint64 *endp)
{
  int64 r = fs_check_writable();

  if (r < 0 || (r = ilock(f->ip)) < 0)
    return r;
  if (f->append)
    off = f->ip->size;
  r = writei(f->ip, 1, addr, off, n);
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

// Read or write at an inode file's offset, and move the offset past the
// bytes moved (for O_APPEND, past the end the write went to).
static int64
inode_rw(struct file *f, uint64 addr, int64 n, int write)
{
  acquiresleep(&f->pos_lock);
  uint64 end = f->off;
  int64 r = write ? inode_write(f, addr, n, f->off, &end) : file_pread(f, addr, n, f->off);
  if (r > 0)
    f->off = write ? end : f->off + r;
  releasesleep(&f->pos_lock);
  return r;
}

// read(2) and write(2) of any open file.
static int64
file_io(struct file *f, uint64 addr, int64 n, int write)
{
  if (!(write ? f->writable : f->readable))
    return -EBADF;
  if (f->type == FD_PIPE)
    return write ? pipewrite(f->pipe, addr, n) : piperead(f->pipe, addr, n);
  if (f->type == FD_DEVICE)
    return dev_io(f, addr, n, write);
  return inode_rw(f, addr, n, write);
}

int64
fileread(struct file *f, uint64 addr, int64 n)
{
  return file_io(f, addr, n, 0);
}

int64
filewrite(struct file *f, uint64 addr, int64 n)
{
  return file_io(f, addr, n, 1);
}
