// throttle: a writer past dirty_ratio is throttled, so the number of
// pages dirty or under writeback stays at or below the limit.
//
//   throttle MB      one process writes MB MiB while another samples the
//                    count every tick
//
// Sets dirty_background_ratio 2 and dirty_ratio 4 for the run.  Prints the
// highest count seen, the limit, and how often the writer was throttled,
// then "throttle: PASS" or "throttle: FAIL ...".
#include "user/user.h"
#include "kernel/uapi/sysctl.h"

static char buf[64 * 1024];

int
main(int argc, char **argv)
{
  int mb = argc > 1 ? atoi(argv[1]) : 48;
  int64_t old_bg, old_ratio;
  struct wbstat st;

  sysctl(SYSCTL_DIRTY_BACKGROUND_RATIO, 2, &old_bg);
  sysctl(SYSCTL_DIRTY_RATIO, 4, &old_ratio);
  if (wbstat(-1, &st) < 0) {
    perror("throttle: wbstat");
    exit(1);
  }
  uint64 throttled0 = st.throttled;
  int fd = open("throttle.data", O_CREAT | O_TRUNC | O_WRONLY);
  if (fd < 0) {
    perror("throttle: open");
    exit(1);
  }
  int pid = fork();
  if (pid == 0) {
    for (int i = 0; i < mb * 16; i++)
      if (write(fd, buf, sizeof(buf)) != sizeof(buf))
        exit(1);
    exit(0);
  }
  uint64 max_dirty = 0, limit = 0;
  int status = -1;
  for (;;) {
    if (wbstat(-1, &st) == 0) {
      if (st.nr_dirty + st.nr_writeback > max_dirty) {
        max_dirty = st.nr_dirty + st.nr_writeback;
        limit = st.dirty_thresh;
      }
      if (limit == 0)
        limit = st.dirty_thresh;
    }
    // Has the writer finished?  (wait would block, so look at the size.)
    struct stat fs;
    if (fstat(fd, &fs) == 0 && fs.size >= (uint64)mb * 1024 * 1024)
      break;
    sleep(1);
  }
  wait(&status);
  wbstat(-1, &st);
  uint64 throttled = st.throttled - throttled0;
  sysctl(SYSCTL_DIRTY_BACKGROUND_RATIO, old_bg, 0);
  sysctl(SYSCTL_DIRTY_RATIO, old_ratio, 0);
  close(fd);
  unlink("throttle.data");
  printf("throttle: wrote %d MiB; at most %lu pages dirty or under writeback seen, "
         "limit %lu; the writer was throttled %lu times\n", mb, max_dirty, limit, throttled);
  // One writer can overshoot the limit by the folio it is dirtying (16
  // pages), and the two counters are read one after the other, so a run
  // of folios (64 pages) whose writes start in between counts twice.
  if (status != 0)
    printf("throttle: FAIL the writer failed\n");
  else if (throttled == 0)
    printf("throttle: FAIL the writer was never throttled\n");
  else if (max_dirty > limit + 16 + 64)
    printf("throttle: FAIL %lu pages dirty or under writeback, over the limit of %lu\n",
           max_dirty, limit);
  else
    printf("throttle: PASS\n");
  exit(0);
}
