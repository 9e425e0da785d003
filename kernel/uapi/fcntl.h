// Flags for open(2), lseek(2) and sync_file_range(2).
//
// The O_ values for access mode, O_CREATE and O_TRUNC are xv6's, so xv6
// programs keep working; the rest follow POSIX meaning.
#ifndef QUIRE_UAPI_FCNTL_H
#define QUIRE_UAPI_FCNTL_H

#define O_RDONLY   0x000
#define O_WRONLY   0x001
#define O_RDWR     0x002
#define O_ACCMODE  0x003
#define O_CREATE   0x200
#define O_CREAT    O_CREATE
#define O_TRUNC    0x400
#define O_EXCL     0x800   // with O_CREAT: fail with EEXIST if it exists
#define O_APPEND   0x1000  // every write goes to the end of the file

#define SEEK_SET   0
#define SEEK_CUR   1
#define SEEK_END   2

// sync_file_range(2), with Linux's meaning:
#define SYNC_FILE_RANGE_WAIT_BEFORE 1  // wait for writeback already under way
#define SYNC_FILE_RANGE_WRITE       2  // start writeback of dirty pages
#define SYNC_FILE_RANGE_WAIT_AFTER  4  // wait for the writeback just started

#endif
