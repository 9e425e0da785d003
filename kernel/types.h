// Basic types used throughout the kernel.
#ifndef QUIRE_TYPES_H
#define QUIRE_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#include "uapi/types.h"

typedef int64_t  int64;
typedef int32_t  int32;

typedef uint64 pte_t;
typedef uint64 *pagetable_t;   // 512 PTEs
typedef uint64 pgoff_t;        // index of a page within a file
typedef int64  loff_t;         // byte offset within a file

#define LLONG_MAX 0x7fffffffffffffffL   // the largest loff_t: "to the end"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) \
  ((type *)((char *)(ptr) - offsetof(type, member)))

#endif
