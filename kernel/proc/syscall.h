// System-call dispatch and argument fetching.
#ifndef QUIRE_SYSCALL_H
#define QUIRE_SYSCALL_H

#include "types.h"

void syscall(void);

// The n'th argument (0..5) of the current system call.
uint64 argraw(int n);
int argint(int n);
uint64 argaddr(int n);
// Copy the n'th argument, a user string, into buf: 0, -EFAULT, or
// -ENAMETOOLONG if it does not fit in max bytes.
int argstr(int n, char *buf, int max);
int fetchaddr(uint64 addr, uint64 *ip);
int fetchstr(uint64 addr, char *buf, int max);

#endif
