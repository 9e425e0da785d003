// The user-space API of Quire: system calls and the small C library.
//
// Source-compatible with xv6's user.h: a program that uses only the calls
// of xv6's user.h builds here once its include lines are replaced with
// #include "user/user.h".  A program that also takes constants from the
// kernel's headers, as xv6's usertests does (PGSIZE, MAXPATH, ...), needs
// those too, from their places here (kernel/stat.h, fs.h, fcntl.h and
// syscall.h are in kernel/uapi/); docs/README.md, "Differences from xv6",
// says what else differs.  Every system call that fails returns -1 and
// sets errno (see kernel/uapi/errno.h).
#ifndef QUIRE_USER_H
#define QUIRE_USER_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include "kernel/uapi/errno.h"
#include "kernel/uapi/fcntl.h"
#include "kernel/uapi/stat.h"
#include "kernel/uapi/mman.h"
#include "kernel/uapi/fs.h"
#include "kernel/uapi/wbstat.h"
#include "kernel/uapi/wbtrace.h"
#include "kernel/uapi/wbctl.h"
#include "kernel/uapi/profile.h"

#include "kernel/uapi/types.h"      // xv6's short type names

typedef int64_t  off_t;
typedef int64_t  ssize_t;

// Device numbers for mknod.
#define CONSOLE 1

extern int errno;

// ---- system calls (xv6's)
int fork(void);
int exit(int status) __attribute__((noreturn));
int wait(int *status);
int pipe(int *fds);
int write(int fd, const void *buf, int n);
int read(int fd, void *buf, int n);
int close(int fd);
int kill(int pid);
int exec(const char *path, char **argv);
int open(const char *path, int flags);
int mknod(const char *path, short major, short minor);
int unlink(const char *path);
int fstat(int fd, struct stat *st);
int link(const char *oldpath, const char *newpath);
int mkdir(const char *path);
int chdir(const char *path);
int dup(int fd);
int getpid(void);
char *sbrk(int n);
int sleep(int ticks);          // ticks of 1/100 s
int uptime(void);              // ticks since boot

// ---- system calls (POSIX, with Linux's meaning)
off_t lseek(int fd, off_t offset, int whence);
ssize_t pread(int fd, void *buf, size_t n, off_t offset);
ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset);
int ftruncate(int fd, off_t length);
int fsync(int fd);
int fdatasync(int fd);
int sync(void);                        // -1 (EIO) once the file system has shut down
int syncfs(int fd);
int sync_file_range(int fd, off_t offset, off_t nbytes, unsigned int flags);
void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
int munmap(void *addr, size_t length);
int msync(void *addr, size_t length, int flags);
int rename(const char *oldpath, const char *newpath);
int dup2(int oldfd, int newfd);
int getppid(void);

// ---- Quire's own calls
int poweroff(int code);        // stop the machine; QEMU exits
uint64 uptime_ms(void);        // milliseconds since boot
int wbstat(int fd, struct wbstat *st);  // page-cache counters (uapi/wbstat.h)
int sysctl(int name, int64_t newval, int64_t *oldval);  // writeback tunables
int wbtrace(struct wbtrace_event *buf, int n, uint64 since);  // trace events after since
int rawdisk(int op, uint64 blockno, void *buf, int nblocks);  // bench only
int profile(int op, uint64 arg, void *buf, uint64 n);   // the kernel profiler
int wbctl(int fd, struct wbctl *c);  // run one writeback (uapi/wbctl.h)
int blkhold(int centisecs);    // hold data writes back (crash tests only)
long raw_syscall(long num, long a0, long a1, long a2);  // any call, -errno back

// ---- ulib: strings and memory
int stat(const char *path, struct stat *st);
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, size_t n);
char *strcat(char *dst, const char *src);
void *memmove(void *dst, const void *src, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
size_t strlen(const char *s);
char *gets(char *buf, int max);
int rmtree(const char *path);  // remove a file or a directory tree
int each_arg(int argc, char *argv[], const char *usage, int (*op)(const char *arg));
int each_file(int argc, char *argv[], int first, int (*fn)(int fd, const char *name));
int atoi(const char *s);
long strtol(const char *s, char **end, int base);
const char *strerror(int err);
void perror(const char *prefix);

// ---- ulib: formatted output.  fd is a file descriptor, as in xv6.
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vfprintf(int fd, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

// ---- ulib: memory allocation
void *malloc(size_t n);
void free(void *p);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);

// ---- ulib: a small deterministic random-number generator for tests
void srand(uint64 seed);
uint64 rand64(void);

#endif
