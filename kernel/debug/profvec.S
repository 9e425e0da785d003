# The machine-mode trap vector of the kernel profiler (debug/profile.c).
#
# start() points mtvec here on every hart.  Everything but the machine
# timer is delegated to supervisor mode, so only the profiler's timer
# arrives: it interrupts the kernel wherever it is, even with supervisor
# interrupts off.  mscratch holds the top of this hart's machine-mode
# stack; the interrupted registers are saved on it, profile_mtrap() takes
# the sample, and mret goes back as if nothing had happened.
.section .text
.globl profvec
.align 4
profvec:
        csrrw sp, mscratch, sp
        addi sp, sp, -128
        sd ra, 0(sp)
        sd t0, 8(sp)
        sd t1, 16(sp)
        sd t2, 24(sp)
        sd t3, 32(sp)
        sd t4, 40(sp)
        sd t5, 48(sp)
        sd t6, 56(sp)
        sd a0, 64(sp)
        sd a1, 72(sp)
        sd a2, 80(sp)
        sd a3, 88(sp)
        sd a4, 96(sp)
        sd a5, 104(sp)
        sd a6, 112(sp)
        sd a7, 120(sp)
        # profile_mtrap(the interrupted frame pointer, return address)
        mv a0, s0
        mv a1, ra
        call profile_mtrap
        ld ra, 0(sp)
        ld t0, 8(sp)
        ld t1, 16(sp)
        ld t2, 24(sp)
        ld t3, 32(sp)
        ld t4, 40(sp)
        ld t5, 48(sp)
        ld t6, 56(sp)
        ld a0, 64(sp)
        ld a1, 72(sp)
        ld a2, 80(sp)
        ld a3, 88(sp)
        ld a4, 96(sp)
        ld a5, 104(sp)
        ld a6, 112(sp)
        ld a7, 120(sp)
        addi sp, sp, 128
        csrrw sp, mscratch, sp
        mret
