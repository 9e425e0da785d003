// Power-off through QEMU virt's test device.
#ifndef QUIRE_POWEROFF_H
#define QUIRE_POWEROFF_H

void poweroff(int code) __attribute__((noreturn));

#endif
