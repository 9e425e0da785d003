// The file system: superblock, inodes, block maps, directories, paths.
// The on-disk format is in uapi/fs.h.
#ifndef QUIRE_FS_H
#define QUIRE_FS_H

#include "types.h"
#include "uapi/fs.h"
#include "uapi/stat.h"
#include "lib/sleeplock.h"

// An inode in memory.  The table of these (inode.c) caches the on-disk
// inodes that are in use: by open files, current directories, and the
// path lookups in progress.
//
// ref counts the C pointers to the entry; the entry stays in the table
// while ref > 0.  lock (a sleep lock) guards every field below it; the
// fields are a copy of the dinode, read from the disk when valid is 0.
struct inode {
  uint dev;
  uint inum;
  int ref;                 // protected by the table's spin lock
  struct sleeplock lock;
  int valid;               // the fields below hold the disk inode

  short type;
  short major;
  short minor;
  short nlink;
  uint64 size;
  uint addrs[NDIRECT + 2];
};

extern struct superblock sb;

// super.c
void fs_mount(uint dev);

// balloc.c: the free-block bitmap.
uint balloc(uint dev);
void bfree(uint dev, uint b);
void bitmap_init(void);
void bitmap_committed(uint blockno, const uchar *data);

// inode.c: the inode table.
void iinit(void);
struct inode *ialloc(uint dev, short type);
struct inode *iget(uint dev, uint inum);
struct inode *idup(struct inode *ip);
void ilock(struct inode *ip);
void iunlock(struct inode *ip);
void iput(struct inode *ip);
void iunlockput(struct inode *ip);
void iupdate(struct inode *ip);
void stati(struct inode *ip, struct stat *st);
void free_orphans(uint dev);

// bmap.c: file block numbers to disk block numbers.
int bmap(struct inode *ip, uint64 bn, int alloc, uint *addr);
void itrunc(struct inode *ip, uint64 length);

// data.c: file contents.
int64 readi(struct inode *ip, int user_dst, uint64 dst, uint64 off, uint64 n);
int64 writei(struct inode *ip, int user_src, uint64 src, uint64 off, uint64 n);
int truncate_file(struct inode *ip, uint64 length);

// dir.c: directories.
struct inode *dirlookup(struct inode *dp, const char *name, uint *poff);
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
