// The console: a UART with a line editor in front of it.
#ifndef QUIRE_CONSOLE_H
#define QUIRE_CONSOLE_H

void consoleinit(void);
void console_putc(int c);      // kernel output; never sleeps
void console_intr(int c);      // a character arrived from the UART

// uart.c
void uartinit(void);
void uart_putc(int c);         // buffered, may sleep: for user output
void uart_putc_sync(int c);    // spins until sent: for kernel output
void uart_hold(void);          // around a kernel message: nothing else is sent
void uart_unhold(void);
void uart_intr(void);

#endif
