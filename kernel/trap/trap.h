// Traps, interrupts and the clock.
#ifndef QUIRE_TRAP_H
#define QUIRE_TRAP_H

#include "types.h"
#include "lib/spinlock.h"

void trapinit(void);
void trapinithart(void);
void usertrapret(void);

// The clock: ticks at TICK_HZ since boot, guarded by tickslock; sleeping
// on &ticks wakes at every tick.
extern struct spinlock tickslock;
extern uint64 ticks;
uint64 uptime_ms(void);
uint64 uptime_us(void);

// plic.c
void plicinit(void);
void plicinithart(void);
int plic_claim(void);
void plic_complete(int irq);

#endif
