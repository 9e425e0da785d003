// Mounting the file system: check the superblock, replay the log, load
// the allocation bitmap, and free orphaned inodes.
//
// A disk that fails these checks is refused with a message, never trusted:
// a wrong number in the superblock would otherwise send the kernel to read
// and write blocks all over the disk.  So is one that fails a read the
// mount needs (a committed log that cannot be replayed, the bitmap).
#include "types.h"
#include "param.h"
#include "uapi/fs.h"
#include "lib/lib.h"
#include "dev/blk.h"
#include "fs/buf.h"
#include "fs/log.h"
#include "fs/fs.h"

struct superblock sb;
errseq_t sb_wb_err;

static void
refuse(const char *why)
{
  printf("fs: refusing to mount: %s\n", why);
  poweroff(1);
}

static uint
div_up(uint64 a, uint64 b)
{
  return (a + b - 1) / b;
}

// Returns 0 if the superblock describes a sane layout, or a reason.
static const char *
check_super(struct superblock *s, uint64 disk_blocks)
{
  if (s->magic != FS_MAGIC)
    return "bad magic number (not a Quire file system)";
  if (s->version != FS_VERSION)
    return "unknown file-system version";
  if (s->size == 0 || s->size > disk_blocks)
    return "file-system size larger than the disk";
  if (s->nlog < 2 || s->logstart < 1 || s->ninodes < 2)
    return "log or inode table too small";
  if (s->nlog < LOGMIN)
    return "log too small for this kernel (make the image with mkfs -l 41 or more)";
  if ((uint64)s->logstart + s->nlog > s->inodestart)
    return "log overlaps the inode table";
  if ((uint64)s->inodestart + div_up(s->ninodes, IPB) > s->bmapstart)
    return "inode table overlaps the bitmap";
  if ((uint64)s->bmapstart + div_up(s->size, BPB) > s->datastart)
    return "bitmap too small or overlaps the data";
  if (s->datastart >= s->size || s->nblocks != s->size - s->datastart)
    return "data area size inconsistent";
  return 0;
}

// The root inode must be a directory; read it raw, because ilock() would
// panic on a corrupt inode.
static const char *
check_root(uint dev)
{
  struct buf *b = bread(dev, IBLOCK(ROOTINO, sb));
  if (b == 0)
    return "the disk failed the read of the root inode";
  struct dinode *dip = (struct dinode *)b->data + ROOTINO % IPB;
  const char *why = 0;

  if (dip->type != T_DIR)
    why = "root inode is not a directory";
  else if (dip->size == 0 || dip->size % BSIZE != 0 || dip->nlink < 1)
    why = "root directory is damaged";
  brelse(b);
  return why;
}

void
fs_mount(uint dev)
{
  struct buf *b = bread(dev, 0);
  if (b == 0)
    refuse("the disk failed the read of the superblock");
  memmove(&sb, b->data, sizeof(sb));
  brelse(b);

  const char *why = check_super(&sb, blk_capacity());
  if (why)
    refuse(why);
  if ((why = initlog(dev, &sb)) != 0)
    refuse(why);
  if ((why = check_root(dev)) != 0)
    refuse(why);
  if ((why = bitmap_init()) != 0)
    refuse(why);
  free_orphans(dev);
  printf("fs: %d blocks (%d for data), %d inodes, %d log blocks\n",
         sb.size, sb.nblocks, sb.ninodes, sb.nlog);
}
