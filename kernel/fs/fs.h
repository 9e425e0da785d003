// The file system: superblock, inodes, block maps, directories, paths.
// The on-disk format is in uapi/fs.h.
#ifndef QUIRE_FS_H
#define QUIRE_FS_H

#include "types.h"
#include "uapi/fs.h"
#include "uapi/stat.h"
#include "lib/sleeplock.h"
#include "lib/list.h"
#include "mm/pagemap.h"

// An inode in memory.  The table of these (inode.c) caches the on-disk
// inodes that are in use: by open files, current directories, path
// lookups in progress, and files whose data is still in the page cache.
//
// ref counts the C pointers to the entry.  An inode with ref 0 stays in
// the cache, with its page cache, until its memory is needed for another.
//
// Three locks, always taken in this order:
//   lock        (sleep lock) the inode's fields and its directory entries;
//               held across a whole read(2) or write(2)
//   folio locks one folio at a time, in ascending index order
//   i_map_lock  (sleep lock) the block map: addrs[] and indirect blocks;
//               taken by read_folio and writeback, which never take lock
struct inode {
  uint dev;
  uint inum;               // 0: the slot holds no inode
  int ref;                 // protected by the table's spin lock
  struct sleeplock lock;
  int valid;               // the fields below hold the disk inode

  short type;
  short major;
  short minor;
  short nlink;
  uint64 size;             // i_size: the file's size as read(2) sees it
  uint64 i_disksize;       // the size the disk inode records: it grows
                           // only as writeback puts data on the disk
  uint addrs[NDIRECT + 2];
  struct sleeplock i_map_lock;

  struct address_space i_data;   // the page cache of the file
  uint64 i_reserved;       // blocks reserved for delayed allocation:
                           // dirty folios without a disk block, plus the
                           // indirect blocks they may need
  uint64 i_delalloc;       // dirty pages without a disk block

  // The flusher's bookkeeping (fs-writeback.c), under its list lock.
  uint i_state;            // I_DIRTY_PAGES, I_SYNC
  uint64 dirtied_when;     // ticks when it became dirty (may be moved
                           // later to keep b_dirty in order)
  uint64 dirtied_seq;      // when it became dirty, as a count of such
                           // events: never moved (sync uses it)
  uint64 i_sync_gen;       // the last sync_inodes() call that took it
  uint64 i_wait_gen;       // the last sync that waited on its writeback
  struct list_head i_io_list;    // on b_dirty, b_io or b_more_io

  // The inode cache's bookkeeping (inode.c), under its lock.
  struct list_head i_hash;       // in its hash bucket
  struct list_head i_lru;        // on the unused list while ref == 0
};

#define I_DIRTY_PAGES 0x1  // some folio of the inode is dirty
#define I_SYNC        0x2  // writeback of the inode is running

extern struct superblock sb;
extern errseq_t sb_wb_err;   // the last writeback error anywhere (syncfs)

// super.c
void fs_mount(uint dev);

// shutdown.c: going read-only when the disk fails a write (docs/errors.md).
void fs_shutdown(const char *why, uint blockno);
int fs_is_shut_down(void);
int fs_check_writable(void);

// balloc.c: the free-block bitmap, and reservations.
int balloc(uint dev, uint *b);
int balloc_reserved(uint dev, uint *b);
int balloc_run_reserved(uint dev, uint goal, uint want, uint *first, uint *got);
void bfree(uint dev, uint b);
const char *bitmap_init(void);
void bitmap_committed(uint blockno, const uchar *data);
int reserve_delalloc(struct inode *ip, uint64 n);
void release_delalloc(struct inode *ip, uint64 n);

// aops.c: the file system's page-cache operations.
extern const struct address_space_operations qfs_aops;

// fs-writeback.c: dirty inodes and the flusher (its hooks for the page
// cache, mark_inode_dirty_pages and wakeup_flusher, are in mm/writeback.h).
struct writeback_control;
void fs_writeback_init(void);
void flusher_start(void);
void inode_wb_list_del(struct inode *ip);
int writeback_single_inode(struct inode *ip, struct writeback_control *wbc);
int sync_inodes(int wait);
void wb_list_stats(uint64 *ndirty, uint64 *nio, uint64 *nmore, uint64 *oldest_ms);

// inode.c: the inode table.
void iinit(void);
int ialloc(uint dev, short type, struct inode **ipp);
struct inode *iget(uint dev, uint inum);
struct inode *idup(struct inode *ip);
int ilock(struct inode *ip) __attribute__((warn_unused_result));
void iunlock(struct inode *ip);
void iput(struct inode *ip);
void iunlockput(struct inode *ip);
void iupdate(struct inode *ip);
void iupdate_locked_map(struct inode *ip);
void stati(struct inode *ip, struct stat *st);
struct inode *igrab(struct inode *ip);
void inode_wait_all_writeback(uint64 gen);
void free_orphans(uint dev);

// bmap.c: file block numbers to disk block numbers.
#define BMAP_LOOKUP   0   // find the block; a hole stays a hole
#define BMAP_ALLOC    1   // fill a hole from unreserved space
#define BMAP_RESERVED 2   // fill a hole from the delayed-allocation reserve
int bmap(struct inode *ip, uint64 bn, int alloc, uint *addr);
int bmap_range(struct inode *ip, uint64 bn, int n, int alloc, uint *addrs, uint64 *fresh);
void itrunc(struct inode *ip, uint64 length);

// readwrite.c: file contents.
int64 readi(struct inode *ip, int user_dst, uint64 dst, uint64 off, uint64 n);
int64 writei(struct inode *ip, int user_src, uint64 src, uint64 off, uint64 n);

// truncate.c: a regular file's size.
int truncate_file(struct inode *ip, uint64 length);

// dir.c: directories.
int dirlookup(struct inode *dp, const char *name, uint *poff, struct inode **ipp);
int dirlink(struct inode *dp, const char *name, uint inum);
int dirunlink(struct inode *dp, uint off);
int isdirempty(struct inode *dp);
int namecmp(const char *a, const char *b);

// rename.c
void rename_init(void);

// namei.c: path names.
struct inode *namei(const char *path);
struct inode *nameiparent(const char *path, char *name);
int namei_err(const char *path, struct inode **ipp);
int nameiparent_err(const char *path, char *name, struct inode **ipp);

#endif
