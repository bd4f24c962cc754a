/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_DEVICES_UART_H
#define SLICEVM_DEVICES_UART_H

#include <stddef.h>
#include <stdint.h>

#include "devices/iodev.h"

/*
 * A 16550A UART (the guest's ttyS0).
 *
 * Wiring, for the VMM:
 *   u = uart_create(STDOUT_FILENO, IRQ_COM1, irq_fn, vm);
 *   register uart_pio on the port I/O bus for PORT_COM1 .. PORT_COM1 + 7
 *   (UART_PORTS ports), with u as its dev.
 *
 * Output: every byte the guest sends is written to @out_fd (-1 discards it).
 * A non-blocking fd that is full is waited on with poll(); EINTR is retried.
 * On any other write error the UART stops writing and counts the lost bytes
 * (uart_tx_dropped()). A pipe whose reader went away raises SIGPIPE: the VMM
 * must ignore that signal. Output is written without the device lock held,
 * so a stalled terminal blocks only the vCPU that writes, never the thread
 * feeding input.
 *
 * Interrupts: @irq_fn(@irq_ctx, @irq, level) is called when the UART's
 * interrupt output changes: 1 when some enabled interrupt condition becomes
 * pending (IIR bit 0 clears), 0 when none is left. It is called with the
 * UART's lock held, from whichever thread caused the change (a vCPU thread
 * or the thread calling uart_receive()), so it must not call back into the
 * UART. Because the line drops whenever the guest has dealt with every
 * condition, each new condition makes a fresh 0 -> 1 edge, which is what an
 * edge-triggered ISA IRQ on the IOAPIC/PIC needs. The line is not gated by
 * MCR.OUT2 (real PC boards do that; Linux always sets OUT2 anyway).
 *
 * Input: the receiver holds UART_RX_BUF_SIZE bytes while the guest has the
 * FIFO enabled and one byte (a 16450 holding register) while it has not.
 * The thread that reads host input (one thread only) does:
 *
 *   for (;;) {
 *           wait with poll() for:
 *               - host input, only if uart_rx_space(u) > 0;
 *               - uart_rx_wait_fd(u) readable (always);
 *           if wait fd readable: read its 8-byte counter (to reset it);
 *           if input readable: read at most uart_rx_space(u) bytes and pass
 *               them to uart_receive(); it accepts them all unless the guest
 *               switched its FIFO off meanwhile: keep the rest for later.
 *   }
 *
 * uart_rx_space() returning 0 (and uart_receive() accepting less than it was
 * given) arms a notification: once the guest has drained the receiver to
 * half its size or less, the eventfd becomes readable. The check and the
 * arming happen under the device lock, so no wake-up is lost between them.
 * Wake-ups can be spurious (check uart_rx_space() again).
 */

#define UART_PORTS		8
#define UART_RX_BUF_SIZE	4096

struct uart;

/* Returns NULL (with err_set()) if memory or an eventfd cannot be had. */
struct uart *uart_create(int out_fd, int irq, irq_line_fn irq_fn, void *irq_ctx);
/* Does not close out_fd. */
void uart_destroy(struct uart *uart);

/*
 * The VM is stopping: a vCPU blocked writing output to a terminal or pipe
 * that does not drain gives up (and drops the byte) when a signal
 * interrupts it, instead of writing again, so it can be joined.
 */
void uart_stop(struct uart *uart);

/* The port handler, registered for UART_PORTS ports at the UART's base. */
void uart_pio(void *dev, uint16_t offset, void *data, int size, bool is_write);

/*
 * Queues host input for the guest. Returns how many bytes of @buf were
 * accepted (the free space in the receiver); the rest must be offered again
 * later. Raises the receive interrupt if the guest enabled it.
 */
size_t uart_receive(struct uart *uart, const void *buf, size_t len);

/* Free space in the receiver; when it is 0, arms the wait fd. */
size_t uart_rx_space(struct uart *uart);

/* An eventfd (non-blocking) that becomes readable as described above. */
int uart_rx_wait_fd(struct uart *uart);

/* Bytes lost because writing to out_fd failed. */
uint64_t uart_tx_dropped(struct uart *uart);

#endif
