// struct stat, as returned by fstat(2).  Same layout as xv6's.
#ifndef QUIRE_UAPI_STAT_H
#define QUIRE_UAPI_STAT_H

#include <stdint.h>

#define T_DIR     1   // directory
#define T_FILE    2   // regular file
#define T_DEVICE  3   // device

struct stat {
  int dev;          // device number of the file system
  unsigned int ino; // inode number
  short type;       // T_DIR, T_FILE or T_DEVICE
  short nlink;      // number of directory entries naming the inode
  uint64_t size;    // size in bytes
};

#endif
