// Flags for mmap(2), munmap(2) and msync(2), with POSIX meaning.
#ifndef QUIRE_UAPI_MMAN_H
#define QUIRE_UAPI_MMAN_H

#define PROT_NONE      0x0
#define PROT_READ      0x1
#define PROT_WRITE     0x2
#define PROT_EXEC      0x4

#define MAP_SHARED     0x01  // stores reach the file
#define MAP_PRIVATE    0x02  // stores stay in a private copy
#define MAP_ANONYMOUS  0x20  // no file: zero-filled memory
#define MAP_ANON       MAP_ANONYMOUS

#define MAP_FAILED     ((void *)-1)

#define MS_ASYNC       0x1   // start writeback, do not wait
#define MS_INVALIDATE  0x2
#define MS_SYNC        0x4   // write and wait: a data-integrity operation

#endif
