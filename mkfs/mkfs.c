// mkfs: make a Quire file-system image.
//
//   mkfs/mkfs [-s size_MiB] [-i ninodes] [-l logblocks] image [file ...]
//
// Options (they must come before the image name):
//   -s size_MiB   image size in MiB (default 128)
//   -i ninodes    number of inodes, counting the unused inode 0 (default 2048)
//   -l logblocks  log blocks, counting the header block (default 128)
//
// Each file is copied into the root directory.  Its name there is its
// basename with one leading '_' removed (user/_cat becomes "cat"); an
// argument of the form name=path stores the file at path under name.
//
// The layout is the one uapi/fs.h describes: superblock at block 0, the log
// from block 1, then the inode blocks, the bitmap blocks and the data
// blocks.  Data blocks are handed out in order from the start of the data
// area, so the bitmap is simply "every block below the first unused one".
//
// The image is made sparse: it is extended to its full size with
// ftruncate() and only blocks holding something are written, so a large
// image costs only the space its files take.
//
// Errors go to stderr as one line starting "mkfs: ", and the exit status
// is 1; a half-written image is removed so that make does not mistake it
// for a finished one.  On success one summary line goes to stdout.

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

#define DEFAULT_MIB      128
#define DEFAULT_NINODES  2048
#define DEFAULT_NLOG     128
#define BLOCKS_PER_MIB   ((1024 * 1024) / BSIZE)
// The superblock counts blocks in 32 bits.
#define MAX_MIB          (UINT32_MAX / BLOCKS_PER_MIB)

// One file to copy into the root directory.
struct input {
  const char *arg;      // the command-line argument, for messages
  const char *path;     // where to read it
  char name[DIRSIZ];    // its name in the root directory, NUL-terminated
  uint64_t size;        // its size when checked
  uint32_t inum;
};

static const char *image;     // the image path, for messages
static int created;           // set once the image exists: die() removes it
static int imgfd = -1;
static struct superblock sb;
static uint32_t nextblock;    // the next data block to hand out

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vcomplain("mkfs", fmt, ap);
  va_end(ap);
  if (created)
    unlink(image);
  exit(1);
}

static void __attribute__((noreturn))
usage(int status)
{
  fprintf(status ? stderr : stdout,
          "usage: mkfs [-s size_MiB] [-i ninodes] [-l logblocks] image [file ...]\n"
          "  -s size_MiB   image size in MiB (default %d)\n"
          "  -i ninodes    number of inodes, including unused inode 0 (default %d)\n"
          "  -l logblocks  log blocks, including the header (default %d, 2..%u)\n"
          "  a file argument name=path stores path in the image as name\n",
          DEFAULT_MIB, DEFAULT_NINODES, DEFAULT_NLOG, (unsigned)LOGMAX + 1);
  exit(status);
}

// Parse the value of option -opt, which must be a number >= min.
static uint32_t
option_number(int opt, const char *val, uint32_t min, const char *what)
{
  uint32_t v;

  if (parse_u32(val, &v) < 0)
    die("-%c: '%s' is not a number (expected %s)", opt, val, what);
  if (v < min)
    die("-%c: %u is too small: %s must be at least %u", opt, v, what, min);
  return v;
}

static uint64_t
divup(uint64_t a, uint64_t b)
{
  return (a + b - 1) / b;
}

// Blocks needed to hold a file of size bytes: data blocks plus the
// indirect blocks that map them.
static uint64_t
blocks_for(uint64_t size)
{
  uint64_t n = divup(size, BSIZE);
  uint64_t total = n;

  if (n > NDIRECT)
    total += 1;                                   // the indirect block
  if (n > NDIRECT + NINDIRECT)                    // the double indirect
    total += 1 + divup(n - NDIRECT - NINDIRECT, NINDIRECT);
  return total;
}

// Work out the name an argument gets in the root directory, and check
// that the file can be read.
static void
prepare_input(struct input *in, const char *arg)
{
  const char *eq = strchr(arg, '=');
  const char *name;
  struct stat st;
  int fd;

  in->arg = arg;
  // name=path, unless the '=' belongs to a directory part of the path.
  if (eq && memchr(arg, '/', eq - arg) == NULL) {
    size_t len = eq - arg;
    if (len == 0)
      die("'%s': the name before '=' is empty", arg);
    if (len > DIRSIZ - 1)
      die("'%s': the name is %zu bytes long; at most %d are allowed",
          arg, len, DIRSIZ - 1);
    memcpy(in->name, arg, len);
    in->name[len] = '\0';
    in->path = eq + 1;
    if (*in->path == '\0')
      die("'%s': no path after '='", arg);
  } else {
    const char *slash = strrchr(arg, '/');
    name = slash ? slash + 1 : arg;
    if (*name == '_')   // the Makefile names user programs _cat, _ls, ...
      name++;
    if (*name == '\0')
      die("'%s': no file name to use in the image", arg);
    if (strlen(name) > DIRSIZ - 1)
      die("'%s': the name '%s' is %zu bytes long; at most %d are allowed",
          arg, name, strlen(name), DIRSIZ - 1);
    strcpy(in->name, name);
    in->path = arg;
  }
  if (strcmp(in->name, ".") == 0 || strcmp(in->name, "..") == 0)
    die("'%s': '%s' cannot be used as a file name", arg, in->name);

  if (stat(in->path, &st) < 0)
    die("%s: %s", in->path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    die("%s: not a regular file", in->path);
  // Find unreadable files now, before the image is touched.
  fd = open(in->path, O_RDONLY);
  if (fd < 0)
    die("%s: %s", in->path, strerror(errno));
  close(fd);
  in->size = st.st_size;
  if (in->size > (uint64_t)MAXFILE * BSIZE)
    die("%s: %llu bytes is more than the largest file the file system holds",
        in->path, (unsigned long long)in->size);
}

static void
rblock(uint32_t b, void *buf)
{
  if (read_block(imgfd, b, buf) < 0)
    die("%s: reading block %u: %s", image, b, strerror(errno));
}

static void
wblock(uint32_t b, const void *buf)
{
  if (write_block(imgfd, b, buf) < 0)
    die("%s: writing block %u: %s", image, b, strerror(errno));
}

static void
write_inode(uint32_t inum, const struct dinode *d)
{
  struct dinode buf[IPB];

  rblock(IBLOCK(inum, sb), buf);
  buf[inum % IPB] = *d;
  wblock(IBLOCK(inum, sb), buf);
}

static uint32_t
balloc(void)
{
  // main() checked that everything fits, but a file may have grown since.
  if (nextblock >= sb.size)
    die("%s: the image is full (did an input file grow?)", image);
  return nextblock++;
}

// Return entry idx of the indirect block whose address is *ind, allocating
// the indirect block and the entry's block if they do not exist yet.
static uint32_t
indirect_entry(uint32_t *ind, uint32_t idx)
{
  uint32_t a[NINDIRECT];

  if (*ind == 0)
    *ind = balloc();    // a new block of a fresh image already reads as zeros
  rblock(*ind, a);
  if (a[idx] == 0) {
    a[idx] = balloc();
    wblock(*ind, a);
  }
  return a[idx];
}

// Return the disk block holding file block fbn of d, allocating it and
// any indirect blocks on the way.
static uint32_t
bmap(struct dinode *d, uint64_t fbn)
{
  uint32_t ind;

  if (fbn < NDIRECT) {
    if (d->addrs[fbn] == 0)
      d->addrs[fbn] = balloc();
    return d->addrs[fbn];
  }
  fbn -= NDIRECT;
  if (fbn < NINDIRECT)
    return indirect_entry(&d->addrs[IND_SLOT], fbn);
  fbn -= NINDIRECT;
  // The double-indirect block holds indirect blocks, each mapping
  // NINDIRECT file blocks.
  ind = indirect_entry(&d->addrs[DIND_SLOT], fbn / NINDIRECT);
  return indirect_entry(&ind, fbn % NINDIRECT);
}

// Read up to BSIZE bytes; a short count means end of file.
static ssize_t
read_chunk(int fd, char *buf)
{
  size_t done = 0;

  while (done < BSIZE) {
    ssize_t n = read(fd, buf + done, BSIZE - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (n == 0)
      break;
    done += n;
  }
  return done;
}

static void
copy_file(const struct input *in)
{
  struct dinode d;
  char buf[BSIZE];
  uint64_t off = 0;
  ssize_t n;
  int fd;

  fd = open(in->path, O_RDONLY);
  if (fd < 0)
    die("%s: %s", in->path, strerror(errno));
  memset(&d, 0, sizeof d);
  d.type = T_FILE;
  d.nlink = 1;
  for (;;) {
    n = read_chunk(fd, buf);
    if (n < 0)
      die("%s: %s", in->path, strerror(errno));
    if (n == 0)
      break;
    if (off / BSIZE >= MAXFILE)
      die("%s: too large for the file system", in->path);
    memset(buf + n, 0, BSIZE - n);
    wblock(bmap(&d, off / BSIZE), buf);
    off += n;
    if (n < BSIZE)
      break;
  }
  close(fd);
  d.size = off;
  write_inode(in->inum, &d);
}

// Write the root directory: ".", ".." (both naming the root itself) and
// one entry per input file, padded with free slots to a whole block.
static void
make_root(const struct input *in, int nin)
{
  uint64_t nent = 2 + (uint64_t)nin;
  uint64_t size = divup(nent * sizeof(struct dirent), BSIZE) * BSIZE;
  struct dinode d;
  struct dirent *ents;

  ents = calloc(1, size);
  if (ents == NULL)
    die("out of memory");
  ents[0].inum = ROOTINO;
  strcpy(ents[0].name, ".");
  ents[1].inum = ROOTINO;
  strcpy(ents[1].name, "..");
  for (int i = 0; i < nin; i++) {
    ents[2 + i].inum = in[i].inum;
    memcpy(ents[2 + i].name, in[i].name, DIRSIZ);
  }

  // Under Quire's rule nlink counts directory entries other than "." and
  // "..".  Nothing names the root, but it counts one link for itself, so
  // that every directory has nlink 1.
  memset(&d, 0, sizeof d);
  d.type = T_DIR;
  d.nlink = 1;
  d.size = size;
  for (uint64_t fbn = 0; fbn < size / BSIZE; fbn++)
    wblock(bmap(&d, fbn), (char *)ents + fbn * BSIZE);
  write_inode(ROOTINO, &d);
  free(ents);
}

// Mark blocks 0..nextblock-1 used.  Bitmap blocks with no bit set are
// left unwritten: the sparse image already reads them as zeros.
static void
write_bitmap(void)
{
  uint8_t buf[BSIZE];
  uint32_t nbitmap = sb.datastart - sb.bmapstart;

  for (uint32_t i = 0; i < nbitmap; i++) {
    uint64_t first = (uint64_t)i * BPB;
    if (first >= nextblock)
      break;
    uint64_t nbits = nextblock - first;
    if (nbits > BPB)
      nbits = BPB;
    memset(buf, 0, BSIZE);
    memset(buf, 0xff, nbits / 8);
    for (uint64_t bit = nbits / 8 * 8; bit < nbits; bit++)
      buf[bit / 8] |= 1 << (bit % 8);
    wblock(sb.bmapstart + i, buf);
  }
}

static void
write_log_header(void)
{
  struct logheader lh;

  // An empty log: the right magic and n == 0.  The checksum is not needed
  // for an empty log, but a correct one costs nothing.
  memset(&lh, 0, sizeof lh);
  lh.magic = LOG_MAGIC;
  lh.n = 0;
  lh.seq = 0;
  lh.checksum = log_checksum_start(&lh);
  wblock(sb.logstart, &lh);
}

int
main(int argc, char *argv[])
{
  uint32_t mib = DEFAULT_MIB, ninodes = DEFAULT_NINODES, nlog = DEFAULT_NLOG;
  uint64_t size, ninodeblocks, nbitmap, datastart, need;
  struct input *in;
  struct stat st;
  char buf[BSIZE];
  int opt, nin;

  // '+': stop at the first non-option, so file names are never options.
  while ((opt = getopt(argc, argv, "+s:i:l:h")) != -1) {
    switch (opt) {
    case 's':
      mib = option_number('s', optarg, 1, "an image size in MiB");
      if (mib > MAX_MIB)
        die("-s: %u MiB is too large: at most %u MiB can be addressed",
            mib, (unsigned)MAX_MIB);
      break;
    case 'i':
      ninodes = option_number('i', optarg, 2,
                              "a number of inodes (inode 0 is unused, 1 is the root)");
      break;
    case 'l':
      nlog = option_number('l', optarg, 2,
                           "a number of log blocks (a header and at least one block)");
      if (nlog > LOGMAX + 1)
        die("-l: %u log blocks is too many: the log header can describe "
            "only %u blocks, so at most %u", nlog, (unsigned)LOGMAX,
            (unsigned)LOGMAX + 1);
      if (nlog < LOGMIN)
        fprintf(stderr, "mkfs: warning: a log of %u blocks is a valid format, but the "
                "Quire kernel needs at least %u and will refuse to mount this image\n",
                nlog, (unsigned)LOGMIN);
      break;
    case 'h':
      usage(0);
    default:
      usage(1);   // getopt has said what was wrong
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "mkfs: no image file named\n");
    usage(1);
  }
  image = argv[optind++];
  nin = argc - optind;

  // The layout, in 64 bits so that no silly -i can wrap around.
  size = (uint64_t)mib * BLOCKS_PER_MIB;
  ninodeblocks = divup(ninodes, IPB);
  nbitmap = divup(size, BPB);
  datastart = 1 + (uint64_t)nlog + ninodeblocks + nbitmap;
  if (datastart >= size)
    die("a %u MiB image (%llu blocks) is too small: the superblock, %u log "
        "blocks, %llu inode blocks and %llu bitmap blocks leave no room for "
        "data", mib, (unsigned long long)size, nlog,
        (unsigned long long)ninodeblocks, (unsigned long long)nbitmap);
  if ((uint64_t)nin + 2 > ninodes)
    die("%d files need %llu inodes (with inode 0 and the root), but -i gives "
        "only %u", nin, (unsigned long long)nin + 2, ninodes);

  in = calloc(nin ? nin : 1, sizeof *in);
  if (in == NULL)
    die("out of memory");
  need = blocks_for(divup((2 + (uint64_t)nin) * sizeof(struct dirent), BSIZE)
                    * BSIZE);
  for (int i = 0; i < nin; i++) {
    prepare_input(&in[i], argv[optind + i]);
    for (int j = 0; j < i; j++)
      if (strcmp(in[i].name, in[j].name) == 0)
        die("'%s' and '%s' would both be named '%s' in the image",
            in[j].arg, in[i].arg, in[i].name);
    in[i].inum = ROOTINO + 1 + i;
    need += blocks_for(in[i].size);
  }
  if (need > size - datastart)
    die("the root directory and files need %llu data blocks, but a %u MiB "
        "image has only %llu; use a larger -s", (unsigned long long)need,
        mib, (unsigned long long)(size - datastart));

  // Creating the image truncates it: never let it be one of the inputs.
  if (stat(image, &st) == 0) {
    for (int i = 0; i < nin; i++) {
      struct stat ist;
      if (stat(in[i].path, &ist) == 0 && ist.st_dev == st.st_dev &&
          ist.st_ino == st.st_ino)
        die("the image %s is also the input file '%s'", image, in[i].arg);
    }
  }

  imgfd = open(image, O_RDWR | O_CREAT | O_TRUNC, 0666);
  if (imgfd < 0)
    die("%s: %s", image, strerror(errno));
  created = 1;
  if (ftruncate(imgfd, (off_t)(size * BSIZE)) < 0)
    die("%s: cannot make it %u MiB: %s", image, mib, strerror(errno));

  sb.magic = FS_MAGIC;
  sb.version = FS_VERSION;
  sb.size = size;
  sb.nblocks = size - datastart;
  sb.ninodes = ninodes;
  sb.nlog = nlog;
  sb.logstart = 1;
  sb.inodestart = sb.logstart + nlog;
  sb.bmapstart = sb.inodestart + ninodeblocks;
  sb.datastart = datastart;
  memset(buf, 0, BSIZE);
  memcpy(buf, &sb, sizeof sb);
  wblock(0, buf);
  write_log_header();

  nextblock = sb.datastart;
  make_root(in, nin);
  for (int i = 0; i < nin; i++)
    copy_file(&in[i]);
  write_bitmap();

  if (close(imgfd) < 0)
    die("%s: %s", image, strerror(errno));
  printf("mkfs: %s: %u blocks (%u MiB): %u log, %llu inode (%u inodes), "
         "%llu bitmap, %u data blocks (%u used); %d files\n",
         image, sb.size, mib, nlog, (unsigned long long)ninodeblocks, ninodes,
         (unsigned long long)nbitmap, sb.nblocks, nextblock - sb.datastart, nin);
  free(in);
  return 0;
}
