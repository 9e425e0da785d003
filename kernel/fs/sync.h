// Making file-system state durable: sync, syncfs, fsync.
#ifndef QUIRE_SYNC_H
#define QUIRE_SYNC_H

struct file;

int sync_all(void);
int vfs_fsync(struct file *f, int datasync);

#endif
