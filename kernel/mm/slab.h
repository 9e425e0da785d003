// Caches of small fixed-size objects (xarray nodes, mmap regions, ...).
//
// The page allocator hands out whole pages; a kmem_cache cuts pages into
// objects of one size and keeps freed objects on a list for reuse.  Pages
// are never given back, which keeps the code short; the caches stay small.
#ifndef QUIRE_SLAB_H
#define QUIRE_SLAB_H

#include "types.h"
#include "lib/spinlock.h"

struct kmem_cache {
  const char *name;
  uint size;            // object size, rounded up to 8 bytes
  struct spinlock lock;
  void *free;           // free objects, linked through their first word
  uint64 inuse;         // objects handed out
  uint64 pages;         // pages taken from the page allocator
};

void kmem_cache_init(struct kmem_cache *c, const char *name, uint size);
void *kmem_cache_alloc(struct kmem_cache *c);
void *kmem_cache_zalloc(struct kmem_cache *c);
void kmem_cache_free(struct kmem_cache *c, void *obj);

#endif
