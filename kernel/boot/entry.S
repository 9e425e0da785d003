# The first instructions.  QEMU starts every hart here, in machine mode,
# with a0 = hart id and a1 = the address of the device tree.  Give each
# hart its own boot stack and call start(a0, a1).
#include "param.h"

.section .text
.global _entry
_entry:
        # sp = boot_stack + (hartid + 1) * 4096
        la sp, boot_stack
        li t0, 4096
        csrr t1, mhartid
        addi t1, t1, 1
        mul t0, t0, t1
        add sp, sp, t0
        call start
1:      wfi
        j 1b

.section .bss
.align 12
.global boot_stack
boot_stack:
        .space 4096 * NCPU
