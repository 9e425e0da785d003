// The console device (major number CONSOLE): line editing on input, and
// output to the UART.
//
// Input is collected a line at a time.  Until Enter, the line can be edited:
//   Backspace or DEL  erase the last character
//   ^U                erase the whole line
//   ^D                end of file: read() returns what is typed so far,
//                     or 0 at the start of a line
//   ^P                list the processes (for debugging a stuck system)
#include "types.h"
#include "param.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "proc/proc.h"
#include "fs/file.h"
#include "dev/console.h"
#include "uapi/errno.h"

#define CTRL(x) ((x) - '@')
#define BACKSPACE 0x100   // console_putc: erase one character on screen

#define INPUT_BUF 256
static struct {
  struct spinlock lock;
  char buf[INPUT_BUF];
  uint64 r;   // next byte read() returns
  uint64 w;   // end of the completed lines
  uint64 e;   // end of the line being edited
} cons;

// Kernel output: straight to the UART.
void
console_putc(int c)
{
  if (c == BACKSPACE) {
    uart_putc_sync('\b');
    uart_putc_sync(' ');
    uart_putc_sync('\b');
  } else {
    uart_putc_sync(c);
  }
}

// write() to the console.
static int
console_write(int user_src, uint64 src, int n)
{
  int i;

  for (i = 0; i < n; i++) {
    char c;
    if (either_copyin(&c, user_src, src + i, 1) < 0)
      return i > 0 ? i : -EFAULT;
    uart_putc(c);
  }
  return i;
}

// read() from the console: at most n bytes, and never past the end of a
// line.  Sleeps until a line (or ^D) is complete.  The bytes are gathered
// under the lock and copied out after it is released, because copying to
// user memory may fault and sleep.
static int
console_read(int user_dst, uint64 dst, int n)
{
  char buf[INPUT_BUF];
  int got = 0;

  if (n > INPUT_BUF)
    n = INPUT_BUF;
  acquire(&cons.lock);
  while (cons.r == cons.w) {
    if (killed(myproc())) {
      release(&cons.lock);
      return -EINTR;
    }
    sleep(&cons.r, &cons.lock);
  }
  while (got < n && cons.r != cons.w) {
    int c = cons.buf[cons.r++ % INPUT_BUF];
    if (c == CTRL('D')) {
      // End of file.  If bytes came before it, leave the ^D for the next
      // read so that one returns 0.
      if (got > 0)
        cons.r--;
      break;
    }
    buf[got++] = c;
    if (c == '\n')
      break;
  }
  release(&cons.lock);
  if (got > 0 && either_copyout(user_dst, dst, buf, got) < 0)
    return -EFAULT;
  return got;
}

// A character typed at the console, from the UART interrupt.
void
console_intr(int c)
{
  acquire(&cons.lock);
  switch (c) {
  case CTRL('P'):
    procdump();
    break;
  case CTRL('U'):
    while (cons.e != cons.w && cons.buf[(cons.e - 1) % INPUT_BUF] != '\n') {
      cons.e--;
      console_putc(BACKSPACE);
    }
    break;
  case CTRL('H'):
  case 0x7f:
    if (cons.e != cons.w) {
      cons.e--;
      console_putc(BACKSPACE);
    }
    break;
  default:
    if (c == 0 || cons.e - cons.r >= INPUT_BUF)
      break;
    if (c == '\r')
      c = '\n';
    if (c != CTRL('D'))
      console_putc(c);
    cons.buf[cons.e++ % INPUT_BUF] = c;
    // A complete line, an end of file, or a full buffer: wake readers.
    if (c == '\n' || c == CTRL('D') || cons.e - cons.r == INPUT_BUF) {
      cons.w = cons.e;
      wakeup(&cons.r);
    }
    break;
  }
  release(&cons.lock);
}

void
consoleinit(void)
{
  initlock(&cons.lock, "cons");
  uartinit();
  devsw[CONSOLE].read = console_read;
  devsw[CONSOLE].write = console_write;
}
