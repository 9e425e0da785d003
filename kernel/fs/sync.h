// Making file-system state durable: the data-integrity calls (sync.c).
#ifndef QUIRE_SYNC_H
#define QUIRE_SYNC_H

#include "types.h"

struct file;

int vfs_fsync_range(struct file *file, loff_t start, loff_t end, int datasync);
int vfs_fsync(struct file *file, int datasync);
int sync_filesystem(void);
int sync_file_range(struct file *file, loff_t start, loff_t end, uint flags);

#endif
