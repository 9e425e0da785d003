// Reading the size of RAM from the flattened device tree (FDT) that QEMU
// passes to the kernel at boot.
//
// The FDT is a header, a block of tokens describing a tree of nodes with
// properties, and a block of property names; all numbers are big-endian.
// We need one value: the "reg" property of the /memory node, which holds
// the RAM's base and size as two 64-bit numbers on QEMU's virt machine.
#include "types.h"
#include "memlayout.h"
#include "lib/lib.h"

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

static uint32
be32(const void *p)
{
  const uchar *b = p;

  return ((uint32)b[0] << 24) | ((uint32)b[1] << 16) | ((uint32)b[2] << 8) | b[3];
}

static uint64
be64(const void *p)
{
  return ((uint64)be32(p) << 32) | be32((const uchar *)p + 4);
}

static uint64
align4(uint64 x)
{
  return (x + 3) & ~3UL;
}

// The address in the "reg" property of the first node whose name starts
// with prefix ("memory", "sswi@", ...), and its size in *size if size is
// not 0; 0 if there is no such node.
static uint64
fdt_find_reg(uint64 fdt, const char *prefix, uint64 *size)
{
  const uchar *h = (const uchar *)fdt;

  if (fdt == 0 || be32(h) != FDT_MAGIC)
    return 0;
  const uchar *p = h + be32(h + 8);          // off_dt_struct
  const char *strings = (const char *)h + be32(h + 12);
  const uchar *limit = p + be32(h + 36);     // size_dt_struct
  int in_node = 0;

  while (p < limit) {
    uint32 token = be32(p);
    p += 4;
    if (token == FDT_BEGIN_NODE) {
      const char *name = (const char *)p;
      in_node = strncmp(name, prefix, strlen(prefix)) == 0;
      p += align4(strlen(name) + 1);
    } else if (token == FDT_END_NODE) {
      in_node = 0;
    } else if (token == FDT_PROP) {
      uint32 len = be32(p), nameoff = be32(p + 4);
      const uchar *value = p + 8;
      if (in_node && len >= 16 && strncmp(strings + nameoff, "reg", 4) == 0) {
        if (size)
          *size = be64(value + 8);
        return be64(value);
      }
      p += 8 + align4(len);
    } else if (token == FDT_END) {
      break;
    } else if (token != FDT_NOP) {
      return 0;
    }
  }
  return 0;
}

// The end of RAM (base + size) from the /memory node, or 0 if the tree
// can't be read.
uint64
fdt_ram_end(uint64 fdt)
{
  uint64 size = 0;
  uint64 base = fdt_find_reg(fdt, "memory", &size);

  return base ? base + size : 0;
}

// The ACLINT's supervisor software-interrupt device (QEMU's -machine
// virt,aclint=on), through which one hart can interrupt another; 0 if
// there is none.  It sits under /soc, a level deeper than /memory.
uint64
fdt_sswi(uint64 fdt)
{
  return fdt_find_reg(fdt, "sswi@", 0);
}
