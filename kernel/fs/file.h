// Open files: the system-wide table of open-file descriptions.
#ifndef QUIRE_FILE_H
#define QUIRE_FILE_H

#include "types.h"
#include "lib/sleeplock.h"

struct pipe;
struct inode;
struct stat;

// One open() makes one struct file; dup() and fork() share it, so they
// share the offset.  ref counts the descriptors (and other holders).
struct file {
  enum { FD_NONE, FD_PIPE, FD_INODE, FD_DEVICE } type;
  int ref;               // protected by the file table's lock
  char readable;
  char writable;
  char append;           // O_APPEND: every write goes to the end
  struct pipe *pipe;     // FD_PIPE
  struct inode *ip;      // FD_INODE and FD_DEVICE
  uint64 off;            // FD_INODE: the file offset
  short major;           // FD_DEVICE
  uint32 f_wb_err;       // the file's writeback error state seen (errseq)
  uint32 f_sb_err;       // the same for the whole file system (syncfs)
  struct spinlock wb_err_lock; // guards f_wb_err and f_sb_err
  struct sleeplock pos_lock;   // serialises read/write/lseek on off
};

// Device drivers, by major number.
struct devsw {
  int (*read)(int user_dst, uint64 dst, int n);
  int (*write)(int user_src, uint64 src, int n);
};
extern struct devsw devsw[];

#define CONSOLE 1

void fileinit(void);
struct file *filealloc(void);
struct file *filedup(struct file *f);
void fileclose(struct file *f);
int filestat(struct file *f, uint64 addr);
int64 fileread(struct file *f, uint64 addr, int64 n);
int64 filewrite(struct file *f, uint64 addr, int64 n);
int64 file_pread(struct file *f, uint64 addr, int64 n, uint64 off);
int64 file_pwrite(struct file *f, uint64 addr, int64 n, uint64 off);

// pipe.c
int pipealloc(struct file **f0, struct file **f1);
void pipeclose(struct pipe *pi, int writable);
int64 pipewrite(struct pipe *pi, uint64 addr, int64 n);
int64 piperead(struct pipe *pi, uint64 addr, int64 n);

#endif
