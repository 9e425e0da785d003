// The metadata log.  See log.c.
#ifndef QUIRE_LOG_H
#define QUIRE_LOG_H

#include "types.h"

struct buf;
struct superblock;

const char *initlog(uint dev, struct superblock *sb);
void begin_op(void);
void begin_op_n(uint nblocks);
int log_op_room(void);
uint log_op_max(void);
void log_ordered_begin(void);
void log_ordered_end(int error, uint blockno);
void end_op(void);
void log_write(struct buf *b);
void log_forget(uint blockno);
void log_read_failed(uint blockno);
int log_force(void);
uint64 log_commits(void);
void log_start_committer(void);

#endif
