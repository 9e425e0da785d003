// Caches of small objects.  See slab.h.
#include "types.h"
#include "riscv.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "mm/slab.h"

void
kmem_cache_init(struct kmem_cache *c, const char *name, uint size)
{
  if (size > PGSIZE)
    panic("kmem_cache_init: %s objects larger than a page", name);
  c->name = name;
  c->size = (size + 7) & ~7U;
  initlock(&c->lock, "kmem_cache");
  c->free = 0;
  c->inuse = 0;
  c->pages = 0;
}

// An object, or 0 when memory is exhausted.  Never sleeps, so it may be
// called with spin locks held.
void *
kmem_cache_alloc(struct kmem_cache *c)
{
  acquire(&c->lock);
  if (c->free == 0) {
    char *page = kalloc();
    if (page == 0) {
      release(&c->lock);
      return 0;
    }
    c->pages++;
    for (uint off = 0; off + c->size <= PGSIZE; off += c->size) {
      *(void **)(page + off) = c->free;
      c->free = page + off;
    }
  }
  void *obj = c->free;
  c->free = *(void **)obj;
  c->inuse++;
  release(&c->lock);
  return obj;
}

void *
kmem_cache_zalloc(struct kmem_cache *c)
{
  void *obj = kmem_cache_alloc(c);

  if (obj)
    memset(obj, 0, c->size);
  return obj;
}

void
kmem_cache_free(struct kmem_cache *c, void *obj)
{
  acquire(&c->lock);
  *(void **)obj = c->free;
  c->free = obj;
  c->inuse--;
  release(&c->lock);
}
