// errseq_t.  See errseq.h.  Every update is a compare-and-swap loop, so
// the functions are safe from any context, the disk interrupt included.
#include "types.h"
#include "uapi/errno.h"
#include "lib/errseq.h"

#define ERRSEQ_ERRMASK 0xfffU
#define ERRSEQ_SEEN    (1U << 12)
#define ERRSEQ_CTR_INC (1U << 13)

// Record err (a negative errno; 0 does nothing).  Returns the new value.
errseq_t
errseq_set(errseq_t *eseq, int err)
{
  errseq_t old = __atomic_load_n(eseq, __ATOMIC_RELAXED), new;

  if (err >= 0 || -err > MAXERRNO)
    return old;
  do {
    new = (old & ~(ERRSEQ_ERRMASK | ERRSEQ_SEEN)) | (uint32)-err;
    // A new counter value only if someone saw the previous error; if not,
    // those who will look still see a difference anyway.
    if (old & ERRSEQ_SEEN)
      new += ERRSEQ_CTR_INC;
    if (new == old)
      break;
  } while (!__atomic_compare_exchange_n(eseq, &old, new, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED));
  return new;
}

// The value a new observer starts from: the current one if its error has
// been seen, else 0 so that the unseen error is still reported.
errseq_t
errseq_sample(errseq_t *eseq)
{
  errseq_t cur = __atomic_load_n(eseq, __ATOMIC_SEQ_CST);

  return (cur & ERRSEQ_SEEN) ? cur : 0;
}

// Has an error been recorded since the sample?  Returns -errno or 0.
int
errseq_check(errseq_t *eseq, errseq_t since)
{
  errseq_t cur = __atomic_load_n(eseq, __ATOMIC_SEQ_CST);

  if ((cur | ERRSEQ_SEEN) == (since | ERRSEQ_SEEN))
    return 0;
  return -(int)(cur & ERRSEQ_ERRMASK);
}

// Report an error recorded since *since, once: mark it seen and move
// *since up to it.  Returns -errno or 0.
int
errseq_check_and_advance(errseq_t *eseq, errseq_t *since)
{
  errseq_t old = __atomic_load_n(eseq, __ATOMIC_SEQ_CST);

  if ((old | ERRSEQ_SEEN) == (*since | ERRSEQ_SEEN))
    return 0;
  errseq_t new = old | ERRSEQ_SEEN;
  if (new != old)
    __atomic_compare_exchange_n(eseq, &old, new, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
  // Whether or not we won the race to set SEEN, the value to remember is
  // the one with SEEN set.
  *since = old | ERRSEQ_SEEN;
  return -(int)(old & ERRSEQ_ERRMASK);
}
