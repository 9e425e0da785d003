// bigfile: write a large file, read it back, and check every byte.
//
//   bigfile [MiB] [seed]        (defaults: 64 MiB, seed 1)
//
// Each 8-byte word of the file holds its own offset xor the seed, so a
// block that lands in the wrong place, or is read from the wrong place,
// shows up as a wrong word, and the first bad offset says where.  Prints
// "bigfile: OK N MiB" or "bigfile: FAIL ..." and exits 0 or 1.

#include "user/user.h"

#define CHUNK (64 * 1024)
#define NAME  "bigfile.dat"

static uint64 chunk[CHUNK / 8];

static void
fill(uint64 off, uint64 seed)
{
  for (int i = 0; i < CHUNK / 8; i++)
    chunk[i] = (off + 8 * i) ^ seed;
}

static void
failf(const char *what, long arg)
{
  printf("bigfile: FAIL %s %ld: %s\n", what, arg, strerror(errno));
  unlink(NAME);
  exit(1);
}

int
main(int argc, char *argv[])
{
  long mib = argc > 1 ? strtol(argv[1], NULL, 0) : 64;
  uint64 seed = argc > 2 ? (uint64)strtol(argv[2], NULL, 0) : 1;

  if (mib <= 0 || mib > 4000) {
    fprintf(2, "usage: bigfile [MiB 1..4000] [seed]\n");
    exit(1);
  }
  uint64 size = (uint64)mib << 20;

  int fd = open(NAME, O_CREATE | O_TRUNC | O_WRONLY);
  if (fd < 0)
    failf("cannot create " NAME ", error at offset", 0);
  uint64 t0 = uptime_ms();
  for (uint64 off = 0; off < size; off += CHUNK) {
    fill(off, seed);
    int n = write(fd, chunk, CHUNK);
    if (n != CHUNK) {
      if (n >= 0)
        errno = ENOSPC;   // a short write means the disk is full
      failf("write at offset", off);
    }
  }
  if (fsync(fd) < 0)
    failf("fsync, size", size);
  close(fd);
  uint64 t1 = uptime_ms();

  fd = open(NAME, O_RDONLY);
  if (fd < 0)
    failf("cannot reopen " NAME ", offset", 0);
  struct stat st;
  if (fstat(fd, &st) < 0)
    failf("fstat, size", size);
  if (st.size != size) {
    printf("bigfile: FAIL size is %lu, want %lu\n", (unsigned long)st.size, (unsigned long)size);
    unlink(NAME);
    exit(1);
  }
  for (uint64 off = 0; off < size;) {
    int n = read(fd, chunk, CHUNK);
    if (n <= 0) {
      if (n == 0)
        errno = EIO;     // early end of file
      failf("read at offset", off);
    }
    // A read may stop inside a word; that word is checked again, whole,
    // by the next read.
    for (int i = 0; i < n / 8; i++) {
      if (chunk[i] != ((off + 8 * i) ^ seed)) {
        printf("bigfile: FAIL bad data at offset %lu: %lx, want %lx\n",
               (unsigned long)(off + 8 * i), (unsigned long)chunk[i],
               (unsigned long)((off + 8 * i) ^ seed));
        unlink(NAME);
        exit(1);
      }
    }
    if (n % 8 != 0) {
      // Realign the next read to a word boundary.
      off += n - n % 8;
      lseek(fd, off, SEEK_SET);
    } else {
      off += n;
    }
  }
  close(fd);
  uint64 t2 = uptime_ms();
  unlink(NAME);

  uint64 wms = t1 - t0 ? t1 - t0 : 1, rms = t2 - t1 ? t2 - t1 : 1;
  printf("bigfile: wrote %ld MiB in %lu ms (%lu KiB/s), read in %lu ms (%lu KiB/s)\n",
         mib, (unsigned long)wms, (unsigned long)(size / 1024 * 1000 / wms),
         (unsigned long)rms, (unsigned long)(size / 1024 * 1000 / rms));
  printf("bigfile: OK %ld MiB\n", mib);
  exit(0);
}
