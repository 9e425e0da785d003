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
#include "mm/slab.h"
#include "mm/reclaim.h"
#include "lib/list.h"
#include "mm/writeback.h"
#include "fs/buf.h"
#include "fs/log.h"
#include "fs/fs.h"

// The inode cache.  Inodes are allocated as needed and found through a
// hash table.  An inode nobody references stays cached, on the unused
// list, oldest first, with whatever page cache it has: writeback and
// reclaim take care of its folios, and once it has none left its memory
// can be reused for another inode.  Nothing here ever has to write data
// back to find room, so iget() can be called anywhere, even inside a log
// operation.
#define IHASH 256
#define INODE_TARGET NINODE   // reuse unused inodes beyond this many

static struct {
  struct spinlock lock;       // the lists, every ref, dev and inum
  struct list_head hash[IHASH];
  struct list_head unused;    // ref == 0, least recently used first
  uint64 count;               // inodes allocated
} itable;

static struct kmem_cache inode_cache;

void
iinit(void)
{
  initlock(&itable.lock, "itable");
  for (int i = 0; i < IHASH; i++)
    INIT_LIST_HEAD(&itable.hash[i]);
  INIT_LIST_HEAD(&itable.unused);
  kmem_cache_init(&inode_cache, "inode", sizeof(struct inode));
}

static struct list_head *
bucket(uint dev, uint inum)
{
  return &itable.hash[(inum * 31 + dev) % IHASH];
}

// An unused inode that can be given to another (dev, inum) without losing
// anything: no cached folios, nothing dirty, nothing reserved.
static int
inode_is_clean(struct inode *ip)
{
  return ip->i_data.nrpages == 0 && !(ip->i_state & (I_DIRTY_PAGES | I_SYNC)) &&
         ip->i_delalloc == 0 && list_empty(&ip->i_io_list);
}

// A struct inode to hold a new (dev, inum): a fresh one, or the oldest
// clean unused one once there are INODE_TARGET.  itable.lock is held.
static struct inode *
inode_slot(void)
{
  struct inode *ip;

  if (itable.count >= INODE_TARGET) {
    list_for_each_entry(ip, &itable.unused, i_lru) {
      if (inode_is_clean(ip)) {
        list_del_init(&ip->i_lru);
        list_del_init(&ip->i_hash);
        return ip;
      }
    }
  }
  ip = kmem_cache_zalloc(&inode_cache);
  if (ip == 0 && shrink_page_cache(32) > 0)
    ip = kmem_cache_zalloc(&inode_cache);
  if (ip == 0) {
    // Memory is full of dirty or busy pages: reuse any clean inode.
    list_for_each_entry(ip, &itable.unused, i_lru) {
      if (inode_is_clean(ip)) {
        list_del_init(&ip->i_lru);
        list_del_init(&ip->i_hash);
        return ip;
      }
    }
    panic("iget: out of memory for inodes");
  }
  itable.count++;
  initsleeplock(&ip->lock, "inode");
  initsleeplock(&ip->i_map_lock, "i_map");
  INIT_LIST_HEAD(&ip->i_io_list);
  INIT_LIST_HEAD(&ip->i_lru);
  INIT_LIST_HEAD(&ip->i_hash);
  return ip;
}

// The inode (dev, inum), with a new reference.  Not locked.
struct inode *
iget(uint dev, uint inum)
{
  struct list_head *b = bucket(dev, inum);
  struct inode *ip;

  acquire(&itable.lock);
  list_for_each_entry(ip, b, i_hash) {
    if (ip->dev == dev && ip->inum == inum) {
      if (ip->ref++ == 0)
        list_del_init(&ip->i_lru);
      release(&itable.lock);
      return ip;
    }
  }
  ip = inode_slot();
  ip->dev = dev;
  ip->inum = inum;
  ip->ref = 1;
  ip->valid = 0;
  ip->i_state = 0;
  ip->i_reserved = 0;
  ip->i_delalloc = 0;
  address_space_init(&ip->i_data, ip, &qfs_aops);
  list_add(&ip->i_hash, b);
  release(&itable.lock);
  return ip;
}

// A new reference to an inode found on the flusher's lists, which may have
// none.
struct inode *
igrab(struct inode *ip)
{
  acquire(&itable.lock);
  if (ip->ref++ == 0)
    list_del_init(&ip->i_lru);
  release(&itable.lock);
  return ip;
}

struct inode *
idup(struct inode *ip)
{
  acquire(&itable.lock);
  ip->ref++;
  release(&itable.lock);
  return ip;
}

// Allocate a free inode of the given type, inside an operation: 0 with
// the inode, referenced but not locked, in *ipp; -ENOSPC when every inode
// is in use; -EIO when the disk failed a read of the inode table.
int
ialloc(uint dev, short type, struct inode **ipp)
{
  for (uint inum = 1; inum < sb.ninodes; inum++) {
    struct buf *bp = bread(dev, IBLOCK(inum, sb));
    if (bp == 0)
      return -EIO;
    struct dinode *dip = (struct dinode *)bp->data + inum % IPB;
    if (dip->type == 0) {
      memset(dip, 0, sizeof(*dip));
      dip->type = type;
      log_write(bp);
      brelse(bp);
      *ipp = iget(dev, inum);
      return 0;
    }
    brelse(bp);
  }
  return -ENOSPC;
}

// Copy the in-memory inode to its disk block, inside an operation.  Call
// after every change to a field that lives on the disk.
void
iupdate(struct inode *ip)
{
  struct buf *bp = bread(ip->dev, IBLOCK(ip->inum, sb));
  if (bp == 0) {
    // The change cannot be recorded: stop before the disk's metadata
    // disagrees with itself.
    fs_shutdown("reading an inode block to update it", IBLOCK(ip->inum, sb));
    return;
  }
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

// Load ip from its disk block.  0, or -EIO: the disk failed the read,
// or the inode is free, which a directory entry should never name (the
// disk's metadata is damaged, and the call that met it fails).
static int
iload(struct inode *ip)
{
  struct buf *bp = bread(ip->dev, IBLOCK(ip->inum, sb));

  if (bp == 0)
    return -EIO;
  struct dinode *dip = (struct dinode *)bp->data + ip->inum % IPB;
  int free = dip->type == 0;
  if (!free) {
    ip->type = dip->type;
    ip->major = dip->major;
    ip->minor = dip->minor;
    ip->nlink = dip->nlink;
    ip->size = dip->size;
    ip->i_disksize = dip->size;
    memmove(ip->addrs, dip->addrs, sizeof(ip->addrs));
    ip->valid = 1;
  }
  brelse(bp);
  if (free)
    printf("fs: inode %d is named but free: the metadata is damaged\n", ip->inum);
  return free ? -EIO : 0;
}

// Lock ip, reading it from the disk if needed.  0, or -EIO (the inode
// is then not locked).
int
ilock(struct inode *ip)
{
  if (ip == 0 || ip->ref < 1)
    panic("ilock: no reference");
  acquiresleep(&ip->lock);
  int r = ip->valid ? 0 : iload(ip);
  if (r < 0)
    releasesleep(&ip->lock);
  return r;
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
    if (ip->ref == 1) {
      // The disk inode is free: forget this one entirely.
      list_del_init(&ip->i_hash);
      itable.count--;
      release(&itable.lock);
      kmem_cache_free(&inode_cache, ip);
      return;
    }
  }
  if (--ip->ref == 0)
    list_add_tail(&ip->i_lru, &itable.unused);
  release(&itable.lock);
}

// Wait for the writeback in flight on every cached inode: the last step
// of sync(2), which must also wait for writes that the flusher started
// before sync was called.  gen tells the inodes already done in this call.
void
inode_wait_all_writeback(uint64 gen)
{
  for (int b = 0; b < IHASH; b++) {
    struct inode *ip, *found;
    do {
      found = 0;
      acquire(&itable.lock);
      list_for_each_entry(ip, &itable.hash[b], i_hash) {
        if (ip->i_wait_gen == gen)
          continue;
        ip->i_wait_gen = gen;
        if (xa_marked(&ip->i_data.i_pages, PAGECACHE_TAG_WRITEBACK)) {
          if (ip->ref++ == 0)
            list_del_init(&ip->i_lru);
          found = ip;
          break;
        }
      }
      release(&itable.lock);
      if (found) {
        filemap_fdatawait_range(&found->i_data, 0, LLONG_MAX);
        begin_op();
        iput(found);
        end_op();
      }
    } while (found);
  }
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
    if (bp == 0)
      continue;   // unreadable: any orphans there wait for another mount
    struct dinode *dip = (struct dinode *)bp->data + inum % IPB;
    int orphan = dip->type != 0 && dip->nlink == 0;
    brelse(bp);
    if (!orphan)
      continue;
    begin_op();
    struct inode *ip = iget(dev, inum);
    if (ilock(ip) == 0)
      iunlock(ip);
    iput(ip);   // the last reference, with nlink 0: freed
    end_op();
    n++;
  }
  if (n > 0)
    printf("fs: freed %d orphaned inodes\n", n);
}
