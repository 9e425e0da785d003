// Virtio over MMIO (virtio 1.x "modern" transport) and split virtqueues.
// Register offsets and bits from the virtio 1.2 specification, §4.2.2.
#ifndef QUIRE_VIRTIO_H
#define QUIRE_VIRTIO_H

#include "types.h"

#define VIRTIO_MMIO_MAGIC_VALUE         0x000   // "virt"
#define VIRTIO_MMIO_VERSION             0x004   // 2 for modern devices
#define VIRTIO_MMIO_DEVICE_ID           0x008   // 2 is a block device
#define VIRTIO_MMIO_VENDOR_ID           0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIRTIO_MMIO_CONFIG              0x100   // device-specific config

#define VIRTIO_MAGIC      0x74726976
#define VIRTIO_DEV_BLOCK  2

// Device status bits, set by the driver in order as it initialises.
#define VIRTIO_STATUS_ACKNOWLEDGE  1
#define VIRTIO_STATUS_DRIVER       2
#define VIRTIO_STATUS_DRIVER_OK    4
#define VIRTIO_STATUS_FEATURES_OK  8
#define VIRTIO_STATUS_FAILED     128

// Feature bits.
#define VIRTIO_BLK_F_SIZE_MAX   1    // config.size_max is valid
#define VIRTIO_BLK_F_SEG_MAX    2    // config.seg_max is valid
#define VIRTIO_BLK_F_RO         5    // read-only device
#define VIRTIO_BLK_F_BLK_SIZE   6
#define VIRTIO_BLK_F_FLUSH      9    // the FLUSH command exists
#define VIRTIO_F_VERSION_1      32   // modern device (required)

// The device-specific configuration of a block device (the fields we use).
struct virtio_blk_config {
  uint64 capacity;    // in 512-byte sectors
  uint32 size_max;    // largest segment, in bytes
  uint32 seg_max;     // most segments in one request
};

// A split virtqueue.  The driver fills descriptors and puts chain heads on
// the available ring; the device puts finished chain heads on the used ring.
#define VRING_DESC_F_NEXT   1   // the chain goes on at .next
#define VRING_DESC_F_WRITE  2   // the device writes this buffer

struct vring_desc {
  uint64 addr;
  uint32 len;
  uint16 flags;
  uint16 next;
};

struct vring_avail {
  uint16 flags;
  uint16 idx;          // where the driver puts the next entry
  uint16 ring[];       // chain heads
};

struct vring_used_elem {
  uint32 id;           // head of the finished chain
  uint32 len;
};

struct vring_used {
  uint16 flags;
  uint16 idx;          // where the device puts the next entry
  struct vring_used_elem ring[];
};

// Block request header and commands (virtio 1.2 §5.2.6).
#define VIRTIO_BLK_T_IN     0   // read
#define VIRTIO_BLK_T_OUT    1   // write
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_S_OK     0

struct virtio_blk_req_hdr {
  uint32 type;
  uint32 reserved;
  uint64 sector;
};

#endif
