// The inode table: in-memory copies of the inodes in use.
//
// Life of an inode in memory:
//   iget()    finds or makes the table entry and takes a reference; the
//             entry's fields are not read from the disk yet.
//   ilock()   locks it, reading the disk inode on first use.
//   iunlock() unlocks it.
//   iput()    drops the reference.  The last iput of an inode that no
//             directory names any more frees it on the disk, so a file
//             unlinked while open lives until it is closed.
// iget and ilock are separate so that a path lookup can hold a reference
// to a directory without keeping it locked.
#include "types.h"
#include "param.h"
#include "uapi/errno.h"
#include "uapi/fs.h"
#include "uapi/stat.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "lib/sleeplock.h"
#include "proc/proc.h"
#include "mm/pagemap.h"
#include "mm/writeback.h"
#include "fs/buf.h"
#include "fs/log.h"
#include "fs/fs.h"

static struct {
  struct spinlock lock;   // ref, dev and inum of every entry
  struct inode inode[NINODE];
} itable;

void
iinit(void)
{
  initlock(&itable.lock, "itable");
  for (int i = 0; i < NINODE; i++) {
    initsleeplock(&itable.inode[i].lock, "inode");
    initsleeplock(&itable.inode[i].i_map_lock, "i_map");
    INIT_LIST_HEAD(&itable.inode[i].i_io_list);
  }
}

// An unreferenced entry whose slot can be reused without losing anything:
// no cached folios, nothing dirty, nothing reserved.
static int
inode_is_clean(struct inode *ip)
{
  return ip->i_data.nrpages == 0 && !(ip->i_state & (I_DIRTY_PAGES | I_SYNC | I_FREEING)) &&
         ip->i_delalloc == 0;
}

// Make the slot ip (unreferenced, clean) hold (dev, inum).
static void
inode_reuse(struct inode *ip, uint dev, uint inum)
{
  ip->dev = dev;
  ip->inum = inum;
  ip->ref = 1;
  ip->valid = 0;
  ip->i_state = 0;
  ip->i_reserved = 0;
  ip->i_delalloc = 0;
  address_space_init(&ip->i_data, ip, &qfs_aops);
}

// Write an unreferenced inode's dirty folios and drop its page cache, so
// that its slot can be reused.  ip is held with I_FREEING set.
static void
evict_pages(struct inode *ip)
{
  write_inode_now(ip, 1);
  truncate_inode_pages(&ip->i_data, 0);
}

// The table entry for (dev, inum), with a new reference.  Not locked.
// If the table is full of unreferenced inodes that still cache data, the
// oldest-found one is written back and emptied to make room.
struct inode *
iget(uint dev, uint inum)
{
  struct inode *ip;

  acquire(&itable.lock);
  for (;;) {
    struct inode *free_slot = 0, *clean = 0, *victim = 0;
    int busy = 0;
    for (ip = itable.inode; ip < itable.inode + NINODE; ip++) {
      if (ip->inum == inum && ip->dev == dev) {
        if (ip->i_state & I_FREEING) {
          busy = 1;   // being emptied: wait, then take it
          break;
        }
        ip->ref++;
        release(&itable.lock);
        return ip;
      }
      if (ip->ref == 0 && !(ip->i_state & I_FREEING)) {
        if (ip->inum == 0) {
          if (free_slot == 0)
            free_slot = ip;
        } else if (inode_is_clean(ip)) {
          if (clean == 0)
            clean = ip;
        } else if (victim == 0) {
          victim = ip;
        }
      }
    }
    if (busy) {
      sleep(&itable, &itable.lock);
      continue;
    }
    struct inode *slot = free_slot ? free_slot : clean;
    if (slot) {
      inode_reuse(slot, dev, inum);
      release(&itable.lock);
      return slot;
    }
    if (victim == 0)
      panic("iget: inode table full");
    victim->ref = 1;
    victim->i_state |= I_FREEING;
    release(&itable.lock);
    evict_pages(victim);
    acquire(&itable.lock);
    victim->i_state &= ~I_FREEING;
    victim->ref--;
    wakeup(&itable);
  }
}

// A new reference to an inode found on the flusher's lists, which may have
// none; 0 if the inode is being evicted (the evictor writes it anyway).
struct inode *
igrab(struct inode *ip)
{
  acquire(&itable.lock);
  if (ip->i_state & I_FREEING) {
    release(&itable.lock);
    return 0;
  }
  ip->ref++;
  release(&itable.lock);
  return ip;
}

// Write the inode's dirty folios; with sync, wait for them too.
int
write_inode_now(struct inode *ip, int sync)
{
  struct address_space *mapping = &ip->i_data;

  if (sync)
    return filemap_write_and_wait_range(mapping, 0, LLONG_MAX);
  return filemap_fdatawrite_range(mapping, 0, LLONG_MAX, WB_SYNC_NONE);
}

struct inode *
idup(struct inode *ip)
{
  acquire(&itable.lock);
  ip->ref++;
  release(&itable.lock);
  return ip;
}

// Allocate a free inode of the given type, inside an operation.  Returns
// it referenced but not locked, or 0 when every inode is in use.
struct inode *
ialloc(uint dev, short type)
{
  for (uint inum = 1; inum < sb.ninodes; inum++) {
    struct buf *bp = bread(dev, IBLOCK(inum, sb));
    struct dinode *dip = (struct dinode *)bp->data + inum % IPB;
    if (dip->type == 0) {
      memset(dip, 0, sizeof(*dip));
      dip->type = type;
      log_write(bp);
      brelse(bp);
      return iget(dev, inum);
    }
    brelse(bp);
  }
  return 0;
}

// Copy the in-memory inode to its disk block, inside an operation.  Call
// after every change to a field that lives on the disk.
void
iupdate(struct inode *ip)
{
  struct buf *bp = bread(ip->dev, IBLOCK(ip->inum, sb));
  struct dinode *dip = (struct dinode *)bp->data + ip->inum % IPB;

  dip->type = ip->type;
  dip->major = ip->major;
  dip->minor = ip->minor;
  dip->nlink = ip->nlink;
  // A regular file's disk size covers only data that writeback has put
  // (or is putting) on the disk; see i_disksize.
  dip->size = ip->type == T_FILE ? ip->i_disksize : ip->size;
  memmove(dip->addrs, ip->addrs, sizeof(ip->addrs));
  log_write(bp);
  brelse(bp);
}

void
ilock(struct inode *ip)
{
  if (ip == 0 || ip->ref < 1)
    panic("ilock: no reference");
  acquiresleep(&ip->lock);
  if (!ip->valid) {
    struct buf *bp = bread(ip->dev, IBLOCK(ip->inum, sb));
    struct dinode *dip = (struct dinode *)bp->data + ip->inum % IPB;
    ip->type = dip->type;
    ip->major = dip->major;
    ip->minor = dip->minor;
    ip->nlink = dip->nlink;
    ip->size = dip->size;
    ip->i_disksize = dip->size;
    memmove(ip->addrs, dip->addrs, sizeof(ip->addrs));
    brelse(bp);
    ip->valid = 1;
    if (ip->type == 0)
      panic("ilock: inode %d is free", ip->inum);
  }
}

void
iunlock(struct inode *ip)
{
  if (ip == 0 || !holdingsleep(&ip->lock) || ip->ref < 1)
    panic("iunlock");
  releasesleep(&ip->lock);
}

// Drop a reference.  If it was the last and no directory names the inode,
// free its blocks and the inode itself.  Must be called inside an
// operation, since it may write.
void
iput(struct inode *ip)
{
  acquire(&itable.lock);
  if (ip->ref == 1 && ip->valid && ip->nlink == 0) {
    // Nobody else can reach this inode: no directory names it and ours is
    // the only reference, so taking its lock cannot block.
    acquiresleep(&ip->lock);
    release(&itable.lock);
    // Its cached data goes first (after any write in flight), then its
    // blocks, then the inode itself.
    truncate_inode_pages(&ip->i_data, 0);
    inode_wb_list_del(ip);
    acquiresleep(&ip->i_map_lock);
    ip->i_disksize = 0;
    itrunc(ip, 0);
    ip->type = 0;
    iupdate(ip);
    releasesleep(&ip->i_map_lock);
    ip->valid = 0;
    releasesleep(&ip->lock);
    acquire(&itable.lock);
    ip->inum = 0;   // the slot is free
  }
  ip->ref--;
  release(&itable.lock);
}

// Write the disk inode, with the block map held still.
void
iupdate_locked_map(struct inode *ip)
{
  acquiresleep(&ip->i_map_lock);
  iupdate(ip);
  releasesleep(&ip->i_map_lock);
}

void
iunlockput(struct inode *ip)
{
  iunlock(ip);
  iput(ip);
}

void
stati(struct inode *ip, struct stat *st)
{
  st->dev = ip->dev;
  st->ino = ip->inum;
  st->type = ip->type;
  st->nlink = ip->nlink;
  st->size = ip->size;
}

// At mount: free inodes that are allocated but named by no directory.
// They belong to files that were unlinked while still open when the
// machine stopped; only their last close would have freed them.
void
free_orphans(uint dev)
{
  int n = 0;

  for (uint inum = 1; inum < sb.ninodes; inum++) {
    struct buf *bp = bread(dev, IBLOCK(inum, sb));
    struct dinode *dip = (struct dinode *)bp->data + inum % IPB;
    int orphan = dip->type != 0 && dip->nlink == 0;
    brelse(bp);
    if (!orphan)
      continue;
    begin_op();
    struct inode *ip = iget(dev, inum);
    ilock(ip);
    iunlockput(ip);   // the last reference, with nlink 0: freed
    end_op();
    n++;
  }
  if (n > 0)
    printf("fs: freed %d orphaned inodes\n", n);
}
