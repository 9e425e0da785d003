// The on-disk format of Quire's file system.
//
// Shared by the kernel, mkfs and fsck.  All integers are little-endian.
// The disk is an array of 4096-byte blocks, the same size as a page, so one
// page-cache folio holds exactly one file block:
//
//   [ super | log header | log blocks ... | inodes ... | bitmap ... | data ... ]
//     0       logstart     logstart+1       inodestart   bmapstart    datastart
//
// Block 0 is the superblock.  The log holds metadata only (inodes, bitmap,
// indirect blocks, directories); regular-file data never goes through it.
#ifndef QUIRE_UAPI_FS_H
#define QUIRE_UAPI_FS_H

#include <stdint.h>

#define BSIZE       4096        // block size in bytes
#define FS_MAGIC    0x52495551  // "QUIR" read as little-endian bytes
#define FS_VERSION  1
#define ROOTINO     1           // inode number of "/"

struct superblock {
  uint32_t magic;       // FS_MAGIC
  uint32_t version;     // FS_VERSION
  uint32_t size;        // total blocks in the image
  uint32_t nblocks;     // data blocks (size - datastart)
  uint32_t ninodes;     // inodes, numbered 0..ninodes-1; 0 is never used
  uint32_t nlog;        // log blocks, including the header block
  uint32_t logstart;    // block number of the log header
  uint32_t inodestart;  // first inode block
  uint32_t bmapstart;   // first free-bitmap block
  uint32_t datastart;   // first data block
};

// Block addresses in an inode: NDIRECT direct blocks, then one single
// indirect block (NINDIRECT addresses), then one double-indirect block
// (NINDIRECT indirect blocks).  A zero address is a hole: it reads as zeros.
#define NDIRECT     26
#define NINDIRECT   (BSIZE / sizeof(uint32_t))
#define NDINDIRECT  (NINDIRECT * NINDIRECT)
#define MAXFILE     (NDIRECT + NINDIRECT + NDINDIRECT)   // in blocks
#define IND_SLOT    NDIRECT         // addrs[] index of the indirect block
#define DIND_SLOT   (NDIRECT + 1)   // addrs[] index of the double indirect

// On-disk inode.  type 0 means the inode is free.
//
// nlink counts the directory entries that name the inode, not counting
// "." and "..".  So a file has one link per name, and every directory has
// nlink 1: mkdir and rmdir never change the parent's nlink.  The root,
// which no entry names, counts one link for itself.  An allocated inode
// with nlink 0 that no entry names is an orphan (unlinked while still
// open); the kernel frees orphans at mount.  mkfs/fsck checks this rule.
struct dinode {
  int16_t  type;                  // T_DIR, T_FILE, T_DEVICE (uapi/stat.h)
  int16_t  major;                 // device number (T_DEVICE only)
  int16_t  minor;
  int16_t  nlink;                 // directory entries naming this inode
  uint64_t size;                  // file size in bytes
  uint32_t addrs[NDIRECT + 2];    // block addresses, as described above
};

#define IPB         (BSIZE / sizeof(struct dinode))   // inodes per block
#define IBLOCK(i, sb)  ((i) / IPB + (sb).inodestart)  // block holding inode i
#define BPB         (BSIZE * 8)                       // bitmap bits per block
#define BBLOCK(b, sb)  ((b) / BPB + (sb).bmapstart)   // bitmap block for b

// The log header: the commit record.  n == 0 means the log is empty; the
// header always carries LOG_MAGIC, empty or not.
// When n > 0, log block i (at logstart + 1 + i) holds the new contents of
// block[i], and replay copies it there.  The checksum covers n, block[]
// and the contents of the n logged blocks, so a torn or stale log is never
// replayed.  The checksum is 32-bit FNV-1a over, in order: the
// little-endian bytes of n, of seq, of block[0..n-1], then the BSIZE bytes
// of each logged block 0..n-1 (log_checksum_start() and fnv1a() below).
#define LOG_MAGIC   0x474f4c51  // "QLOG"
#define LOGMIN      41          // the smallest nlog the kernel will mount
#define LOGMAX      ((BSIZE - 16) / sizeof(uint32_t))
struct logheader {
  uint32_t magic;               // LOG_MAGIC
  uint32_t n;                   // number of logged blocks
  uint32_t seq;                 // commit sequence number
  uint32_t checksum;            // FNV-1a, as described above
  uint32_t block[LOGMAX];       // home block number of each logged block
};

// The checksum, computed in two steps so that the logged blocks need not
// lie side by side in memory:
//
//   uint32_t h = log_checksum_start(lh);
//   for each logged block i: h = fnv1a(h, contents of block i, BSIZE);
//
// Both the kernel and the host tools (mkfs, fsck) use these, so the
// on-disk format has this one definition.  The machines that run either
// are little-endian, so a field's bytes in memory are the bytes to hash.
#define FNV1A_BASIS 2166136261u
#define FNV1A_PRIME 16777619u

// Continue the 32-bit FNV-1a hash h over n more bytes.
static inline uint32_t
fnv1a(uint32_t h, const void *p, uint64_t n)
{
  const uint8_t *s = (const uint8_t *)p;

  for (uint64_t i = 0; i < n; i++)
    h = (h ^ s[i]) * FNV1A_PRIME;
  return h;
}

// The hash of n, seq and block[0..n-1]; lh->n must be at most LOGMAX.
static inline uint32_t
log_checksum_start(const struct logheader *lh)
{
  uint32_t h = FNV1A_BASIS;

  h = fnv1a(h, &lh->n, sizeof(lh->n));
  h = fnv1a(h, &lh->seq, sizeof(lh->seq));
  return fnv1a(h, lh->block, lh->n * sizeof(lh->block[0]));
}

// Directory entries.  A directory is a file of these; inum 0 is a free slot.
#define DIRSIZ 60
struct dirent {
  uint32_t inum;
  char name[DIRSIZ];            // NUL-terminated (at most DIRSIZ-1 bytes)
};

#endif
