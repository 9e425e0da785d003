// rawdisk(2): direct I/O on the scratch disk (QEMU's second virtio disk),
// bypassing every cache, for measuring what the device itself can do.
//
//   rawdisk(RAWDISK_READ or RAWDISK_WRITE, blockno, buf, nblocks)
//       moves nblocks 4096-byte blocks; buf must be page-aligned.  The
//       transfer is cut into requests of up to 64 blocks, many in flight.
//   rawdisk(RAWDISK_FLUSH, 0, 0, 0)   empties the disk's write cache
//   rawdisk(RAWDISK_SIZE, 0, 0, 0)    returns the disk's size in blocks
// Fails with ENODEV if there is no scratch disk.
#ifndef QUIRE_UAPI_RAWDISK_H
#define QUIRE_UAPI_RAWDISK_H

#define RAWDISK_READ  0
#define RAWDISK_WRITE 1
#define RAWDISK_FLUSH 2
#define RAWDISK_SIZE  3

#endif
