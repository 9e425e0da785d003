// wbstat(2): counters for tests and for curious students.  See
// uapi/wbstat.h for what each one means.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/wbstat.h"
#include "lib/lib.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "dev/blk.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "fs/log.h"

int64
sys_wbstat(void)
{
  int fd = argint(0);
  uint64 addr = argaddr(1);
  struct wbstat st;
  struct blk_stats bs;
  struct file *f = 0;

  if (fd != -1) {
    if (fd < 0 || fd >= NOFILE || (f = myproc()->ofile[fd]) == 0)
      return -EBADF;
    if (f->type != FD_INODE)
      return -EINVAL;
  }
  memset(&st, 0, sizeof(st));
  st.free_pages = nr_free_pages();
  st.total_pages = nr_total_pages();
  blk_get_stats(&bs);
  st.disk_reads = bs.reads;
  st.disk_writes = bs.writes;
  st.disk_read_bytes = bs.read_bytes;
  st.disk_write_bytes = bs.write_bytes;
  st.disk_flushes = bs.flushes;
  st.disk_errors = bs.errors;
  st.log_commits = log_commits();
  if (f) {
    ilock(f->ip);
    st.f_ino = f->ip->inum;
    st.f_size = f->ip->size;
    iunlock(f->ip);
  }
  if (copyout(myproc()->pagetable, addr, &st, sizeof(st)) < 0)
    return -EFAULT;
  return 0;
}

int64
sys_sysctl(void)
{
  return -ENOSYS;
}

int64
sys_wbtrace(void)
{
  return -ENOSYS;
}

int64
sys_rawdisk(void)
{
  return -ENOSYS;
}
