// The 16550 UART of QEMU's virt machine.
//
// Input: every received byte raises an interrupt and goes to the console's
// line editor.  Output from user programs goes through a small ring that
// the transmit-ready interrupt drains, so a writer sleeps when the ring is
// full instead of spinning.  Kernel messages bypass the ring and spin.
#include "types.h"
#include "memlayout.h"
#include "lib/lib.h"
#include "lib/spinlock.h"
#include "proc/proc.h"
#include "dev/console.h"

#define REG(r) ((volatile uchar *)(UART0 + (r)))
#define RHR 0   // receive holding register (read)
#define THR 0   // transmit holding register (write)
#define IER 1   // interrupt enable
#define  IER_RX (1 << 0)
#define  IER_TX (1 << 1)
#define FCR 2   // FIFO control (write)
#define  FCR_ENABLE (1 << 0)
#define  FCR_CLEAR  (3 << 1)
#define ISR 2   // interrupt status (read)
#define LCR 3   // line control
#define  LCR_8BITS (3 << 0)
#define  LCR_DLAB  (1 << 7)   // divisor latch: baud rate registers at 0,1
#define LSR 5   // line status
#define  LSR_RX_READY (1 << 0)
#define  LSR_TX_IDLE  (1 << 5)

#define rd(r) (*REG(r))
#define wr(r, v) (*REG(r) = (v))

#define TXBUF 64
static struct spinlock uart_lock;
static char txbuf[TXBUF];
static uint64 tx_w, tx_r;   // write and read positions, ever increasing

void
uartinit(void)
{
  wr(IER, 0);
  wr(LCR, LCR_DLAB);
  wr(0, 3);                 // divisor 3: 38400 baud (QEMU ignores it)
  wr(1, 0);
  wr(LCR, LCR_8BITS);
  wr(FCR, FCR_ENABLE | FCR_CLEAR);
  wr(IER, IER_RX | IER_TX);
  initlock(&uart_lock, "uart");
}

// Move bytes from the ring to the UART while it can take them.  Holds
// uart_lock.
static void
uart_start(void)
{
  while (tx_r != tx_w && (rd(LSR) & LSR_TX_IDLE)) {
    wr(THR, txbuf[tx_r % TXBUF]);
    tx_r++;
    wakeup(&tx_r);
  }
}

void
uart_putc(int c)
{
  acquire(&uart_lock);
  if (panicked) {
    release(&uart_lock);
    for (;;)
      ;
  }
  while (tx_w == tx_r + TXBUF)
    sleep(&tx_r, &uart_lock);
  txbuf[tx_w % TXBUF] = c;
  tx_w++;
  uart_start();
  release(&uart_lock);
}

void
uart_putc_sync(int c)
{
  push_off();
  while ((rd(LSR) & LSR_TX_IDLE) == 0)
    ;
  wr(THR, c);
  pop_off();
}

// Keep other harts' buffered output off the wire while the kernel prints
// one message, so that the message arrives in one piece even when a
// program is half-way through a line (printf holds the UART this way).
void
uart_hold(void)
{
  acquire(&uart_lock);
}

void
uart_unhold(void)
{
  release(&uart_lock);
}

// Either a byte arrived or the transmitter is ready for more (or both).
void
uart_intr(void)
{
  while (rd(LSR) & LSR_RX_READY)
    console_intr(rd(RHR));

  acquire(&uart_lock);
  uart_start();
  release(&uart_lock);
}
