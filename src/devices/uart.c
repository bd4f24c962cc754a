// SPDX-License-Identifier: GPL-2.0
/*
 * 16550A UART. Transmission is instantaneous: a byte written to THR goes
 * straight to the output fd, so the transmitter is always empty (LSR.THRE and
 * LSR.TEMT always read 1) and the "THR empty" interrupt is re-armed by every
 * THR write. The receiver is a ring buffer larger than the chip's 16 bytes so
 * that pasted host input does not have to trickle in 16 bytes per interrupt;
 * trigger levels still follow FCR. There are no timers: the "character
 * timeout" interrupt is reported as soon as fewer bytes than the trigger
 * level wait in the FIFO, which is what a guest sees after four character
 * times of silence anyway.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/uart.h"
#include "lib/err.h"

/* Register offsets. */
#define REG_RBR_THR	0	/* DLL when LCR.DLAB */
#define REG_IER		1	/* DLM when LCR.DLAB */
#define REG_IIR_FCR	2
#define REG_LCR		3
#define REG_MCR		4
#define REG_LSR		5
#define REG_MSR		6
#define REG_SCR		7

#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* THR empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */
#define IER_MASK	0x0F	/* bits 4-7 read 0 on a 16550A */

#define IIR_NONE	0x01
#define IIR_MSR		0x00
#define IIR_THRE	0x02
#define IIR_RDA		0x04
#define IIR_RLS		0x06
#define IIR_TIMEOUT	0x0C
#define IIR_FIFO_ON	0xC0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_TRIGGER_SHIFT 6

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1F	/* bits 5-7 read 0 on a 16550A */

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_PE		0x04
#define LSR_FE		0x08
#define LSR_BI		0x10
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define LSR_ERRORS	(LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80
#define MSR_DELTAS	0x0F

/* 115200 baud from the 1.8432 MHz clock: never 0, Linux divides by it. */
#define DEFAULT_DIVISOR	1

static const unsigned int rx_trigger_levels[4] = { 1, 4, 8, 14 };

struct uart {
	pthread_mutex_t lock;		/* everything down to tx_lock */
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint8_t lsr_errors;		/* OE/PE/FE/BI until LSR is read */
	uint8_t msr_deltas;		/* MSR bits 0-3 until MSR is read */
	uint8_t last_rx;		/* RBR when the receiver is empty */
	bool fifo_enabled;
	unsigned int rx_trigger;
	bool thre_pending;
	bool irq_level;
	int irq;
	irq_line_fn irq_fn;
	void *irq_ctx;

	uint8_t rx[UART_RX_BUF_SIZE];
	size_t rx_head, rx_count;
	bool rx_waiter;			/* signal wait_fd when space frees */
	int wait_fd;

	pthread_mutex_t tx_lock;	/* serialises writes to out_fd */
	int out_fd;
	bool out_broken;
	atomic_bool stopping;		/* uart_stop(): blocked output gives up */
	atomic_uint_fast64_t tx_dropped;
};

/* ---- receiver ---- */

static size_t rx_capacity(const struct uart *u)
{
	return u->fifo_enabled ? UART_RX_BUF_SIZE : 1;
}

/* Wakes the input thread once the guest has drained half the receiver. */
static void rx_space_freed(struct uart *u)
{
	if (u->rx_waiter && u->rx_count <= rx_capacity(u) / 2) {
		u->rx_waiter = false;
		/* Only fails if the counter would overflow: it is then readable. */
		(void)eventfd_write(u->wait_fd, 1);
	}
}

static void rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	rx_space_freed(u);
}

static bool rx_push(struct uart *u, uint8_t byte)
{
	if (u->rx_count == rx_capacity(u))
		return false;
	u->rx[(u->rx_head + u->rx_count) % UART_RX_BUF_SIZE] = byte;
	u->rx_count++;
	return true;
}

static uint8_t rx_pop(struct uart *u)
{
	if (u->rx_count) {
		u->last_rx = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_RX_BUF_SIZE;
		u->rx_count--;
		rx_space_freed(u);
	}
	return u->last_rx;
}

/* A byte arriving from the line (loopback): an overrun if there is no room. */
static void rx_from_line(struct uart *u, uint8_t byte)
{
	if (rx_push(u, byte))
		return;
	u->lsr_errors |= LSR_OE;
	/* Without FIFO the new byte replaces the unread one; with it, it is lost. */
	if (!u->fifo_enabled)
		u->rx[u->rx_head] = byte;
}

/* ---- interrupts ---- */

/* The highest-priority pending, enabled source, as IIR bits 0-3. */
static uint8_t irq_source(const struct uart *u)
{
	if ((u->ier & IER_ELSI) && u->lsr_errors)
		return IIR_RLS;
	if ((u->ier & IER_ERBFI) && u->rx_count) {
		if (u->fifo_enabled && u->rx_count < u->rx_trigger)
			return IIR_TIMEOUT;
		return IIR_RDA;
	}
	if ((u->ier & IER_ETBEI) && u->thre_pending)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && u->msr_deltas)
		return IIR_MSR;
	return IIR_NONE;
}

/* Called at the end of every state change, with the lock held. */
static void update_irq(struct uart *u)
{
	bool level = irq_source(u) != IIR_NONE;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->irq_fn)
		u->irq_fn(u->irq_ctx, u->irq, level);
}

/* ---- modem control and status ---- */

/* MSR bits 4-7: a host terminal is always "connected"; loopback mirrors MCR. */
static uint8_t modem_lines(const struct uart *u)
{
	uint8_t lines = 0;

	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	if (u->mcr & MCR_RTS)
		lines |= MSR_CTS;
	if (u->mcr & MCR_DTR)
		lines |= MSR_DSR;
	if (u->mcr & MCR_OUT1)
		lines |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		lines |= MSR_DCD;
	return lines;
}

static void write_mcr(struct uart *u, uint8_t val)
{
	uint8_t before = modem_lines(u), after, changed;

	u->mcr = val & MCR_MASK;
	after = modem_lines(u);
	changed = before ^ after;
	if (changed & MSR_CTS)
		u->msr_deltas |= MSR_DCTS;
	if (changed & MSR_DSR)
		u->msr_deltas |= MSR_DDSR;
	if (changed & MSR_DCD)
		u->msr_deltas |= MSR_DDCD;
	if ((before & MSR_RI) && !(after & MSR_RI))
		u->msr_deltas |= MSR_TERI;
}

/* ---- output ---- */

/* An interrupted wait or write is retried unless the VM is stopping. */
static bool retry_after_eintr(struct uart *u)
{
	return errno == EINTR && !atomic_load(&u->stopping);
}

static int wait_writable(struct uart *u)
{
	struct pollfd pfd = { .fd = u->out_fd, .events = POLLOUT };

	for (;;) {
		if (poll(&pfd, 1, -1) >= 0)
			return 0;
		if (!retry_after_eintr(u))
			return -1;
	}
}

static void emit(struct uart *u, uint8_t byte)
{
	pthread_mutex_lock(&u->tx_lock);
	while (!u->out_broken) {
		ssize_t n = write(u->out_fd, &byte, 1);

		if (n == 1)
			goto out;
		if (n < 0 && retry_after_eintr(u))
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    wait_writable(u) == 0)
			continue;
		/*
		 * The reader is gone, the fd is broken, or the VM is stopping
		 * while the terminal does not drain: drop output, not the VM.
		 */
		u->out_broken = true;
	}
	atomic_fetch_add(&u->tx_dropped, 1);
out:
	pthread_mutex_unlock(&u->tx_lock);
}

/* ---- registers ---- */

static uint8_t read_iir(struct uart *u)
{
	uint8_t source = irq_source(u);

	/* Reading IIR acknowledges a THRE interrupt only when it reports it. */
	if (source == IIR_THRE)
		u->thre_pending = false;
	return source | (u->fifo_enabled ? IIR_FIFO_ON : 0);
}

static uint8_t read_lsr(struct uart *u)
{
	uint8_t lsr = LSR_THRE | LSR_TEMT | u->lsr_errors;

	if (u->rx_count)
		lsr |= LSR_DR;
	u->lsr_errors = 0;
	return lsr;
}

static uint8_t read_msr(struct uart *u)
{
	uint8_t msr = modem_lines(u) | u->msr_deltas;

	u->msr_deltas = 0;
	return msr;
}

static uint8_t read_reg(struct uart *u, unsigned int reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		return dlab ? u->dll : rx_pop(u);
	case REG_IER:
		return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		return read_iir(u);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		return read_lsr(u);
	case REG_MSR:
		return read_msr(u);
	case REG_SCR:
		return u->scr;
	}
	return 0xFF;
}

static void write_ier(struct uart *u, uint8_t val)
{
	val &= IER_MASK;
	/* Enabling the THRE interrupt while THR is empty raises it at once. */
	if (!(u->ier & IER_ETBEI) && (val & IER_ETBEI))
		u->thre_pending = true;
	u->ier = val;
}

static void write_fcr(struct uart *u, uint8_t val)
{
	bool enable = val & FCR_ENABLE;

	/* Switching the FIFOs on or off empties them. */
	if (enable != u->fifo_enabled) {
		u->fifo_enabled = enable;
		rx_clear(u);
	}
	/* The other bits are only programmed while FCR bit 0 is set. */
	if (!enable)
		return;
	if (val & FCR_CLEAR_RX)
		rx_clear(u);
	u->rx_trigger = rx_trigger_levels[val >> FCR_TRIGGER_SHIFT];
}

/* Returns true when @val must be sent out (after the lock is dropped). */
static bool write_thr(struct uart *u, uint8_t val)
{
	u->thre_pending = false;
	if (u->mcr & MCR_LOOP)
		rx_from_line(u, val);
	/* The byte leaves THR at once: THR is empty again. */
	u->thre_pending = true;
	return !(u->mcr & MCR_LOOP);
}

static bool write_reg(struct uart *u, unsigned int reg, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_RBR_THR:
		if (dlab)
			u->dll = val;
		else
			return write_thr(u, val);
		break;
	case REG_IER:
		if (dlab)
			u->dlm = val;
		else
			write_ier(u, val);
		break;
	case REG_IIR_FCR:
		write_fcr(u, val);
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		write_mcr(u, val);
		break;
	case REG_SCR:
		u->scr = val;
		break;
	default:	/* LSR and MSR are read-only */
		break;
	}
	return false;
}

/*
 * The UART sits on an 8-bit bus: a wider access is a series of byte
 * accesses to consecutive registers, as the ISA bus would split it.
 */
void uart_pio(void *dev, uint16_t offset, void *data, int size, bool is_write)
{
	struct uart *u = dev;
	uint8_t *bytes = data;

	for (int i = 0; i < size; i++) {
		unsigned int reg = offset + i;
		bool send = false;

		if (reg >= UART_PORTS) {
			if (!is_write)
				bytes[i] = 0xFF;
			continue;
		}
		pthread_mutex_lock(&u->lock);
		if (is_write)
			send = write_reg(u, reg, bytes[i]);
		else
			bytes[i] = read_reg(u, reg);
		update_irq(u);
		pthread_mutex_unlock(&u->lock);
		if (send && u->out_fd >= 0)
			emit(u, bytes[i]);
	}
}

/* ---- host side ---- */

size_t uart_receive(struct uart *u, const void *buf, size_t len)
{
	const uint8_t *bytes = buf;
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len && rx_push(u, bytes[n]))
		n++;
	if (u->rx_count == rx_capacity(u))
		u->rx_waiter = true;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart_rx_space(struct uart *u)
{
	size_t space;

	pthread_mutex_lock(&u->lock);
	space = rx_capacity(u) - u->rx_count;
	if (!space)
		u->rx_waiter = true;
	pthread_mutex_unlock(&u->lock);
	return space;
}

int uart_rx_wait_fd(struct uart *u)
{
	return u->wait_fd;
}

uint64_t uart_tx_dropped(struct uart *u)
{
	return atomic_load(&u->tx_dropped);
}

struct uart *uart_create(int out_fd, int irq, irq_line_fn irq_fn, void *irq_ctx)
{
	struct uart *u = calloc(1, sizeof(*u));

	if (!u) {
		err_set("out of memory for the serial port: free some host memory");
		return NULL;
	}
	u->wait_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->wait_fd < 0) {
		err_set_errno("cannot create the serial port's eventfd "
			      "(raise the open file limit)");
		free(u);
		return NULL;
	}
	pthread_mutex_init(&u->lock, NULL);
	pthread_mutex_init(&u->tx_lock, NULL);
	u->out_fd = out_fd;
	u->irq = irq;
	u->irq_fn = irq_fn;
	u->irq_ctx = irq_ctx;
	u->dll = DEFAULT_DIVISOR;
	u->rx_trigger = rx_trigger_levels[0];
	atomic_init(&u->tx_dropped, 0);
	return u;
}

void uart_stop(struct uart *uart)
{
	atomic_store(&uart->stopping, true);
}

void uart_destroy(struct uart *u)
{
	if (!u)
		return;
	close(u->wait_fd);
	pthread_mutex_destroy(&u->tx_lock);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
