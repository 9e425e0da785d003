# System-call stubs.
#
# Every stub loads its call number into a7 and traps with ecall; the
# arguments are already in a0..a5 where the C calling convention put them.
# The kernel answers in a0.  A value in [-MAXERRNO, -1] means failure: the
# stub then jumps to a shared tail that stores the positive error number in
# errno and returns -1 (for sbrk and mmap that is (void *)-1, the same bit
# pattern).  Any other value is a result and is returned untouched, which
# matters for calls like lseek, mmap and uptime_ms whose results are large.
#
# The test is one unsigned comparison: as unsigned numbers, exactly the
# values -MAXERRNO..-1 are >= -MAXERRNO.

#include "kernel/uapi/syscall.h"
#include "kernel/uapi/errno.h"

#define SYSCALL(name)                   \
        .globl name;                    \
        .type name, @function;          \
        .p2align 2;                     \
name:                                   \
        li      a7, SYS_##name;         \
        ecall;                          \
        li      t0, -MAXERRNO;          \
        bgeu    a0, t0, __syscall_fail; \
        ret;                            \
        .size name, . - name

        .text

SYSCALL(fork)
SYSCALL(exit)
SYSCALL(wait)
SYSCALL(pipe)
SYSCALL(read)
SYSCALL(kill)
SYSCALL(exec)
SYSCALL(fstat)
SYSCALL(chdir)
SYSCALL(dup)
SYSCALL(getpid)
SYSCALL(sbrk)
SYSCALL(sleep)
SYSCALL(uptime)
SYSCALL(open)
SYSCALL(write)
SYSCALL(mknod)
SYSCALL(unlink)
SYSCALL(link)
SYSCALL(mkdir)
SYSCALL(close)
SYSCALL(lseek)
SYSCALL(pread)
SYSCALL(pwrite)
SYSCALL(ftruncate)
SYSCALL(fsync)
SYSCALL(fdatasync)
SYSCALL(sync)
SYSCALL(syncfs)
SYSCALL(sync_file_range)
SYSCALL(mmap)
SYSCALL(munmap)
SYSCALL(msync)
SYSCALL(rename)
SYSCALL(poweroff)
SYSCALL(wbstat)
SYSCALL(dup2)
SYSCALL(getppid)
SYSCALL(uptime_ms)
SYSCALL(sysctl)
SYSCALL(wbtrace)
SYSCALL(rawdisk)
SYSCALL(profile)
SYSCALL(wbctl)
SYSCALL(blkhold)

# The error tail shared by every stub: a0 holds -errno.
        .p2align 2
        .type __syscall_fail, @function
__syscall_fail:
        neg     a0, a0
        la      t0, errno
        sw      a0, 0(t0)
        li      a0, -1
        ret
        .size __syscall_fail, . - __syscall_fail
