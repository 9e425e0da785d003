# The first code a user program runs.
#
# exec leaves argc in a0 and argv in a1, which is exactly where main wants
# them, so _start only has to call main and hand its return value to exit.
# A program may also leave by calling exit itself; then this never resumes.

        .section .text.entry
        .globl _start
        .type _start, @function
_start:
        # Zero the frame pointer and return address so that a debugger's
        # backtrace stops here instead of wandering into garbage.
        li      fp, 0
        li      ra, 0
        call    main
        # a0 already holds main's return value: the exit status.
        call    exit
        # exit does not return; if a broken kernel lets it, spin rather
        # than run off into whatever follows.
1:      j       1b
        .size _start, . - _start
