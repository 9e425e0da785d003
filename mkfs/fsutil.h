// Helpers shared by mkfs and fsck: whole-block I/O on an image file and
// strict parsing of numeric arguments.  (The log checksum is part of the
// on-disk format: kernel/uapi/fs.h defines it for the kernel and for both.)
#ifndef QUIRE_MKFS_FSUTIL_H
#define QUIRE_MKFS_FSUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/fs.h"

// uapi/stat.h gives the inode types T_DIR, T_FILE and T_DEVICE, but its
// struct stat would clash with the host's; rename Quire's out of the way.
#define stat quire_stat
#include "uapi/stat.h"
#undef stat

// The tools use the on-disk structures directly, so the host must lay
// them out exactly as the disk does: little-endian, with these sizes.
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mkfs and fsck assume a little-endian host"
#endif
_Static_assert(sizeof(struct superblock) == 40, "superblock layout");
_Static_assert(sizeof(struct dinode) == 128, "dinode layout");
_Static_assert(BSIZE % sizeof(struct dinode) == 0, "inodes straddle blocks");
_Static_assert(sizeof(struct dirent) == 64, "dirent layout");
_Static_assert(BSIZE % sizeof(struct dirent) == 0, "dirents straddle blocks");
_Static_assert(sizeof(struct logheader) == BSIZE, "log header is one block");

// Print "prog: message" and a newline on stderr.
void vcomplain(const char *prog, const char *fmt, va_list ap);

// Read block b of the image into buf (BSIZE bytes).  Bytes past the end
// of the file read as zeros.  Returns 0, or -1 with errno set.
int read_block(int fd, uint32_t b, void *buf);

// Write buf (BSIZE bytes) to block b.  Returns 0, or -1 with errno set.
int write_block(int fd, uint32_t b, const void *buf);

// Parse s as a plain decimal number: digits only, no sign, no spaces, and
// no larger than UINT32_MAX.  Returns 0 and stores the value, or -1.
int parse_u32(const char *s, uint32_t *out);

#endif
