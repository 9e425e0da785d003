// exec: replace the calling process's memory with a program from the file
// system.
//
// The new address space is built completely beside the old one; only when
// nothing can fail any more does the process switch to it, so a failed
// exec returns an error to a process that is still intact.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "riscv.h"
#include "uapi/errno.h"
#include "lib/lib.h"
#include "mm/mm.h"
#include "mm/mmap.h"
#include "proc/proc.h"
#include "proc/elf.h"
#include "fs/fs.h"
#include "fs/log.h"

static int
flags2perm(uint32 flags)
{
  int perm = 0;

  if (flags & ELF_PROG_FLAG_EXEC)
    perm |= PTE_X;
  if (flags & ELF_PROG_FLAG_WRITE)
    perm |= PTE_W;
  return perm;
}

// Read a segment's file bytes into pages already mapped at va.
static int
loadseg(pagetable_t pagetable, uint64 va, struct inode *ip, uint64 off, uint64 sz)
{
  for (uint64 i = 0; i < sz; i += PGSIZE) {
    uint64 pa = walkaddr(pagetable, va + i);
    if (pa == 0)
      panic("loadseg: page not mapped");
    uint64 n = MIN(sz - i, PGSIZE);
    if (readi(ip, 0, pa, off + i, n) != n)
      return -ENOEXEC;
  }
  return 0;
}

// Map and load the program's segments.  *szp is kept at the end of what
// is mapped, so that the caller can free it all after a failure.
// Returns 0 or -errno.
static int
load_program(pagetable_t pagetable, struct inode *ip, struct elfhdr *elf, uint64 *szp)
{
  uint64 sz = USERBASE;
  struct proghdr ph;

  *szp = sz;

  for (int i = 0; i < elf->phnum; i++) {
    uint64 off = elf->phoff + i * sizeof(ph);
    if (readi(ip, 0, (uint64)&ph, off, sizeof(ph)) != sizeof(ph))
      return -ENOEXEC;
    if (ph.type != ELF_PROG_LOAD)
      continue;
    if (ph.memsz < ph.filesz || ph.vaddr + ph.memsz < ph.vaddr ||
        ph.vaddr % PGSIZE != 0 || ph.vaddr < sz || ph.vaddr + ph.memsz > MMAPBASE)
      return -ENOEXEC;
    // Fill the gap below the segment too, so [USERBASE, sz) is all mapped.
    if (uvmalloc(pagetable, sz, ph.vaddr + ph.memsz, flags2perm(ph.flags)) != 0)
      return -ENOMEM;
    sz = *szp = ph.vaddr + ph.memsz;
    int r = loadseg(pagetable, ph.vaddr, ip, ph.off, ph.filesz);
    if (r < 0)
      return r;
  }
  return 0;
}

// Copy argv onto the new stack, below top: the strings first, then the
// array of pointers to them.  Returns the new sp, or -errno.
static int64
push_args(pagetable_t pagetable, uint64 top, uint64 bottom, char **argv, uint64 *argvp)
{
  uint64 sp = top, ustack[MAXARG + 1];
  int argc;

  for (argc = 0; argv[argc]; argc++) {
    sp -= strlen(argv[argc]) + 1;
    sp -= sp % 16;   // the RISC-V ABI wants sp 16-byte aligned
    if (sp < bottom)
      return -E2BIG;
    if (copyout(pagetable, sp, argv[argc], strlen(argv[argc]) + 1) < 0)
      return -E2BIG;
    ustack[argc] = sp;
  }
  ustack[argc] = 0;
  sp -= (argc + 1) * sizeof(uint64);
  sp -= sp % 16;
  if (sp < bottom || copyout(pagetable, sp, ustack, (argc + 1) * sizeof(uint64)) < 0)
    return -E2BIG;
  *argvp = sp;
  return sp;
}

// Replace the current program.  argv is a kernel array of kernel strings
// ending with 0.  Returns argc (it becomes a0, main's first argument), or
// -errno with the process unchanged.
int
kernel_execve(const char *path, char **argv)
{
  struct proc *p = myproc();
  struct elfhdr elf;
  struct inode *ip;
  pagetable_t pagetable = 0;
  int64 r;
  uint64 sz = 0;
  uint64 argvp = 0;
  int argc;

  for (argc = 0; argv[argc]; argc++)
    ;

  begin_op();
  if ((r = namei_err(path, &ip)) < 0) {
    end_op();
    return r;
  }
  if ((r = ilock(ip)) < 0) {
    iput(ip);
    end_op();
    return r;
  }
  r = -ENOEXEC;
  if (ip->type == T_DIR) {
    r = -EACCES;
    goto bad;
  }
  if (readi(ip, 0, (uint64)&elf, 0, sizeof(elf)) != sizeof(elf) ||
      elf.magic != ELF_MAGIC || elf.machine != EM_RISCV ||
      elf.ident[0] != ELFCLASS64 || elf.ident[1] != ELFDATA2LSB)
    goto bad;
  r = -ENOMEM;
  if ((pagetable = proc_pagetable(p)) == 0)
    goto bad;
  if ((r = load_program(pagetable, ip, &elf, &sz)) < 0)
    goto bad;
  iunlockput(ip);
  end_op();
  ip = 0;

  // A guard page, then the stack.
  sz = PGROUNDUP(sz);
  r = -ENOMEM;
  if (uvmalloc(pagetable, sz, sz + (USERSTACK + 1) * PGSIZE, PTE_W) != 0)
    goto bad;
  sz += (USERSTACK + 1) * PGSIZE;
  uvmclear(pagetable, sz - (USERSTACK + 1) * PGSIZE);
  if ((r = push_args(pagetable, sz, sz - USERSTACK * PGSIZE, argv, &argvp)) < 0)
    goto bad;
  uint64 sp = r;

  // The name is the last path component, for debugging.
  const char *last = path;
  for (const char *s = path; *s; s++)
    if (*s == '/')
      last = s + 1;
  safestrcpy(p->name, last, sizeof(p->name));

  // Commit to the new image.
  mmap_exit(p);
  pagetable_t oldpagetable = p->pagetable;
  uint64 oldsz = p->sz;
  p->pagetable = pagetable;
  p->sz = sz;
  p->heapbase = sz;
  p->trapframe->epc = elf.entry;
  p->trapframe->sp = sp;
  p->trapframe->a1 = argvp;
  proc_freepagetable(oldpagetable, oldsz);
  return argc;

bad:
  if (pagetable)
    proc_freepagetable(pagetable, sz);
  if (ip) {
    iunlockput(ip);
    end_op();
  }
  return r;
}
