// prof: run a command under the kernel profiler (profile(2)).
//
//   prof [-f HZ] COMMAND [ARGS...]
//
// Starts sampling every hart, runs the command, stops, and prints the
// samples grouped by call stack, one line each:
//
//   prof: samples=N dropped=N idle=N hz=N handler_us=N run_us=N
//   prof-stack COUNT MODE PC CALLER CALLER ...
//
// in hex, for the host to turn into function names (grade/profile.py,
// `make profile`).  MODE is k for the kernel, u for user code (whose pc
// alone is given).
#include "user/user.h"

#define BATCH 64
#define SLOTS 8192      // distinct stacks kept; more are counted as "other"

struct stack {
  uint64 count;
  struct prof_sample s;
};

static struct stack *table;
static uint64 others;

static uint64
hash(struct prof_sample *s)
{
  uint64 h = s->mode;

  for (int i = 0; i < PROF_DEPTH; i++)
    h = (h ^ s->pc[i]) * 0x100000001b3ULL;
  return h;
}

static int
same(struct prof_sample *a, struct prof_sample *b)
{
  if (a->mode != b->mode)
    return 0;
  for (int i = 0; i < PROF_DEPTH; i++)
    if (a->pc[i] != b->pc[i])
      return 0;
  return 1;
}

static void
add(struct prof_sample *s)
{
  s->hart = 0;   // stacks are merged across harts
  for (uint64 i = hash(s) % SLOTS, n = 0; n < SLOTS; i = (i + 1) % SLOTS, n++) {
    if (table[i].count == 0) {
      table[i].s = *s;
      table[i].count = 1;
      return;
    }
    if (same(&table[i].s, s)) {
      table[i].count++;
      return;
    }
  }
  others++;
}

static void
run(char **argv)
{
  int pid = fork();

  if (pid < 0) {
    fprintf(2, "prof: fork: %s\n", strerror(errno));
    exit(1);
  }
  if (pid == 0) {
    exec(argv[0], argv);
    fprintf(2, "prof: exec %s: %s\n", argv[0], strerror(errno));
    exit(1);
  }
  wait(0);
}

static void
report(void)
{
  static struct prof_sample batch[BATCH];
  struct prof_info info;
  int n;

  for (uint64 first = 0; (n = profile(PROF_READ, first, batch, BATCH)) > 0; first += n)
    for (int i = 0; i < n; i++)
      add(&batch[i]);
  if (profile(PROF_INFO, 0, &info, 0) < 0) {
    fprintf(2, "prof: profile: %s\n", strerror(errno));
    exit(1);
  }
  printf("prof: samples=%lu dropped=%lu idle=%lu hz=%lu handler_us=%lu run_us=%lu "
         "other_stacks=%lu\n", info.samples, info.dropped, info.idle, info.hz,
         info.handler_ticks / 10, (info.stop_ticks - info.start_ticks) / 10, others);
  for (int i = 0; i < SLOTS; i++) {
    if (table[i].count == 0)
      continue;
    printf("prof-stack %lu %c", table[i].count, table[i].s.mode == PROF_MODE_USER ? 'u' : 'k');
    for (int j = 0; j < PROF_DEPTH && table[i].s.pc[j]; j++)
      printf(" %lx", table[i].s.pc[j]);
    printf("\n");
  }
}

int
main(int argc, char **argv)
{
  uint64 hz = 0;
  int a = 1;

  if (argc > 2 && strcmp(argv[1], "-f") == 0) {
    hz = atoi(argv[2]);
    a = 3;
  }
  if (a >= argc) {
    fprintf(2, "usage: prof [-f HZ] COMMAND [ARGS...]\n");
    exit(2);
  }
  table = malloc(SLOTS * sizeof(struct stack));
  if (table == 0) {
    fprintf(2, "prof: out of memory\n");
    exit(1);
  }
  memset(table, 0, SLOTS * sizeof(struct stack));
  if (profile(PROF_START, hz, 0, 0) < 0) {
    fprintf(2, "prof: profile: %s\n", strerror(errno));
    exit(1);
  }
  run(&argv[a]);
  profile(PROF_STOP, 0, 0, 0);
  report();
  exit(0);
}
