// xv6's short names for the fixed-size integer types, shared by the
// kernel (types.h) and user programs (user/user.h).
#ifndef QUIRE_UAPI_TYPES_H
#define QUIRE_UAPI_TYPES_H

#include <stdint.h>

typedef unsigned int   uint;
typedef unsigned short ushort;
typedef unsigned char  uchar;
typedef uint8_t  uint8;
typedef uint16_t uint16;
typedef uint32_t uint32;
typedef uint64_t uint64;

#endif
