// fsck: check a Quire file-system image, without changing it.
//
//   mkfs/fsck [-v] [-B block]... image
//
// Each problem found is printed on stdout as one line, and nothing else
// goes to stdout.  -v adds notes on stderr: a log transaction replayed,
// orphans found, a summary.  -B names a block that cannot be read, as a
// disk with a bad sector there would have it (e2fsck's bad-blocks list
// does the same): fsck says what the kernel would do about it.  Exit
// status:
//   0  the image is clean
//   1  problems were found
//   2  bad arguments, an I/O error, or a superblock so broken that the
//      rest of the image cannot be found (the reason is printed)
//
// The rules checked, beyond the layout in uapi/fs.h:
//
// Log.  A header with LOG_MAGIC, n > 0 and a correct checksum is a
// committed transaction that the kernel replays at mount, so fsck applies
// it (in memory only) before checking anything else.  With a wrong
// checksum the commit never finished and the log is ignored; that is not
// a problem.  A header without LOG_MAGIC, n > LOGMAX, or a committed
// transaction with n > nlog-1 or a logged block outside the inode, bitmap
// and data areas are problems, and such a log is not replayed.  A header
// with n > 0 whose log blocks cannot all be read may hold a committed
// transaction that cannot be replayed: the kernel refuses to mount such a
// disk, and fsck reports it as a problem.
//
// Link counts.  An inode's nlink is the number of directory entries that
// name it, not counting "." and "..".  The root directory, which no entry
// names, counts one link for itself.  So every directory has nlink 1, and
// a file has one link per name.  An allocated inode with nlink 0 that no
// entry names is an orphan (unlinked while open); the kernel frees orphans
// at mount, so they are noted under -v but are not problems.
//
// Directories.  The root is a directory.  Every directory except an orphan
// has "." naming itself and ".." naming the directory that names it (the
// root's ".." names the root), is named by exactly one entry in one other
// directory, and is reachable from the root.  Entries name allocated inodes
// in range; names are non-empty, contain no '/', are NUL-terminated (so
// at most DIRSIZ-1 bytes long), and are unique within their directory.  A
// directory's size is a multiple of BSIZE with every block below it present.
//
// Blocks.  Every block address (direct, indirect, double indirect and the
// entries of indirect blocks) lies in the data area; no block is used
// twice; no file has a block, or an indirect block, beyond its size; the
// bitmap marks exactly the blocks below datastart and the blocks that
// allocated inodes use.
//
// Everything read from the image is bounds-checked before it is used, so a
// corrupt image gives problem reports, never a crash.

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uapi/fs.h"
#include "fsutil.h"

static int verbose;
static const char *image;
static int imgfd;
static uint32_t bad[17];      // -B: blocks that cannot be read (16, and a spare)
static int nbad;
static struct superblock sb;
static unsigned long nproblems;

// A committed log transaction, applied in memory: reads of a logged block
// see its logged contents.
static struct logged {
  uint32_t block;
  uint8_t data[BSIZE];
} *logged;
static uint32_t nlogged;

static struct dinode *inodes;   // the inode table, ninodes entries
static uint8_t *bitmap;         // the free bitmap, one bit per block
static uint32_t *owner;         // per data block: the inode using it, or 0

// Per-inode facts gathered while reading directories.
static uint32_t *refs;          // entries naming it, other than "." and ".."
static uint32_t *parent;        // for a directory: the directory naming it
static uint32_t *dotdot;        // for a directory: what its ".." names
static uint8_t *flags;
#define F_HAS_DOT    0x01
#define F_HAS_DOTDOT 0x02
#define F_SCANNED    0x04       // a directory whose entries have been read
#define F_REACHED    0x08       // a directory known to be reachable
#define F_UNREACHED  0x10       // a directory known not to be
#define F_VISITING   0x20

// The data blocks of the inode being walked, in file-block order.
struct fblock {
  uint64_t fbn;
  uint32_t b;
};
static struct fblock *fblocks;
static size_t nfblocks, capfblocks;
// Set while walk_inode() re-lists the blocks of an inode already walked:
// nothing is claimed or reported a second time.
static int listing;

static void __attribute__((format(printf, 1, 2)))
problem(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  nproblems++;
}

static void __attribute__((format(printf, 1, 2)))
note(const char *fmt, ...)
{
  va_list ap;

  if (!verbose)
    return;
  va_start(ap, fmt);
  vcomplain("fsck", fmt, ap);
  va_end(ap);
}

// Usage and I/O errors: on stderr, exit 2.
static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vcomplain("fsck", fmt, ap);
  va_end(ap);
  exit(2);
}

// A problem that leaves nothing else checkable: report it, exit 2.
static void __attribute__((noreturn, format(printf, 1, 2)))
broken(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
  fprintf(stderr, "fsck: %s: superblock too damaged to check further\n", image);
  exit(2);
}

static void *
zalloc(uint64_t n)
{
  void *p = n ? calloc(1, n) : NULL;

  if (n && p == NULL)
    fail("out of memory (needed %llu bytes)", (unsigned long long)n);
  return p;
}

static uint64_t
divup(uint64_t a, uint64_t b)
{
  return (a + b - 1) / b;
}

// Read block b from the image, or fail with errno set (-B).
static int
read_raw(uint32_t b, void *buf)
{
  for (int i = 0; i < nbad; i++) {
    if (bad[i] == b) {
      errno = EIO;
      return -1;
    }
  }
  return read_block(imgfd, b, buf);
}

// Read block b of the image as the kernel would see it after log replay.
static void
rblock(uint32_t b, void *buf)
{
  for (uint32_t i = nlogged; i-- > 0;) {   // the last logged copy wins
    if (logged[i].block == b) {
      memcpy(buf, logged[i].data, BSIZE);
      return;
    }
  }
  if (read_raw(b, buf) < 0)
    fail("%s: reading block %u: %s", image, b, strerror(errno));
}

// Copy a directory entry's name into out as printable text.
static const char *
showname(const char *name, char out[4 * DIRSIZ + 1])
{
  char *p = out;

  for (int i = 0; i < DIRSIZ && name[i]; i++) {
    unsigned char c = name[i];
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
      *p++ = c;
    else
      p += sprintf(p, "\\x%02x", c);
  }
  *p = '\0';
  return out;
}

// ---------------------------------------------------------------- superblock

static void
check_superblock(void)
{
  uint8_t buf[BSIZE];
  off_t end;
  uint64_t fileblocks, ninodeblocks, nbitmap;

  end = lseek(imgfd, 0, SEEK_END);
  if (end < 0)
    fail("%s: %s", image, strerror(errno));
  if (end < BSIZE)
    broken("image is %lld bytes, smaller than one block", (long long)end);
  fileblocks = end / BSIZE;
  rblock(0, buf);
  memcpy(&sb, buf, sizeof sb);

  if (sb.magic != FS_MAGIC)
    broken("superblock: bad magic 0x%08x (expected 0x%08x)", sb.magic, FS_MAGIC);
  if (sb.version != FS_VERSION)
    broken("superblock: version %u, but this fsck knows only version %u",
           sb.version, FS_VERSION);
  if (sb.size > fileblocks)
    broken("superblock: size is %u blocks, but the image holds only %llu",
           sb.size, (unsigned long long)fileblocks);
  if (sb.nlog < 2)
    broken("superblock: nlog is %u; the log needs a header and at least one block",
           sb.nlog);
  if (sb.ninodes < 2)
    broken("superblock: ninodes is %u; inode 1 is the root, so at least 2 are needed",
           sb.ninodes);
  // The regions, in order and without overlap.  64-bit sums cannot wrap.
  ninodeblocks = divup(sb.ninodes, IPB);
  nbitmap = divup(sb.size, BPB);
  if (sb.logstart < 1)
    broken("superblock: the log starts at block %u, on top of the superblock",
           sb.logstart);
  if ((uint64_t)sb.logstart + sb.nlog > sb.inodestart)
    broken("superblock: the log (blocks %u..%llu) runs into the inodes at block %u",
           sb.logstart, (unsigned long long)sb.logstart + sb.nlog - 1,
           sb.inodestart);
  if (sb.inodestart + ninodeblocks > sb.bmapstart)
    broken("superblock: %u inodes need %llu blocks from block %u, which runs "
           "into the bitmap at block %u", sb.ninodes,
           (unsigned long long)ninodeblocks, sb.inodestart, sb.bmapstart);
  if (sb.bmapstart + nbitmap > sb.datastart)
    broken("superblock: the bitmap (blocks %u..%u) is too small: %u blocks "
           "need %llu bitmap blocks", sb.bmapstart, sb.datastart - 1,
           sb.size, (unsigned long long)nbitmap);
  if (sb.datastart > sb.size)
    broken("superblock: the data area starts at block %u, past the end of the "
           "image (%u blocks)", sb.datastart, sb.size);

  // Problems that do not stop the check.
  if (sb.size < fileblocks || end % BSIZE != 0)
    problem("superblock: size is %u blocks, but the image is %lld bytes (%llu blocks)",
            sb.size, (long long)end, (unsigned long long)divup(end, BSIZE));
  if (sb.nblocks != sb.size - sb.datastart)
    problem("superblock: nblocks is %u, but size - datastart is %u",
            sb.nblocks, sb.size - sb.datastart);
  if (sb.nlog - 1 > LOGMAX)
    problem("superblock: nlog is %u, but a log header describes at most %u "
            "blocks, so nlog should be at most %u", sb.nlog, (unsigned)LOGMAX,
            (unsigned)LOGMAX + 1);
}

// ---------------------------------------------------------------- log

static void
check_log(void)
{
  struct logheader lh;
  uint8_t buf[BSIZE];
  uint32_t h;
  int ok = 1;

  rblock(sb.logstart, &lh);
  if (lh.magic != LOG_MAGIC) {
    problem("log header (block %u): bad magic 0x%08x (expected 0x%08x)",
            sb.logstart, lh.magic, LOG_MAGIC);
    return;
  }
  if (lh.n == 0)
    return;
  if (lh.n > LOGMAX) {
    problem("log header (block %u): n is %u, more than the %u blocks a header "
            "can describe", sb.logstart, lh.n, (unsigned)LOGMAX);
    return;
  }

  // Only a correct checksum makes the transaction committed.  Logged blocks
  // are read from where they would be even when n is too large for the log,
  // so that a committed but oversized transaction is recognised.
  h = log_checksum_start(&lh);
  for (uint32_t i = 0; i < lh.n; i++) {
    uint64_t lb = (uint64_t)sb.logstart + 1 + i;
    if (lb >= sb.size) {
      note("log header has n = %u, which runs off the image; not a committed "
           "transaction, ignored", lh.n);
      return;
    }
    if (read_raw(lb, buf) < 0) {
      problem("log: block %llu cannot be read (%s), so a committed transaction "
              "may be there that cannot be replayed; the kernel refuses to mount "
              "this disk", (unsigned long long)lb, strerror(errno));
      return;
    }
    h = fnv1a(h, buf, BSIZE);
  }
  if (h != lh.checksum) {
    note("log holds an unfinished transaction (seq %u, n %u, bad checksum); "
         "the kernel ignores it, and so does fsck", lh.seq, lh.n);
    return;
  }

  if (lh.n > sb.nlog - 1) {
    problem("log header: committed transaction of %u blocks does not fit in "
            "the log's %u blocks", lh.n, sb.nlog - 1);
    ok = 0;
  }
  for (uint32_t i = 0; i < lh.n; i++) {
    if (lh.block[i] < sb.inodestart || lh.block[i] >= sb.size) {
      problem("log header: entry %u names block %u, outside the inode, bitmap "
              "and data areas (blocks %u..%u)", i, lh.block[i], sb.inodestart,
              sb.size - 1);
      ok = 0;
    }
  }
  if (!ok)
    return;

  note("log holds a committed transaction (seq %u, %u blocks); applying it "
       "before checking, as the kernel would at mount", lh.seq, lh.n);
  logged = zalloc((uint64_t)lh.n * sizeof *logged);
  for (uint32_t i = 0; i < lh.n; i++) {
    // nlogged is still 0, so rblock() reads the log block itself.
    logged[i].block = lh.block[i];
    rblock(sb.logstart + 1 + i, logged[i].data);
  }
  nlogged = lh.n;
}

// ---------------------------------------------------------------- blocks

// A problem found while walking an inode's blocks: only on the first walk.
static void __attribute__((format(printf, 1, 2)))
walk_problem(const char *fmt, ...)
             {
             va_list ap;

  if (listing)
    return;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  nproblems++;
}

static int
bitmap_bit(uint32_t b)
{
  return (bitmap[b / 8] >> (b % 8)) & 1;
}

static int
valid_type(int type)
{
  return type == T_DIR || type == T_FILE || type == T_DEVICE;
}

// Record that inode inum uses block b, found at `where`.  Returns 1 if the
// block is in the data area and was not already in use, so that an
// indirect block's entries are worth reading.
static int
claim(uint32_t inum, uint32_t b, const char *where)
{
  uint32_t *o;

  if (listing)    // the first walk claimed exactly the blocks it owns
    return b >= sb.datastart && b < sb.size && owner[b - sb.datastart] == inum;
  if (b < sb.datastart || b >= sb.size) {
    walk_problem("inode %u: %s is block %u, outside the data area (blocks %u..%u)",
                 inum, where, b, sb.datastart, sb.size - 1);
    return 0;
  }
  o = &owner[b - sb.datastart];
  if (*o == inum) {
    walk_problem("block %u: used twice by inode %u", b, inum);
    return 0;
  } else if (*o != 0) {
    walk_problem("block %u: used by inode %u and inode %u", b, *o, inum);
    return 0;
  }
  *o = inum;
  return 1;
}

static void
add_fblock(uint64_t fbn, uint32_t b)
{
  if (nfblocks == capfblocks) {
    capfblocks = capfblocks ? 2 * capfblocks : 64;
    fblocks = realloc(fblocks, capfblocks * sizeof *fblocks);
    if (fblocks == NULL)
      fail("out of memory");
  }
  fblocks[nfblocks].fbn = fbn;
  fblocks[nfblocks].b = b;
  nfblocks++;
}

// A data block of inode inum at file block fbn; nb is the number of file
// blocks its size covers.
static void
data_block(uint32_t inum, uint64_t fbn, uint32_t b, uint64_t nb,
           uint64_t size, const char *where)
{
  if (!claim(inum, b, where))
    return;
  if (fbn >= nb)
    walk_problem("inode %u: file block %llu (block %u) lies beyond the size %llu",
                 inum, (unsigned long long)fbn, b, (unsigned long long)size);
  add_fblock(fbn, b);
}

// Walk the indirect block ind, which maps file blocks from first on.
static void
walk_indirect(uint32_t inum, uint32_t ind, uint64_t first, uint64_t nb,
              uint64_t size, const char *what)
{
  uint32_t a[NINDIRECT];
  char where[80];

  rblock(ind, a);
  for (uint32_t i = 0; i < NINDIRECT; i++) {
    if (a[i] == 0)
      continue;
    snprintf(where, sizeof where, "entry %u of %s %u", i, what, ind);
    data_block(inum, first + i, a[i], nb, size, where);
  }
}

// Check every block inode inum uses, claiming each; leave its data blocks
// in fblocks[].  With relist set, only list the data blocks again.
static void
walk_inode(uint32_t inum, int relist)
{
  struct dinode *d = &inodes[inum];
  uint64_t size = d->size;
  uint64_t nb;
  char where[80];

  nfblocks = 0;
  listing = relist;
  if (size > (uint64_t)MAXFILE * BSIZE) {
    walk_problem("inode %u: size %llu is larger than the largest file (%llu bytes)",
                 inum, (unsigned long long)size,
                 (unsigned long long)MAXFILE * BSIZE);
    size = (uint64_t)MAXFILE * BSIZE;
  }
  nb = divup(size, BSIZE);

  for (uint32_t i = 0; i < NDIRECT; i++) {
    if (d->addrs[i] == 0)
      continue;
    snprintf(where, sizeof where, "addrs[%u]", i);
    data_block(inum, i, d->addrs[i], nb, d->size, where);
  }

  if (d->addrs[IND_SLOT] != 0) {
    uint32_t ind = d->addrs[IND_SLOT];
    if (claim(inum, ind, "the indirect block address")) {
      if (nb <= NDIRECT)
        walk_problem("inode %u: indirect block %u lies beyond the size %llu",
                     inum, ind, (unsigned long long)d->size);
      walk_indirect(inum, ind, NDIRECT, nb, d->size, "indirect block");
    }
  }

  if (d->addrs[DIND_SLOT] != 0) {
    uint32_t dind = d->addrs[DIND_SLOT];
    uint32_t a[NINDIRECT];
    if (claim(inum, dind, "the double-indirect block address")) {
      if (nb <= NDIRECT + NINDIRECT)
        walk_problem("inode %u: double-indirect block %u lies beyond the size %llu",
                     inum, dind, (unsigned long long)d->size);
      rblock(dind, a);
      for (uint32_t i = 0; i < NINDIRECT; i++) {
        uint64_t first = NDIRECT + NINDIRECT + (uint64_t)i * NINDIRECT;
        if (a[i] == 0)
          continue;
        snprintf(where, sizeof where, "entry %u of double-indirect block %u",
                 i, dind);
        if (!claim(inum, a[i], where))
          continue;
        if (nb <= first)
          walk_problem("inode %u: indirect block %u lies beyond the size %llu",
                       inum, a[i], (unsigned long long)d->size);
        walk_indirect(inum, a[i], first, nb, d->size, "indirect block");
      }
    }
  }
}

// ---------------------------------------------------------------- directories

static int
cmpname(const void *a, const void *b)
{
  return strncmp(a, b, DIRSIZ);
}

// Read the entries of directory dir (its blocks are in fblocks[]).
static void
scan_directory(uint32_t dir)
{
  struct dinode *d = &inodes[dir];
  uint64_t nb = d->size / BSIZE;
  uint64_t present = 0, firsthole = 0;
  struct dirent ents[BSIZE / sizeof(struct dirent)];
  char (*names)[DIRSIZ] = NULL;
  size_t nnames = 0, capnames = 0;
  char shown[4 * DIRSIZ + 1];

  flags[dir] |= F_SCANNED;
  if (d->size % BSIZE != 0)
    problem("directory inode %u: size %llu is not a multiple of %d",
            dir, (unsigned long long)d->size, BSIZE);
  if (nb > MAXFILE)
    nb = MAXFILE;

  // walk_inode() lists each file block once, in increasing order, so
  // the first hole is where the list first skips a number.
  for (size_t k = 0; k < nfblocks && fblocks[k].fbn < nb; k++) {
    present++;
    if (fblocks[k].fbn == firsthole)
      firsthole++;
  }
  if (present < nb)
    problem("directory inode %u: %llu of its %llu blocks are holes (the first "
            "is file block %llu)", dir, (unsigned long long)(nb - present),
            (unsigned long long)nb, (unsigned long long)firsthole);

  for (size_t k = 0; k < nfblocks && fblocks[k].fbn < nb; k++) {
    rblock(fblocks[k].b, ents);
    for (size_t j = 0; j < BSIZE / sizeof(struct dirent); j++) {
      struct dirent *e = &ents[j];
      uint32_t inum = e->inum;

      if (inum == 0)
        continue;       // a free slot
      showname(e->name, shown);
      if (e->name[0] == '\0')
        problem("directory inode %u: an entry naming inode %u has an empty name",
                dir, inum);
      else if (memchr(e->name, '/', strnlen(e->name, DIRSIZ)))
        problem("directory inode %u: entry \"%s\" has a '/' in its name",
                dir, shown);
      else if (memchr(e->name, '\0', DIRSIZ) == NULL)
        problem("directory inode %u: entry \"%s\" has no NUL within its %d "
                "bytes", dir, shown, DIRSIZ);
      if (nnames == capnames) {
        capnames = capnames ? 2 * capnames : 16;
        names = realloc(names, capnames * sizeof *names);
        if (names == NULL)
          fail("out of memory");
      }
      memcpy(names[nnames++], e->name, DIRSIZ);

      if (inum >= sb.ninodes) {
        problem("directory inode %u: entry \"%s\" names inode %u, out of range "
                "(there are %u inodes)", dir, shown, inum, sb.ninodes);
        continue;
      }
      if (inodes[inum].type == 0) {
        problem("directory inode %u: entry \"%s\" names free inode %u",
                dir, shown, inum);
        continue;
      }
      if (strncmp(e->name, ".", DIRSIZ) == 0) {
        flags[dir] |= F_HAS_DOT;
        if (inum != dir)
          problem("directory inode %u: \".\" names inode %u, not itself",
                  dir, inum);
        continue;
      }
      if (strncmp(e->name, "..", DIRSIZ) == 0) {
        flags[dir] |= F_HAS_DOTDOT;
        dotdot[dir] = inum;
        continue;
      }
      refs[inum]++;
      if (inodes[inum].type != T_DIR)
        continue;
      if (inum == ROOTINO)
        problem("directory inode %u: entry \"%s\" names the root directory",
                dir, shown);
      else if (parent[inum] != 0)
        problem("directory inode %u is named both in directory inode %u and in "
                "directory inode %u (as \"%s\")", inum, parent[inum], dir, shown);
      else
        parent[inum] = dir;
    }
  }

  if (nnames > 1)
    qsort(names, nnames, sizeof *names, cmpname);
  for (size_t k = 1; k < nnames; k++) {
    if (strncmp(names[k - 1], names[k], DIRSIZ) == 0 &&
        (k == 1 || strncmp(names[k - 2], names[k], DIRSIZ) != 0) &&
        names[k][0] != '\0')
      problem("directory inode %u: the name \"%s\" appears more than once",
              dir, showname(names[k], shown));
  }
  free(names);
}

// Is directory d reachable from the root by following parent[] upwards?
// A cycle of directories naming each other never reaches the root.
static int
reachable(uint32_t d)
{
  uint32_t top = d, result;

  // Find the first directory up the chain whose answer is known.
  while (!(flags[top] & (F_REACHED | F_UNREACHED))) {
    if (top == ROOTINO) {
      flags[top] |= F_REACHED;
      break;
    }
    if (parent[top] == 0 || (flags[top] & F_VISITING)) {
      flags[top] |= F_UNREACHED;  // no parent, or back round a cycle
      break;
    }
    flags[top] |= F_VISITING;
    top = parent[top];
  }
  result = (flags[top] & F_REACHED) ? F_REACHED : F_UNREACHED;
  // Record the answer all the way up the chain.
  for (uint32_t x = d; flags[x] & F_VISITING; x = parent[x]) {
    flags[x] &= ~F_VISITING;
    flags[x] |= result;
  }
  return result == F_REACHED;
}

// ---------------------------------------------------------------- main check

static void
check(void)
{
  uint64_t ninodeblocks = divup(sb.ninodes, IPB);
  uint64_t nbitmap = divup(sb.size, BPB);
  uint32_t norphans = 0;
  int more;

  check_log();

  // Load the inode table and the bitmap, as replayed.
  inodes = zalloc(ninodeblocks * BSIZE);
  for (uint64_t i = 0; i < ninodeblocks; i++)
    rblock(sb.inodestart + i, (uint8_t *)inodes + i * BSIZE);
  bitmap = zalloc(nbitmap * BSIZE);
  for (uint64_t i = 0; i < nbitmap; i++)
    rblock(sb.bmapstart + i, bitmap + i * BSIZE);
  owner = zalloc((uint64_t)(sb.size - sb.datastart) * sizeof *owner);
  refs = zalloc((uint64_t)sb.ninodes * sizeof *refs);
  parent = zalloc((uint64_t)sb.ninodes * sizeof *parent);
  dotdot = zalloc((uint64_t)sb.ninodes * sizeof *dotdot);
  flags = zalloc(sb.ninodes);

  if (inodes[0].type != 0)
    problem("inode 0: allocated (type %d), but inode 0 is never used",
            inodes[0].type);
  for (uint32_t i = 1; i < sb.ninodes; i++)
    if (inodes[i].type != 0 && !valid_type(inodes[i].type))
      problem("inode %u: bad type %d", i, inodes[i].type);
  if (inodes[ROOTINO].type != T_DIR)
    problem("inode %u: the root is not a directory (type %d)", ROOTINO,
            inodes[ROOTINO].type);

  // Walk every inode's blocks.  Directories with links (and the root) are
  // scanned at once; those with nlink 0 wait, since they may be orphans,
  // whose entries are stale and not counted.
  for (uint32_t i = 1; i < sb.ninodes; i++) {
    if (!valid_type(inodes[i].type))
      continue;
    walk_inode(i, 0);
    if (inodes[i].type == T_DIR && (inodes[i].nlink != 0 || i == ROOTINO))
      scan_directory(i);
  }
  // A directory with nlink 0 that some entry names is not an orphan after
  // all: scan it too, which may in turn reveal more such directories.
  do {
    more = 0;
    for (uint32_t i = 1; i < sb.ninodes; i++) {
      if (inodes[i].type == T_DIR && !(flags[i] & F_SCANNED) && refs[i] > 0) {
        walk_inode(i, 1);   // claimed already: only list its blocks
        scan_directory(i);
        more = 1;
      }
    }
  } while (more);

  // Directory structure.
  for (uint32_t i = 1; i < sb.ninodes; i++) {
    if (inodes[i].type != T_DIR || !(flags[i] & F_SCANNED))
      continue;
    if (!(flags[i] & F_HAS_DOT))
      problem("directory inode %u: no \".\" entry", i);
    if (!(flags[i] & F_HAS_DOTDOT))
      problem("directory inode %u: no \"..\" entry", i);
    else if (i == ROOTINO && dotdot[i] != ROOTINO)
      problem("directory inode %u (the root): \"..\" names inode %u, not the "
              "root itself", i, dotdot[i]);
    else if (i != ROOTINO && parent[i] != 0 && dotdot[i] != parent[i])
      problem("directory inode %u: \"..\" names inode %u, but the directory "
              "naming it is inode %u", i, dotdot[i], parent[i]);
    if (i != ROOTINO && parent[i] != 0 && !reachable(i))
      problem("directory inode %u is not reachable from the root (a cycle of "
              "directories)", i);
  }

  // Link counts and orphans.
  for (uint32_t i = 1; i < sb.ninodes; i++) {
    struct dinode *d = &inodes[i];
    uint32_t want = refs[i] + (i == ROOTINO ? 1 : 0);
    if (!valid_type(d->type))
      continue;
    if (d->nlink == 0 && want == 0) {
      norphans++;
      note("inode %u: orphan (type %d, nlink 0, named by no directory); the "
           "kernel frees it at mount", i, d->type);
      if (d->type == T_DIR) {
        // The kernel would free it without looking inside, so it must not
        // hold anything but "." and "..".
        walk_inode(i, 1);
        for (size_t k = 0; k < nfblocks; k++) {
          struct dirent ents[BSIZE / sizeof(struct dirent)];
          if (fblocks[k].fbn >= d->size / BSIZE)
            break;
          rblock(fblocks[k].b, ents);
          for (size_t j = 0; j < BSIZE / sizeof(struct dirent); j++) {
            if (ents[j].inum != 0 && strncmp(ents[j].name, ".", DIRSIZ) != 0 &&
                strncmp(ents[j].name, "..", DIRSIZ) != 0) {
              problem("inode %u: orphan directory is not empty", i);
              k = nfblocks;
              break;
            }
          }
        }
      }
    } else if (d->nlink != (int64_t)want) {
      if (i == ROOTINO)
        problem("inode %u: nlink is %d, but the root directory should have "
                "nlink %u", i, d->nlink, want);
      else if (want == 0)
        problem("inode %u: nlink is %d, but no directory entry names it",
                i, d->nlink);
      else
        problem("inode %u: nlink is %d, but %u directory %s it", i,
                d->nlink, want, want == 1 ? "entry names" : "entries name");
    }
  }

  // The bitmap against what is actually in use.
  for (uint32_t b = 0; b < sb.size; b++) {
    uint32_t o = b < sb.datastart ? 0 : owner[b - sb.datastart];
    int used = b < sb.datastart || o != 0;
    if (used && !bitmap_bit(b)) {
      if (b < sb.datastart)
        problem("block %u: %s block marked free in the bitmap", b,
                b == 0 ? "superblock" : b < sb.inodestart ? "log" :
                b < sb.bmapstart ? "inode" : "bitmap");
      else
        problem("block %u: used by inode %u but marked free in the bitmap",
                b, o);
    } else if (!used && bitmap_bit(b)) {
      problem("block %u: marked used in the bitmap but used by no inode (leaked)",
              b);
    }
  }

  if (norphans)
    note("%u orphan inode%s", norphans, norphans == 1 ? "" : "s");
}

// -B: a block number, at most 16 of them.
static void
add_bad_block(const char *arg)
{
  if (parse_u32(arg, &bad[nbad]) < 0) {
    fprintf(stderr, "fsck: -B %s: not a block number\n", arg);
    exit(2);
  }
  if (++nbad == (int)(sizeof bad / sizeof bad[0])) {
    fprintf(stderr, "fsck: at most %d blocks can be named with -B\n", nbad - 1);
    exit(2);
  }
}

static void __attribute__((noreturn))
usage(int status)
{
  fprintf(status ? stderr : stdout,
          "usage: fsck [-v] [-B block]... image\n"
          "  checks a Quire file-system image without changing it; problems are\n"
          "  listed on stdout.  Exit 0: clean, 1: problems, 2: cannot check.\n"
          "  -v        also note log replay, orphans and a summary on stderr\n"
          "  -B block  treat the block as unreadable (a bad sector); repeatable\n");
  exit(status);
}

int
main(int argc, char *argv[])
{
  struct stat st;
  int opt;

  while ((opt = getopt(argc, argv, "+vhB:")) != -1) {
    switch (opt) {
    case 'v':
      verbose = 1;
      break;
    case 'B':
      add_bad_block(optarg);
      break;
    case 'h':
      usage(0);
    default:
      usage(2);   // getopt has said what was wrong
    }
  }
  if (argc - optind != 1) {
    fprintf(stderr, "fsck: %s\n", optind >= argc ? "no image named" :
            "only one image can be checked at a time");
    usage(2);
  }
  image = argv[optind];
  imgfd = open(image, O_RDONLY);
  if (imgfd < 0)
    fail("%s: %s", image, strerror(errno));
  if (fstat(imgfd, &st) < 0)
    fail("%s: %s", image, strerror(errno));
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    fail("%s: not a regular file or block device", image);

  check_superblock();
  check();
  fflush(stdout);
  if (nproblems) {
    note("%s: %lu problem%s", image, nproblems, nproblems == 1 ? "" : "s");
    return 1;
  }
  note("%s: clean (%u blocks, %u inodes)", image, sb.size, sb.ninodes);
  return 0;
}
