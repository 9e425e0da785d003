// wbstat: show the page cache and writeback counters, the flusher's state
// and tunables, and per-file state for each file named.
//
//   wbstat [file ...]
#include "user/user.h"
#include "kernel/uapi/sysctl.h"

static void
global(void)
{
  struct wbstat st;
  int64_t v[SYSCTL_MAX + 1];

  if (wbstat(-1, &st) < 0) {
    perror("wbstat");
    exit(1);
  }
  printf("page cache   %lu pages cached, %lu dirty, %lu under writeback\n",
         st.nr_cached, st.nr_dirty, st.nr_writeback);
  printf("memory       %lu of %lu pages free, %lu free 64 KiB blocks\n", st.free_pages,
         st.total_pages, st.free_large);
  printf("since boot   %lu pages dirtied, %lu written, %lu reclaimed; "
         "writers throttled %lu times\n",
         st.pages_dirtied, st.pages_written, st.pages_reclaimed, st.throttled);
  printf("disk         %lu reads (%lu KiB), %lu writes (%lu KiB), %lu flushes, "
         "%lu errors; %lu log commits\n",
         st.disk_reads, st.disk_read_bytes / 1024, st.disk_writes,
         st.disk_write_bytes / 1024, st.disk_flushes, st.disk_errors, st.log_commits);
  if (st.fs_shutdown)
    printf("file system  read-only: a disk error shut it down (see the console)\n");
  printf("flusher      b_dirty %lu, b_io %lu, b_more_io %lu inodes; oldest dirty "
         "for %lu ms\n", st.nr_b_dirty, st.nr_b_io, st.nr_b_more_io, st.oldest_dirty_ms);
  printf("thresholds   background writeback at %lu dirty pages, throttling at %lu\n",
         st.background_thresh, st.dirty_thresh);
  for (int i = 1; i <= SYSCTL_MAX; i++)
    if (sysctl(i, -1, &v[i]) < 0)
      v[i] = -1;
  printf("tunables     dirty_writeback_centisecs=%ld dirty_expire_centisecs=%ld\n"
         "             dirty_background_ratio=%ld dirty_ratio=%ld commit_centisecs=%ld\n",
         (long)v[SYSCTL_DIRTY_WRITEBACK_CENTISECS], (long)v[SYSCTL_DIRTY_EXPIRE_CENTISECS],
         (long)v[SYSCTL_DIRTY_BACKGROUND_RATIO], (long)v[SYSCTL_DIRTY_RATIO],
         (long)v[SYSCTL_COMMIT_CENTISECS]);
}

static void
one_file(const char *path)
{
  struct wbstat st;
  int fd = open(path, O_RDONLY);

  if (fd < 0 || wbstat(fd, &st) < 0) {
    fprintf(2, "wbstat: %s: %s\n", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return;
  }
  close(fd);
  printf("%s: inode %lu, %lu bytes, %lu blocks on disk\n", path, st.f_ino, st.f_size,
         st.f_disk_blocks);
  printf("  %lu pages cached in %lu folios (%lu large): %lu dirty, %lu under writeback, "
         "%lu tagged towrite\n", st.f_nrpages, st.f_nrfolios, st.f_large, st.f_dirty,
         st.f_writeback, st.f_towrite);
  printf("  writeback_index %lu, %lu pages written since boot, wb_err %#lx\n",
         st.f_writeback_index, st.f_pages_written, st.f_wb_err);
}

int
main(int argc, char **argv)
{
  global();
  for (int i = 1; i < argc; i++)
    one_file(argv[i]);
  exit(0);
}
