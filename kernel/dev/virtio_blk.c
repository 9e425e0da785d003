// Virtio block devices, over the modern (version 2) virtio-mmio transport.
//
// Disk 0 (the first block device found) holds the file system; a second
// one, if QEMU has it, is a scratch disk for raw I/O (rawdisk(2), used by
// the benchmarks).
//
// One virtqueue of up to QMAX descriptors.  A request is a chain: a header
// the device reads (command and sector), one descriptor per data segment,
// and a status byte the device writes.  Many chains can be in flight at
// once; the device may finish them in any order, and the interrupt handler
// completes each one by calling its end_io.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "uapi/errno.h"
#include "uapi/fs.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "dev/virtio.h"
#include "dev/virtio_blk.h"
#include "dev/blk.h"

#define QMAX 256   // most descriptors we use, whatever the device allows

struct disk {
  struct spinlock lock;
  uint64 base;                   // MMIO registers of the device we drive
  int irq;
  uint qsize;                    // descriptors in the ring (a power of 2)

  struct vring_desc *desc;
  struct vring_avail *avail;
  struct vring_used *used;
  uint16 used_seen;              // used-ring entries already handled

  uint16 free_head;              // free descriptors, linked through .next
  uint nfree;

  // Per chain, indexed by its head descriptor: the request and its header.
  struct blk_request *inflight[QMAX];
  struct virtio_blk_req_hdr hdr[QMAX];

  uint64 capacity;               // sectors
  uint32 seg_max;
  int can_flush;
  struct blk_stats stats;
};

static struct disk disks[NDISK];
static int ndisks;

#define R(off) ((volatile uint32 *)(disk->base + (off)))

static uint64
negotiate(struct disk *disk)
{
  *R(VIRTIO_MMIO_DEVICE_FEATURES_SEL) = 0;
  uint64 offered = *R(VIRTIO_MMIO_DEVICE_FEATURES);
  *R(VIRTIO_MMIO_DEVICE_FEATURES_SEL) = 1;
  offered |= (uint64)*R(VIRTIO_MMIO_DEVICE_FEATURES) << 32;

  uint64 wanted = (1UL << VIRTIO_F_VERSION_1) | (1UL << VIRTIO_BLK_F_FLUSH) |
                  (1UL << VIRTIO_BLK_F_SEG_MAX);
  if ((offered & (1UL << VIRTIO_F_VERSION_1)) == 0)
    panic("virtio-blk: device does not offer VIRTIO_F_VERSION_1");
  uint64 features = offered & wanted;
  *R(VIRTIO_MMIO_DRIVER_FEATURES_SEL) = 0;
  *R(VIRTIO_MMIO_DRIVER_FEATURES) = (uint32)features;
  *R(VIRTIO_MMIO_DRIVER_FEATURES_SEL) = 1;
  *R(VIRTIO_MMIO_DRIVER_FEATURES) = (uint32)(features >> 32);
  return features;
}

static void
setup_queue(struct disk *disk)
{
  *R(VIRTIO_MMIO_QUEUE_SEL) = 0;
  if (*R(VIRTIO_MMIO_QUEUE_READY))
    panic("virtio-blk: queue already in use");
  uint max = *R(VIRTIO_MMIO_QUEUE_NUM_MAX);
  if (max < 64)
    panic("virtio-blk: queue too small (%d)", max);
  disk->qsize = QMAX;
  while (disk->qsize > max)
    disk->qsize /= 2;

  disk->desc = kzalloc();
  disk->avail = kzalloc();
  disk->used = kzalloc();
  if (!disk->desc || !disk->avail || !disk->used)
    panic("virtio-blk: out of memory");

  *R(VIRTIO_MMIO_QUEUE_NUM) = disk->qsize;
  *R(VIRTIO_MMIO_QUEUE_DESC_LOW) = (uint64)disk->desc;
  *R(VIRTIO_MMIO_QUEUE_DESC_HIGH) = (uint64)disk->desc >> 32;
  *R(VIRTIO_MMIO_QUEUE_DRIVER_LOW) = (uint64)disk->avail;
  *R(VIRTIO_MMIO_QUEUE_DRIVER_HIGH) = (uint64)disk->avail >> 32;
  *R(VIRTIO_MMIO_QUEUE_DEVICE_LOW) = (uint64)disk->used;
  *R(VIRTIO_MMIO_QUEUE_DEVICE_HIGH) = (uint64)disk->used >> 32;
  *R(VIRTIO_MMIO_QUEUE_READY) = 1;

  for (uint i = 0; i < disk->qsize; i++)
    disk->desc[i].next = i + 1;
  disk->free_head = 0;
  disk->nfree = disk->qsize;
}

// Bring up the block device at base, in the order the virtio
// specification (§3.1.1) prescribes.
static void
disk_init(struct disk *disk, uint64 base, int irq)
{
  initlock(&disk->lock, "virtio_blk");
  disk->base = base;
  disk->irq = irq;

  uint32 status = 0;
  *R(VIRTIO_MMIO_STATUS) = status;   // reset
  status |= VIRTIO_STATUS_ACKNOWLEDGE;
  *R(VIRTIO_MMIO_STATUS) = status;
  status |= VIRTIO_STATUS_DRIVER;
  *R(VIRTIO_MMIO_STATUS) = status;

  uint64 features = negotiate(disk);
  status |= VIRTIO_STATUS_FEATURES_OK;
  *R(VIRTIO_MMIO_STATUS) = status;
  if ((*R(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) == 0)
    panic("virtio-blk: device refused our features");

  volatile struct virtio_blk_config *cfg = (void *)(disk->base + VIRTIO_MMIO_CONFIG);
  disk->capacity = cfg->capacity;
  disk->seg_max = (features & (1UL << VIRTIO_BLK_F_SEG_MAX)) ? cfg->seg_max : 1;
  disk->can_flush = (features & (1UL << VIRTIO_BLK_F_FLUSH)) != 0;
  if (disk->seg_max < BLK_MAXSEG)
    panic("virtio-blk: device takes only %d segments per request", disk->seg_max);

  setup_queue(disk);
  status |= VIRTIO_STATUS_DRIVER_OK;
  *R(VIRTIO_MMIO_STATUS) = status;
}

// Find the block devices among the virtio-mmio slots.  QEMU's bus
// virtio-mmio-bus.N is slot N, so disk 0 is the one on the lowest bus.
void
virtio_blk_init(void)
{
  for (int slot = 0; slot < VIRTIO_MMIO_SLOTS && ndisks < NDISK; slot++) {
    uint64 base = VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SIZE;
    volatile uint32 *regs = (uint32 *)base;
    if (regs[VIRTIO_MMIO_MAGIC_VALUE / 4] != VIRTIO_MAGIC ||
        regs[VIRTIO_MMIO_DEVICE_ID / 4] != VIRTIO_DEV_BLOCK)
      continue;
    if (regs[VIRTIO_MMIO_VERSION / 4] != 2)
      panic("virtio-blk: legacy device; start QEMU with "
            "-global virtio-mmio.force-legacy=false");
    disk_init(&disks[ndisks++], base, VIRTIO_IRQ(slot));
  }
  if (ndisks == 0)
    panic("virtio-blk: no disk found");
}

int
virtio_blk_ndisks(void)
{
  return ndisks;
}

uint64
virtio_blk_capacity(int dev)
{
  return dev < ndisks ? disks[dev].capacity : 0;
}

int
virtio_blk_can_flush(int dev)
{
  return dev < ndisks && disks[dev].can_flush;
}

// Take n descriptors off the free list, chained; returns the head.
// disk->lock is held and at least n are free.
static uint16
alloc_chain(struct disk *disk, int n)
{
  uint16 head = disk->free_head;
  uint16 d = head;

  for (int i = 0; i < n; i++) {
    disk->desc[d].flags = (i < n - 1) ? VRING_DESC_F_NEXT : 0;
    if (i < n - 1)
      d = disk->desc[d].next;
  }
  disk->free_head = disk->desc[d].next;
  disk->desc[d].next = 0;
  disk->nfree -= n;
  return head;
}

// Put a finished chain back on the free list.
static void
free_chain(struct disk *disk, uint16 head)
{
  uint16 d = head;
  int n = 1;

  while (disk->desc[d].flags & VRING_DESC_F_NEXT) {
    d = disk->desc[d].next;
    n++;
  }
  disk->desc[d].next = disk->free_head;
  disk->free_head = head;
  disk->nfree += n;
}

static void
set_desc(struct disk *disk, uint16 d, void *addr, uint32 len, int device_writes)
{
  disk->desc[d].addr = (uint64)addr;
  disk->desc[d].len = len;
  if (device_writes)
    disk->desc[d].flags |= VRING_DESC_F_WRITE;
}

// Hand a request to the device.  Sleeps while the ring has too few free
// descriptors; returns once the device has been notified.
void
virtio_blk_submit(struct blk_request *req)
{
  int n = req->nseg + 2;

  if (req->dev < 0 || req->dev >= ndisks)
    panic("virtio_blk_submit: no disk %d", req->dev);
  struct disk *disk = &disks[req->dev];

  if (req->nseg < 0 || req->nseg > BLK_MAXSEG || (req->op == BLK_FLUSH && req->nseg != 0))
    panic("virtio_blk_submit: bad request");

  acquire(&disk->lock);
  while (disk->nfree < n)
    sleep(&disk->nfree, &disk->lock);

  uint16 head = alloc_chain(disk, n);
  struct virtio_blk_req_hdr *hdr = &disk->hdr[head];
  hdr->type = req->op == BLK_READ ? VIRTIO_BLK_T_IN :
              req->op == BLK_WRITE ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_FLUSH;
  hdr->reserved = 0;
  hdr->sector = req->op == BLK_FLUSH ? 0 : req->blockno * (BSIZE / 512);

  uint16 d = head;
  set_desc(disk, d, hdr, sizeof(*hdr), 0);
  for (int i = 0; i < req->nseg; i++) {
    d = disk->desc[d].next;
    set_desc(disk, d, req->seg[i].addr, req->seg[i].len, req->op == BLK_READ);
  }
  d = disk->desc[d].next;
  req->status = 0xff;
  set_desc(disk, d, &req->status, 1, 1);
  disk->inflight[head] = req;

  // Publish the chain, then the new index; then tell the device.  The
  // doorbell is rung after the lock is dropped: under QEMU a write to it
  // runs the device's side of the queue on this hart, which takes long, and
  // the completion interrupt on another hart would spin on the lock all
  // that time (make profile showed it as the kernel's top cost).  The
  // device reads the index, so a late or doubled ring loses nothing.
  disk->avail->ring[disk->avail->idx % disk->qsize] = head;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  disk->avail->idx++;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  release(&disk->lock);
  *R(VIRTIO_MMIO_QUEUE_NOTIFY) = 0;
}

// The bytes a request moves (its segments may be longer than a block).
static uint64
request_bytes(struct blk_request *req)
{
  uint64 bytes = 0;

  for (int i = 0; i < req->nseg; i++)
    bytes += req->seg[i].len;
  return bytes;
}

// Errors the console reports one by one, per disk: a disk that fails
// every request would otherwise drown the console (wbstat counts them all).
#define ERRORS_SHOWN 5

// Say on the console which request the disk failed.
static void
report_error(struct disk *disk, struct blk_request *req)
{
  static const char *what[] = { [BLK_READ] = "read", [BLK_WRITE] = "write",
                                [BLK_FLUSH] = "FLUSH" };
  uint64 n = disk->stats.errors;

  if (n > ERRORS_SHOWN)
    return;
  const char *more = n == ERRORS_SHOWN ? "; further errors are counted only (wbstat)" : "";

  // One printf, so that the line reaches the console whole.
  if (req->op == BLK_FLUSH)
    printf("virtio-blk: disk %d failed a FLUSH%s\n", req->dev, more);
  else
    printf("virtio-blk: disk %d failed a %s of block %ld (%ld blocks)%s\n", req->dev,
           what[req->op], req->blockno, (long)(request_bytes(req) / BSIZE), more);
}

static void
account(struct disk *disk, struct blk_request *req)
{
  uint64 bytes = request_bytes(req);

  if (req->error) {
    disk->stats.errors++;
    report_error(disk, req);
  } else if (req->op == BLK_READ)
    disk->stats.reads++, disk->stats.read_bytes += bytes;
  else if (req->op == BLK_WRITE)
    disk->stats.writes++, disk->stats.write_bytes += bytes;
  else
    disk->stats.flushes++;
}

// The device finished one or more chains.  Collect them under the lock,
// then call their end_io functions without it, so that an end_io may take
// other locks (the page cache's) and even submit nothing new safely.
void
virtio_blk_intr(int irq)
{
  struct blk_request *done = 0, **tail = &done;
  struct disk *disk = 0;

  for (int i = 0; i < ndisks; i++)
    if (disks[i].irq == irq)
      disk = &disks[i];
  if (disk == 0)
    return;
  // Acknowledge before looking at the used ring (a completion after this
  // raises the interrupt again), and outside the lock: device registers
  // are slow to reach under QEMU.
  *R(VIRTIO_MMIO_INTERRUPT_ACK) = *R(VIRTIO_MMIO_INTERRUPT_STATUS) & 3;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  acquire(&disk->lock);

  while (disk->used_seen != __atomic_load_n(&disk->used->idx, __ATOMIC_ACQUIRE)) {
    uint16 head = disk->used->ring[disk->used_seen % disk->qsize].id;
    struct blk_request *req = disk->inflight[head];
    if (req == 0)
      panic("virtio_blk_intr: completion for idle descriptor %d", head);
    disk->inflight[head] = 0;
    free_chain(disk, head);
    req->error = req->status == VIRTIO_BLK_S_OK ? 0 : -EIO;
    account(disk, req);
    req->next = 0;
    *tail = req;
    tail = &req->next;
    disk->used_seen++;
  }
  wakeup(&disk->nfree);
  release(&disk->lock);

  while (done) {
    struct blk_request *req = done;
    done = req->next;
    req->end_io(req);
  }
}

void
virtio_blk_stats(int dev, struct blk_stats *st)
{
  if (dev >= ndisks) {
    memset(st, 0, sizeof(*st));
    return;
  }
  acquire(&disks[dev].lock);
  *st = disks[dev].stats;
  release(&disks[dev].lock);
}
