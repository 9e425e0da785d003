// A small deterministic pseudo-random generator: xorshift64* (Vigna).
//
// Tests want the same sequence from the same seed, and need no
// cryptographic quality.  The state must never be zero (xorshift would then
// stay at zero), so a zero seed is replaced by a fixed odd constant.

#include "user/user.h"

#define DEFAULT_STATE 0x9e3779b97f4a7c15ULL   // 2^64 / golden ratio

static uint64 state = DEFAULT_STATE;

void
srand(uint64 seed)
{
  // Mix the seed a little so that small seeds (1, 2, 3...) do not start
  // with mostly-zero states and correlated first outputs.
  seed ^= seed >> 31;
  seed *= 0xbf58476d1ce4e5b9ULL;
  seed ^= seed >> 29;
  state = seed != 0 ? seed : DEFAULT_STATE;
}

uint64
rand64(void)
{
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545f4914f6cdd1dULL;
}
