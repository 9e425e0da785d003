// Compile-time limits of the kernel.
#ifndef QUIRE_PARAM_H
#define QUIRE_PARAM_H

#define NCPU          8     // most harts the kernel supports
#define NPROC        64     // most processes (including kernel threads)
#define NOFILE       32     // open files per process
#define NFILE       256     // open files in the whole system
#define NINODE      200     // in-memory inodes kept before reusing old ones
#define NBUF        160     // metadata block buffers (more than the log holds)
#define NDEV         10     // device major numbers
#define ROOTDEV       1     // device number of the file system disk
#define MAXARG       32     // exec arguments
#define MAXPATH     256     // longest path name, including the NUL
#define USERSTACK     8     // pages of user stack
#define MAXOPBLOCKS  20     // most log blocks one file-system call writes
#define TICK_HZ     100     // timer interrupts per second

#endif
