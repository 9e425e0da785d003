// mmap, munmap, msync, and the page faults that fill mapped regions in.
//
// Regions are filled lazily: mmap only records the region, and the first
// touch of each page faults into mmap_fault(), which maps the right page.
// For MAP_SHARED file regions that page is the page-cache folio, mapped
// read-only at first even in a writable region: the first store faults
// again, and that fault marks the folio dirty (reserving its disk space,
// as write(2) would) before making the entry writable.  Writeback makes
// the entry read-only again before it writes the folio (folio_mkclean), so
// every store after that is seen too.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "uapi/errno.h"
#include "uapi/mman.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "mm/slab.h"
#include "mm/folio.h"
#include "mm/pagemap.h"
#include "mm/writeback.h"
#include "mm/reclaim.h"
#include "mm/rmap.h"
#include "mm/mmap.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "fs/sync.h"

static struct kmem_cache vma_cache;

void
mmap_init(void)
{
  kmem_cache_init(&vma_cache, "vma", sizeof(struct vma));
}

int
vma_is_shared_file(struct vma *vma)
{
  return vma->file && (vma->flags & MAP_SHARED);
}

static struct address_space *
vma_mapping(struct vma *vma)
{
  return &vma->file->ip->i_data;
}

static struct vma *
find_vma(struct proc *p, uint64 va)
{
  for (struct vma *v = p->vmas; v; v = v->next)
    if (va >= v->start && va < v->end)
      return v;
  return 0;
}

// Insert v into p's list, which is kept in address order.
static void
insert_vma(struct proc *p, struct vma *v)
{
  struct vma **pp = &p->vmas;

  while (*pp && (*pp)->start < v->start)
    pp = &(*pp)->next;
  v->next = *pp;
  *pp = v;
}

// The lowest gap of len bytes in [MMAPBASE, MMAPTOP), or 0.
static uint64
find_gap(struct proc *p, uint64 len)
{
  uint64 at = MMAPBASE;

  for (struct vma *v = p->vmas; v; v = v->next) {
    if (v->start >= at && v->start - at >= len)
      return at;
    if (v->end > at)
      at = v->end;
  }
  return at <= MMAPTOP && MMAPTOP - at >= len ? at : 0;
}

static int
pte_perm(struct vma *v, int writable)
{
  int perm = PTE_U;

  if (v->prot & PROT_READ)
    perm |= PTE_R;
  if (v->prot & PROT_EXEC)
    perm |= PTE_X;
  if (writable)
    perm |= PTE_W | PTE_R;
  return perm;
}

// Map a private page at va: zeros, or a copy of the file's page.  0 or
// -errno (see mmap_fault).
static int
fault_private(struct proc *p, struct vma *v, uint64 va, pgoff_t index)
{
  char *mem = kalloc_reclaim();

  if (mem == 0)
    return -ENOMEM;
  if (v->file) {
    struct inode *ip = v->file->ip;
    int err = -EIO;
    if (index >= (ip->size + PGSIZE - 1) / PGSIZE) {
      kfree(mem);
      return -EFAULT;   // wholly past the end of the file
    }
    struct folio *folio = filemap_read_folio(v->file, &ip->i_data, index, &err);
    if (folio == 0) {
      kfree(mem);
      return err;
    }
    memmove(mem, folio_page_address(folio, index - folio->index), PGSIZE);
    folio_put(folio);
  } else {
    memset(mem, 0, PGSIZE);
  }
  if (mappages(p->pagetable, va, PGSIZE, (uint64)mem, pte_perm(v, v->prot & PROT_WRITE)) != 0) {
    kfree(mem);
    return -ENOMEM;
  }
  return 0;
}

// Map the page of the page-cache folio that holds index at va, writable
// only for a write fault (which dirties the folio first: all of it, for a
// large folio).  A read-only entry already there is upgraded.  Each entry
// holds a reference to the folio and counts in its mapcount.  0 or -errno
// (see mmap_fault).
static int
fault_shared(struct proc *p, struct vma *v, uint64 va, pgoff_t index, int write)
{
  struct address_space *mapping = vma_mapping(v);
  struct inode *ip = mapping->host;
  int err = -EIO;

  if (index >= (ip->size + PGSIZE - 1) / PGSIZE)
    return -EFAULT;   // past the end of the file: the program gets SIGBUS
  struct folio *folio = filemap_read_folio(v->file, mapping, index, &err);
  if (folio == 0)
    return err;
  if (write) {
    folio_lock(folio);
    err = folio->mapping != mapping || index >= (ip->size + PGSIZE - 1) / PGSIZE ? -EFAULT
          : mapping->a_ops->write_begin(mapping, folio);
    if (err) {
      // Truncated meanwhile, no disk space for the data, or a file
      // system that has shut down.
      folio_unlock(folio);
      folio_put(folio);
      return err;
    }
    folio_mark_dirty(folio);
  }

  int r = 0;
  void *page = folio_page_address(folio, index - folio->index);
  acquire(&mapping->i_pages_lock);
  pte_t *pte = walk(p->pagetable, va, 1);
  if (pte == 0) {
    r = -ENOMEM;
  } else if (*pte & PTE_V) {
    if (PTE2PA(*pte) != (uint64)page)
      panic("fault_shared: a different page is mapped");
    if (write)
      *pte |= PTE_W | PTE_D;
  } else {
    *pte = PA2PTE(page) | pte_perm(v, write) | PTE_V | PTE_A | PTE_D;
    folio_get(folio);
    folio->mapcount++;
  }
  release(&mapping->i_pages_lock);
  if (write)
    folio_unlock(folio);
  folio_put(folio);
  return r;
}

/**
 * mmap_fault - resolve a page fault in an mmap region
 * @p: the faulting process (the current one)
 * @va: the faulting address
 * @write: whether the access was a store
 * Return: 0 when the page is now mapped as needed; else the access is not
 * served and the process gets a fault: -EFAULT (no region, wrong
 * protection, past the end of the file), -EIO (the disk failed the read),
 * -ENOMEM, -ENOSPC (no disk space for a page stored to), -EROFS.
 */
int
mmap_fault(struct proc *p, uint64 va, int write)
{
  struct vma *v = find_vma(p, va);

  if (v == 0 || (write && !(v->prot & PROT_WRITE)) || v->prot == PROT_NONE)
    return -EFAULT;
  va = PGROUNDDOWN(va);
  pgoff_t index = v->pgoff + (va - v->start) / PGSIZE;
  if (vma_is_shared_file(v))
    return fault_shared(p, v, va, index, write);
  pte_t *pte = walk(p->pagetable, va, 0);
  if (pte && (*pte & PTE_V))
    return -EFAULT;   // present, so the access itself is not allowed
  return fault_private(p, v, va, index);
}

// Remove the page-table entries of [start, end) in v, freeing private
// pages and dropping folio references.  The caller holds the mapping's
// i_pages_lock for a shared file region.
static void
unmap_pages(struct vma *v, uint64 start, uint64 end)
{
  pagetable_t pt = v->proc->pagetable;

  for (uint64 va = start; va < end; va += PGSIZE) {
    pte_t *pte = walk(pt, va, 0);
    if (pte == 0 || !(*pte & PTE_V))
      continue;
    void *pa = (void *)PTE2PA(*pte);
    *pte = 0;
    if (vma_is_shared_file(v)) {
      struct folio *folio = virt_to_folio(pa);   // the head of a large folio
      folio->mapcount--;
      folio_put(folio);
    } else {
      kfree(pa);
    }
  }
}

static void
free_vma(struct vma *v)
{
  if (v->file)
    fileclose(v->file);
  kmem_cache_free(&vma_cache, v);
}

// Unmap [start, end) from p: whole regions go, partly covered ones shrink
// or split.  0 or -ENOMEM (no memory to split a region).
static int
unmap_range(struct proc *p, uint64 start, uint64 end)
{
  struct vma **pp = &p->vmas, *v;

  while ((v = *pp) != 0) {
    if (v->end <= start || v->start >= end) {
      pp = &v->next;
      continue;
    }
    struct vma *tail = 0;
    if (v->start < start && v->end > end) {
      // A hole in the middle: the part after it becomes a new region.
      if ((tail = kmem_cache_alloc(&vma_cache)) == 0)
        return -ENOMEM;
      *tail = *v;
      if (v->file)
        filedup(v->file);
    }
    uint64 from = MAX(v->start, start), to = MIN(v->end, end);
    int shared = vma_is_shared_file(v);
    struct address_space *mapping = shared ? vma_mapping(v) : 0;
    if (shared)
      acquire(&mapping->i_pages_lock);
    unmap_pages(v, from, to);
    int gone = 0;
    if (tail) {
      tail->pgoff += (end - v->start) / PGSIZE;
      tail->start = end;
      v->end = start;
      if (shared)
        list_add(&tail->shared, &mapping->i_mmap);
    } else if (from == v->start && to == v->end) {
      gone = 1;
      if (shared)
        list_del_init(&v->shared);
    } else if (from == v->start) {
      v->pgoff += (to - v->start) / PGSIZE;
      v->start = to;
    } else {
      v->end = from;
    }
    if (shared)
      release(&mapping->i_pages_lock);
    if (gone) {
      *pp = v->next;
      free_vma(v);
      continue;
    }
    if (tail) {
      tail->next = v->next;
      v->next = tail;
    }
    pp = &v->next;
  }
  return 0;
}

// A copy of parent's region for child (fork): shared file pages are the
// same folios; everything else is copied.  0 or -ENOMEM.
static int
copy_vma(struct proc *child, struct vma *pv)
{
  struct vma *v = kmem_cache_alloc(&vma_cache);

  if (v == 0)
    return -ENOMEM;
  *v = *pv;
  v->proc = child;
  v->next = 0;
  INIT_LIST_HEAD(&v->shared);
  if (v->file)
    filedup(v->file);
  insert_vma(child, v);
  int shared = vma_is_shared_file(v);
  struct address_space *mapping = shared ? vma_mapping(v) : 0;
  if (shared) {
    acquire(&mapping->i_pages_lock);
    list_add(&v->shared, &mapping->i_mmap);
  }
  int r = 0;
  for (uint64 va = v->start; va < v->end && r == 0; va += PGSIZE) {
    pte_t *pte = walk(pv->proc->pagetable, va, 0);
    if (pte == 0 || !(*pte & PTE_V))
      continue;
    uint64 pa = PTE2PA(*pte);
    int perm = PTE_FLAGS(*pte) & ~(PTE_V | PTE_A | PTE_D);
    if (shared) {
      pte_t *cpte = walk(child->pagetable, va, 1);
      if (cpte == 0) {
        r = -ENOMEM;
        break;
      }
      *cpte = *pte;
      struct folio *folio = virt_to_folio((void *)pa);
      folio_get(folio);
      folio->mapcount++;
    } else {
      char *mem = kalloc_reclaim();
      if (mem == 0 || mappages(child->pagetable, va, PGSIZE, (uint64)mem, perm) != 0) {
        if (mem)
          kfree(mem);
        r = -ENOMEM;
        break;
      }
      memmove(mem, (void *)pa, PGSIZE);
    }
  }
  if (shared)
    release(&mapping->i_pages_lock);
  return r;
}

int
mmap_fork(struct proc *parent, struct proc *child)
{
  child->vmas = 0;
  for (struct vma *v = parent->vmas; v; v = v->next)
    if (copy_vma(child, v) != 0)
      return -ENOMEM;
  return 0;
}

// Unmap every region (exit, exec, or a failed fork).
void
mmap_exit(struct proc *p)
{
  unmap_range(p, 0, MAXVA);
}

// mmap(addr, length, prot, flags, fd, offset).  addr is only a hint that
// Quire ignores: regions go in the mmap area, lowest gap first.
int64
sys_mmap(void)
{
  uint64 len = argraw(1);
  int prot = argint(2), flags = argint(3), fd = argint(4);
  int64 off = argraw(5);
  struct proc *p = myproc();
  struct file *f = 0;

  int kind = flags & (MAP_SHARED | MAP_PRIVATE);
  if (len == 0 || (kind != MAP_SHARED && kind != MAP_PRIVATE) ||
      (flags & ~(MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS)) ||
      (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) || off < 0 || off % PGSIZE)
    return -EINVAL;
  if (len > MMAPTOP - MMAPBASE)
    return -ENOMEM;
  len = PGROUNDUP(len);
  if (flags & MAP_ANONYMOUS) {
    if (kind == MAP_SHARED)
      return -EINVAL;   // shared anonymous memory: not in Quire
    off = 0;
  } else {
    if (fd < 0 || fd >= NOFILE || (f = p->ofile[fd]) == 0)
      return -EBADF;
    if (f->type != FD_INODE || f->ip->type != T_FILE)
      return -ENODEV;
    if (!f->readable || (kind == MAP_SHARED && (prot & PROT_WRITE) && !f->writable))
      return -EACCES;
  }
  uint64 start = find_gap(p, len);
  if (start == 0)
    return -ENOMEM;
  struct vma *v = kmem_cache_alloc(&vma_cache);
  if (v == 0)
    return -ENOMEM;
  v->start = start;
  v->end = start + len;
  v->prot = prot;
  v->flags = flags;
  v->file = f ? filedup(f) : 0;
  v->pgoff = off / PGSIZE;
  v->proc = p;
  INIT_LIST_HEAD(&v->shared);
  insert_vma(p, v);
  if (vma_is_shared_file(v)) {
    struct address_space *mapping = vma_mapping(v);
    acquire(&mapping->i_pages_lock);
    list_add(&v->shared, &mapping->i_mmap);
    release(&mapping->i_pages_lock);
  }
  return start;
}

// Check a page-aligned user range for munmap and msync.
static int
check_range(uint64 addr, uint64 len)
{
  if (addr % PGSIZE || len == 0 || addr + len < addr || addr + len > TRAPFRAME)
    return -EINVAL;
  return 0;
}

int64
sys_munmap(void)
{
  uint64 addr = argaddr(0), len = argraw(1);
  int r = check_range(addr, len);

  if (r < 0)
    return r;
  return unmap_range(myproc(), addr, PGROUNDUP(addr + len));
}

// msync(addr, length, flags): MS_SYNC makes the shared file pages of the
// range durable, as fdatasync would (vfs_fsync_range, in fs/sync.c);
// MS_ASYNC starts writeback.  -ENOMEM if part of the range is not mapped.
int64
sys_msync(void)
{
  uint64 addr = argaddr(0), len = argraw(1);
  int flags = argint(2);
  struct proc *p = myproc();
  int r = check_range(addr, len);

  if (r < 0)
    return r;
  if ((flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) ||
      ((flags & MS_ASYNC) && (flags & MS_SYNC)))
    return -EINVAL;
  uint64 end = PGROUNDUP(addr + len);
  for (uint64 va = addr; va < end; ) {
    struct vma *v = find_vma(p, va);
    if (v == 0)
      return -ENOMEM;
    uint64 to = MIN(v->end, end);
    if (vma_is_shared_file(v) && (flags & (MS_SYNC | MS_ASYNC))) {
      loff_t first = (loff_t)(v->pgoff + (va - v->start) / PGSIZE) * PGSIZE;
      loff_t last = first + (to - va) - 1;
      int err;
      if (flags & MS_SYNC) {
        err = vfs_fsync_range(v->file, first, last, 1);
      } else {
        err = filemap_fdatawrite_range(vma_mapping(v), first, last, WB_SYNC_NONE);
      }
      if (err && r == 0)
        r = err;
    }
    va = to;
  }
  return r;
}
