// rawdisk(2): direct I/O on the scratch disk.  See uapi/rawdisk.h.
//
// The user's pages are handed to the disk as they are (no copy): the
// process is inside the system call until every request has completed, so
// its memory cannot change under the transfer.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "uapi/errno.h"
#include "uapi/rawdisk.h"
#include "lib/lib.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "dev/blk.h"
#include "dev/virtio_blk.h"
#include "debug/debug.h"

#define SCRATCH 1          // the scratch disk's number
#define WINDOW 32          // requests in flight at once

// Fill req with the user pages at va for nblocks blocks.  0 or -EFAULT.
static int
map_user_pages(struct blk_request *req, uint64 va, int nblocks, int write_to_user)
{
  pagetable_t pt = myproc()->pagetable;

  for (int i = 0; i < nblocks; i++) {
    pte_t *pte = walk(pt, va + i * PGSIZE, 0);
    if (pte == 0 || !(*pte & PTE_V) || !(*pte & PTE_U) ||
        (write_to_user && !(*pte & PTE_W)))
      return -EFAULT;
    req->seg[i].addr = (void *)PTE2PA(*pte);
    req->seg[i].len = PGSIZE;
  }
  req->nseg = nblocks;
  return 0;
}

int64
sys_rawdisk(void)
{
  int op = argint(0);
  uint64 blockno = argraw(1);
  uint64 buf = argaddr(2);
  int nblocks = argint(3);

  if (op < RAWDISK_READ || op > RAWDISK_SIZE)
    return -EINVAL;
  if (virtio_blk_ndisks() <= SCRATCH)
    return -ENODEV;
  uint64 capacity = virtio_blk_capacity(SCRATCH) / (PGSIZE / 512);
  if (op == RAWDISK_SIZE)
    return capacity;
  if (op == RAWDISK_FLUSH)
    return blk_flush_dev(SCRATCH);
  if (nblocks <= 0 || buf % PGSIZE != 0 || blockno >= capacity ||
      nblocks > capacity - blockno)
    return -EINVAL;

  struct blk_request *reqs[WINDOW];
  int err = 0;
  while (nblocks > 0 && err == 0) {
    int n = 0;
    for (; n < WINDOW && nblocks > 0; n++) {
      int chunk = MIN(nblocks, BLK_MAXSEG);
      struct blk_request *req = reqs[n] = blk_alloc();
      req->dev = SCRATCH;
      req->op = op == RAWDISK_READ ? BLK_READ : BLK_WRITE;
      req->blockno = blockno;
      if ((err = map_user_pages(req, buf, chunk, op == RAWDISK_READ)) < 0) {
        blk_free(req);
        break;
      }
      blockno += chunk;
      buf += chunk * PGSIZE;
      nblocks -= chunk;
    }
    int r = blk_submit_batch(reqs, n);
    for (int i = 0; i < n; i++)
      blk_free(reqs[i]);
    if (err == 0)
      err = r;
  }
  return err;
}
