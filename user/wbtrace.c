// wbtrace: dump the kernel's writeback trace as text, one event a line.
//
//   wbtrace [since]       the events numbered after since (default 0: all)
//
// The kernel keeps the most recent events in a ring (kernel/debug/wbtrace.c);
// this reads them with wbtrace(2) in batches until none are left.  The
// output, read by grade/timeline.py:
//
//   # wbtrace: seq time_us type ino index aux pid mode
//   41 1830512 DIRTY 7 0 0 4 -
//   57 1830990 WRITEPAGES 7 0 9223372036854775807 4 SYNC_ALL
//   58 1831002 WB_START 7 0 0 4 -
//   ...
//   # end: 120 events, last seq 160
//
// Each event line has eight fields separated by one space:
//   seq      the event's number since boot (from 1)
//   time_us  microseconds since boot
//   type     DIRTY TOWRITE WB_START WB_END WB_ERROR WRITEPAGES
//            WRITEPAGES_END INODE_QUEUE INODE_REQUEUE FLUSHER_WAKE THROTTLE
//            RECLAIM, or the number of a type this program does not know
//   ino      inode number (0: none)
//   index    page index, or as kernel/uapi/wbtrace.h says for the type
//   aux      as kernel/uapi/wbtrace.h says for the type (signed)
//   pid      the process that caused it (0: an interrupt)
//   mode     the writeback's WBTRACE_* bits as names joined by '|':
//            SYNC_ALL kupdate background reclaim sync cyclic; '-' if none
//
// Lines starting with '#' are comments.  When the ring has overwritten
// events that were asked for, a line says so where they are missing:
//   # lost 300 events: seq 101..400 were overwritten
// The last line is "# end: N events, last seq S"; S is the number to pass
// as since next time to see only newer events (S is since when there were
// none).
#include "user/user.h"

#define BATCH 128
#define OUTBUF 8192

static struct wbtrace_event ev[BATCH];
static char out[OUTBUF];
static int outlen;

static const char *types[] = {
  [TR_DIRTY] "DIRTY",
  [TR_TOWRITE] "TOWRITE",
  [TR_WB_START] "WB_START",
  [TR_WB_END] "WB_END",
  [TR_WB_ERROR] "WB_ERROR",
  [TR_WRITEPAGES] "WRITEPAGES",
  [TR_WRITEPAGES_END] "WRITEPAGES_END",
  [TR_INODE_QUEUE] "INODE_QUEUE",
  [TR_INODE_REQUEUE] "INODE_REQUEUE",
  [TR_FLUSHER_WAKE] "FLUSHER_WAKE",
  [TR_THROTTLE] "THROTTLE",
  [TR_RECLAIM] "RECLAIM",
};

// Bit i of the mode is modes[i].
static const char *modes[] = {
  "SYNC_ALL", "kupdate", "background", "reclaim", "sync", "cyclic",
};

static void
flush_out(void)
{
  int done = 0;

  while (done < outlen) {
    int n = write(1, out + done, outlen - done);
    if (n <= 0)
      exit(1);
    done += n;
  }
  outlen = 0;
}

// Append a formatted line to the output buffer, writing it out first if
// the line might not fit.
static void
emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
emit(const char *fmt, ...)
{
  va_list ap;

  if (OUTBUF - outlen < 256)
    flush_out();
  va_start(ap, fmt);
  int n = vsnprintf(out + outlen, OUTBUF - outlen, fmt, ap);
  va_end(ap);
  if (n >= OUTBUF - outlen)
    n = OUTBUF - outlen - 1;   // cut short; lines are far below 256 bytes
  outlen += n;
}

static void
mode_name(int mode, char *buf, int size)
{
  int len = 0;

  buf[0] = 0;
  for (int i = 0; i < (int)(sizeof(modes) / sizeof(modes[0])); i++)
    if (mode & (1 << i))
      len += snprintf(buf + len, size - len, "%s%s", len ? "|" : "", modes[i]);
  if (mode >> (sizeof(modes) / sizeof(modes[0])))
    snprintf(buf + len, size - len, "%s0x%x", len ? "|" : "", mode);
  else if (len == 0)
    snprintf(buf, size, "-");
}

int
main(int argc, char **argv)
{
  uint64 since = 0, count = 0;
  char *end;

  if (argc > 2 || (argc == 2 && (argv[1][0] < '0' || argv[1][0] > '9'))) {
    fprintf(2, "usage: wbtrace [since]\n");
    exit(2);
  }
  if (argc == 2) {
    since = (uint64)strtol(argv[1], &end, 10);
    if (*end != 0) {
      fprintf(2, "usage: wbtrace [since]\n");
      exit(2);
    }
  }
  emit("# wbtrace: seq time_us type ino index aux pid mode\n");
  for (;;) {
    int n = wbtrace(ev, BATCH, since);
    if (n < 0) {
      flush_out();
      fprintf(2, "wbtrace: %s\n", strerror(errno));
      exit(1);
    }
    if (n == 0)
      break;
    if (ev[0].seq > since + 1)
      emit("# lost %lu events: seq %lu..%lu were overwritten\n",
           ev[0].seq - since - 1, since + 1, ev[0].seq - 1);
    for (int i = 0; i < n; i++) {
      struct wbtrace_event *e = &ev[i];
      char type[16], mode[64];

      if (e->type < sizeof(types) / sizeof(types[0]) && types[e->type])
        snprintf(type, sizeof(type), "%s", types[e->type]);
      else
        snprintf(type, sizeof(type), "%d", e->type);
      mode_name(e->mode, mode, sizeof(mode));
      emit("%lu %lu %s %u %lu %ld %d %s\n", e->seq, e->time_us, type, e->ino,
           e->index, (long)e->aux, e->pid, mode);
    }
    since = ev[n - 1].seq;
    count += n;
  }
  emit("# end: %lu events, last seq %lu\n", count, since);
  flush_out();
  exit(0);
}
