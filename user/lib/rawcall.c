// raw_syscall: a system call by number, without the stub's errno
// handling, for tests that try numbers and arguments no stub would pass.
#include "user/user.h"

// Returns what the kernel left in a0: a result, or -errno.
long
raw_syscall(long num, long a0, long a1, long a2)
{
  register long r0 asm("a0") = a0;
  register long r1 asm("a1") = a1;
  register long r2 asm("a2") = a2;
  register long r7 asm("a7") = num;

  asm volatile("ecall" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r7) : "memory");
  return r0;
}
