// System call numbers.
//
// A user program puts the number in a7 and the arguments in a0..a5, then
// executes ecall.  The result comes back in a0: a value in [-4095, -1] is
// -errno, anything else is success.  Numbers 1..21 are xv6's.
#ifndef QUIRE_UAPI_SYSCALL_H
#define QUIRE_UAPI_SYSCALL_H

#define SYS_fork             1
#define SYS_exit             2
#define SYS_wait             3
#define SYS_pipe             4
#define SYS_read             5
#define SYS_kill             6
#define SYS_exec             7
#define SYS_fstat            8
#define SYS_chdir            9
#define SYS_dup             10
#define SYS_getpid          11
#define SYS_sbrk            12
#define SYS_sleep           13
#define SYS_uptime          14
#define SYS_open            15
#define SYS_write           16
#define SYS_mknod           17
#define SYS_unlink          18
#define SYS_link            19
#define SYS_mkdir           20
#define SYS_close           21
#define SYS_lseek           22
#define SYS_pread           23
#define SYS_pwrite          24
#define SYS_ftruncate       25
#define SYS_fsync           26
#define SYS_fdatasync       27
#define SYS_sync            28
#define SYS_syncfs          29
#define SYS_sync_file_range 30
#define SYS_mmap            31
#define SYS_munmap          32
#define SYS_msync           33
#define SYS_rename          34
#define SYS_poweroff        35
#define SYS_wbstat          36
#define SYS_dup2            37
#define SYS_getppid         38
#define SYS_uptime_ms       39
#define SYS_sysctl          40
#define SYS_wbtrace         41
#define SYS_rawdisk         42
#define SYS_wbctl           43
#define SYS_profile         44
#define SYS_blkhold         45

#define NSYSCALL            46   // one more than the largest number

#endif
