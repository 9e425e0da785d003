// malloc, free, calloc and realloc.
//
// The heap is memory obtained from sbrk, carved into chunks.  Every chunk
// starts with a 16-byte header holding its size (header included, always a
// multiple of 16, so user pointers are 16-byte aligned).  Free chunks are
// kept on one list sorted by address; a freed chunk is merged with the free
// chunks right before and after it, so the heap never holds two adjacent
// free chunks.
//
// Allocation is first fit.  When a free chunk is bigger than needed, the
// request is cut from its *end*: the free part keeps its place on the list
// and only its size changes.  When nothing fits, the heap grows by at least
// GROW_MIN bytes.  A large free chunk at the very top of the heap is given
// back to the kernel with a negative sbrk, so a program that allocates a
// lot and frees it all does not keep the memory.

#include "user/user.h"

struct chunk {
  size_t size;            // bytes in this chunk, header included
  struct chunk *next;     // next free chunk (by address), or INUSE
};

#define HDR        sizeof(struct chunk)     // 16
#define ALIGNMENT  16
#define MINCHUNK   (2 * HDR)                // header + a little payload
#define GROW_MIN   (64 * 1024)
#define SHRINK_MIN (256 * 1024)             // free top chunk worth returning
#define PAGE       4096

// Marks a chunk as allocated; free() checks it to catch bad pointers and
// double frees early instead of corrupting the list.
#define INUSE ((struct chunk *)0x5155495245555345ULL)

static struct chunk *freelist;

static void
die(const char *what, void *p)
{
  fprintf(2, "malloc: %s %p\n", what, p);
  exit(1);
}

// Put chunk c on the free list, merging with free neighbours, and return
// the chunk that now contains it.
static struct chunk *
insert_free(struct chunk *c)
{
  struct chunk *prev = NULL, *next = freelist;

  while (next != NULL && next < c) {
    prev = next;
    next = next->next;
  }
  if (next == c || (prev != NULL && (char *)prev + prev->size > (char *)c))
    die("double free of", (char *)c + HDR);

  // Merge with the following chunk if it starts where c ends.
  if (next != NULL && (char *)c + c->size == (char *)next) {
    c->size += next->size;
    c->next = next->next;
  } else {
    c->next = next;
  }
  // Merge into the preceding chunk if c starts where it ends.
  if (prev != NULL && (char *)prev + prev->size == (char *)c) {
    prev->size += c->size;
    prev->next = c->next;
    return prev;
  }
  if (prev != NULL)
    prev->next = c;
  else
    freelist = c;
  return c;
}

// Give the top of chunk c back to the kernel if c is large and is the
// last thing below the program break.  The break is checked rather than
// remembered because the program may call sbrk itself.
static void
maybe_shrink(struct chunk *c)
{
  char *top = (char *)c + c->size;

  if (c->size < SHRINK_MIN || sbrk(0) != top)
    return;
  // Keep the header and the rest of its page, so c stays a valid chunk.
  uintptr_t keep_end = ((uintptr_t)c + MINCHUNK + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
  size_t release = (uintptr_t)top - keep_end;
  if (release < PAGE || release > 0x7fffffff)
    return;
  if (sbrk(-(int)release) == (char *)-1)
    return;
  c->size -= release;
}

// Ask the kernel for at least n more bytes and put them on the free list.
static int
grow(size_t n)
{
  size_t amount = n < GROW_MIN ? GROW_MIN : n;
  amount = (amount + PAGE - 1) & ~(size_t)(PAGE - 1);

  char *p = (amount <= 0x7fffffff) ? sbrk((int)amount) : (char *)-1;
  if (p == (char *)-1 && amount > n && n <= 0x7fffffff) {
    // The generous request failed; the exact one may still fit.
    amount = n;
    p = sbrk((int)amount);
  }
  if (p == (char *)-1)
    return -1;

  // sbrk returns the old break, which need not be 16-aligned; drop the
  // bytes before the first aligned address.
  uintptr_t start = ((uintptr_t)p + ALIGNMENT - 1) & ~(uintptr_t)(ALIGNMENT - 1);
  size_t usable = (amount - (start - (uintptr_t)p)) & ~(size_t)(ALIGNMENT - 1);
  if (usable < MINCHUNK)
    return -1;
  struct chunk *c = (struct chunk *)start;
  c->size = usable;
  insert_free(c);
  return 0;
}

// Chunk size needed for n bytes of payload, or 0 if n is absurdly large.
static size_t
chunk_size(size_t n)
{
  if (n > ((size_t)1 << 40))
    return 0;
  size_t need = (n + HDR + ALIGNMENT - 1) & ~(size_t)(ALIGNMENT - 1);
  return need < MINCHUNK ? MINCHUNK : need;
}

void *
malloc(size_t n)
{
  size_t need = chunk_size(n);

  if (need == 0) {
    errno = ENOMEM;
    return NULL;
  }
  for (int tries = 0; tries < 2; tries++) {
    struct chunk *prev = NULL;
    for (struct chunk *c = freelist; c != NULL; prev = c, c = c->next) {
      if (c->size < need)
        continue;
      struct chunk *got;
      if (c->size - need >= MINCHUNK) {
        // Cut from the end; the free part stays where it is on the list.
        c->size -= need;
        got = (struct chunk *)((char *)c + c->size);
        got->size = need;
      } else {
        if (prev != NULL)
          prev->next = c->next;
        else
          freelist = c->next;
        got = c;
      }
      got->next = INUSE;
      return (char *)got + HDR;
    }
    // The new memory may merge with a free chunk at the top of the heap,
    // so asking for need bytes is always enough.
    if (tries == 0 && grow(need) < 0)
      break;
  }
  errno = ENOMEM;
  return NULL;
}

void
free(void *p)
{
  if (p == NULL)
    return;
  if ((uintptr_t)p % ALIGNMENT != 0)
    die("free of bad pointer", p);
  struct chunk *c = (struct chunk *)((char *)p - HDR);
  if (c->next != INUSE)
    die("free of bad or already freed pointer", p);
  maybe_shrink(insert_free(c));
}

void *
calloc(size_t n, size_t size)
{
  if (size != 0 && n > (size_t)-1 / size) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = malloc(n * size);
  if (p != NULL)
    memset(p, 0, n * size);
  return p;
}

void *
realloc(void *p, size_t n)
{
  if (p == NULL)
    return malloc(n);
  if (n == 0) {
    free(p);
    return NULL;
  }
  struct chunk *c = (struct chunk *)((char *)p - HDR);
  if (c->next != INUSE)
    die("realloc of bad pointer", p);
  size_t need = chunk_size(n);
  if (need == 0) {
    errno = ENOMEM;
    return NULL;
  }

  if (c->size < need) {
    // Try to grow in place by taking over a free chunk that follows.
    struct chunk *prev = NULL, *f = freelist;
    while (f != NULL && (char *)f < (char *)c + c->size) {
      prev = f;
      f = f->next;
    }
    if (f != NULL && (char *)f == (char *)c + c->size && c->size + f->size >= need) {
      if (prev != NULL)
        prev->next = f->next;
      else
        freelist = f->next;
      c->size += f->size;
    }
  }

  if (c->size >= need) {
    // Fits; hand back a tail worth keeping.
    if (c->size - need >= MINCHUNK) {
      struct chunk *tail = (struct chunk *)((char *)c + need);
      tail->size = c->size - need;
      c->size = need;
      maybe_shrink(insert_free(tail));
    }
    return p;
  }

  void *q = malloc(n);
  if (q == NULL)
    return NULL;
  memcpy(q, p, c->size - HDR);
  free(p);
  return q;
}
