// Interrupting other harts (inter-processor interrupts).
#ifndef QUIRE_IPI_H
#define QUIRE_IPI_H

#include "types.h"

extern uint64 sswi_base;   // the ACLINT SSWI device, or 0

void ipi_send(int hart);
void ipi_wake_idle(void);

#endif
