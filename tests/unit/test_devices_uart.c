// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/uart.h"
#include "arch/x86/platform.h"

#define THR 0
#define RBR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define MAX_EDGES 64

struct fixture {
	struct uart *uart;
	int pipe[2];
	int irq;		/* last irq number seen */
	int levels[MAX_EDGES];	/* every level the UART drove, in order */
	int nlevels;
};

static void record_irq(void *ctx, int irq, int level)
{
	struct fixture *f = ctx;

	f->irq = irq;
	if (f->nlevels < MAX_EDGES)
		f->levels[f->nlevels] = level;
	f->nlevels++;
}

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	if (pipe2(f.pipe, O_NONBLOCK) < 0)
		return -1;
	f.uart = uart_create(f.pipe[1], IRQ_COM1, record_irq, &f);
	if (!f.uart)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	uart_destroy(f->uart);
	close(f->pipe[0]);
	if (f->pipe[1] >= 0)
		close(f->pipe[1]);
	return 0;
}

static uint8_t in8(struct uart *u, uint16_t reg)
{
	uint8_t v = 0x5A;

	uart_pio(u, reg, &v, 1, false);
	return v;
}

static void out8(struct uart *u, uint16_t reg, uint8_t v)
{
	uart_pio(u, reg, &v, 1, true);
}

static ssize_t drain_pipe(struct fixture *f, char *buf, size_t len)
{
	ssize_t n = read(f->pipe[0], buf, len);

	return n < 0 ? 0 : n;
}

static void test_reset_state(void **state)
{
	struct fixture *f = *state;
	struct uart *u = f->uart;

	assert_int_equal(in8(u, IER), 0);
	assert_int_equal(in8(u, IIR), 0x01);
	assert_int_equal(in8(u, LCR), 0);
	assert_int_equal(in8(u, MCR), 0);
	assert_int_equal(in8(u, LSR), 0x60);	/* THRE | TEMT */
	assert_int_equal(in8(u, MSR), 0xB0);	/* DCD | DSR | CTS */
	assert_int_equal(f->nlevels, 0);
	/* Past the eight registers: nothing there. */
	assert_int_equal(in8(u, 8), 0xFF);
}

static void test_dlab_latch(void **state)
{
	struct fixture *f = *state;
	struct uart *u = f->uart;
	char buf[8];

	out8(u, IER, 0x05);
	out8(u, LCR, 0x83);			/* DLAB, 8N1 */
	assert_int_not_equal(in8(u, DLL), 0);	/* a usable default divisor */
	out8(u, DLL, 0x0C);
	out8(u, DLM, 0x01);
	assert_int_equal(in8(u, DLL), 0x0C);
	assert_int_equal(in8(u, DLM), 0x01);
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), 0);	/* not sent */
	out8(u, LCR, 0x03);
	assert_int_equal(in8(u, LCR), 0x03);
	assert_int_equal(in8(u, IER), 0x05);	/* untouched by DLM */
	out8(u, THR, 'x');
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'x');
	out8(u, LCR, 0x80);
	assert_int_equal(in8(u, DLL), 0x0C);	/* latched */
	assert_int_equal(in8(u, DLM), 0x01);
}

static void test_scratch_and_masks(void **state)
{
	struct uart *u = ((struct fixture *)*state)->uart;

	out8(u, SCR, 0xA5);
	assert_int_equal(in8(u, SCR), 0xA5);
	out8(u, IER, 0xFF);
	assert_int_equal(in8(u, IER), 0x0F);
	out8(u, IER, 0);
	out8(u, MCR, 0xFF & ~0x10);
	assert_int_equal(in8(u, MCR), 0x0F);
	/* LSR and MSR ignore writes. */
	out8(u, LSR, 0);
	assert_int_equal(in8(u, LSR), 0x60);
}

static void test_output_to_pipe(void **state)
{
	struct fixture *f = *state;
	const char *msg = "hello, world\n";
	char buf[64];

	out8(f->uart, LCR, 0x03);
	for (size_t i = 0; i < strlen(msg); i++) {
		assert_true(in8(f->uart, LSR) & 0x20);
		out8(f->uart, THR, msg[i]);
		assert_int_equal(in8(f->uart, LSR) & 0x60, 0x60);
	}
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), strlen(msg));
	assert_memory_equal(buf, msg, strlen(msg));
	assert_int_equal(uart_tx_dropped(f->uart), 0);
}

static void test_lsr_data_ready(void **state)
{
	struct uart *u = ((struct fixture *)*state)->uart;

	assert_int_equal(uart_receive(u, "q", 1), 1);
	assert_int_equal(in8(u, LSR), 0x61);
	assert_int_equal(in8(u, RBR), 'q');
	assert_int_equal(in8(u, LSR), 0x60);
	/* An empty receiver keeps returning the last byte. */
	assert_int_equal(in8(u, RBR), 'q');
}

static void test_fifo_order(void **state)
{
	struct uart *u = ((struct fixture *)*state)->uart;
	const char *msg = "0123456789abcdefghijklmnopqrstuvwxyz";

	out8(u, FCR, 0x07);
	assert_int_equal(in8(u, IIR) & 0xC0, 0xC0);
	assert_int_equal(uart_receive(u, msg, strlen(msg)), strlen(msg));
	for (size_t i = 0; i < strlen(msg); i++) {
		assert_true(in8(u, LSR) & 0x01);
		assert_int_equal(in8(u, RBR), msg[i]);
	}
	assert_false(in8(u, LSR) & 0x01);
}

static void test_fifo_capacity(void **state)
{
	struct uart *u = ((struct fixture *)*state)->uart;
	static char big[UART_RX_BUF_SIZE + 100];

	/* FIFO off: a single holding register. */
	assert_int_equal(uart_rx_space(u), 1);
	assert_int_equal(uart_receive(u, "abc", 3), 1);
	assert_int_equal(uart_rx_space(u), 0);
	assert_int_equal(in8(u, RBR), 'a');

	out8(u, FCR, 0x01);
	assert_int_equal(uart_rx_space(u), UART_RX_BUF_SIZE);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)i;
	assert_int_equal(uart_receive(u, big, sizeof(big)), UART_RX_BUF_SIZE);
	assert_int_equal(uart_rx_space(u), 0);
	assert_int_equal(uart_receive(u, big, 1), 0);
	/* Host input never overruns: it waits instead. */
	assert_int_equal(in8(u, LSR) & 0x02, 0);
	for (size_t i = 0; i < UART_RX_BUF_SIZE; i++)
		assert_int_equal(in8(u, RBR), (uint8_t)big[i]);
	assert_int_equal(uart_rx_space(u), UART_RX_BUF_SIZE);

	/* FCR bit 1 empties the receiver; turning the FIFO off does too. */
	uart_receive(u, "xyz", 3);
	out8(u, FCR, 0x03);
	assert_int_equal(in8(u, LSR) & 0x01, 0);
	uart_receive(u, "xyz", 3);
	out8(u, FCR, 0x00);
	assert_int_equal(in8(u, LSR) & 0x01, 0);
	assert_int_equal(in8(u, IIR) & 0xC0, 0);
}

static void test_loopback_overrun(void **state)
{
	struct fixture *f = *state;
	struct uart *u = f->uart;
	char buf[8];

	out8(u, MCR, 0x10);
	out8(u, FCR, 0x01);
	for (int i = 0; i < UART_RX_BUF_SIZE; i++)
		out8(u, THR, 'L');
	assert_int_equal(in8(u, LSR) & 0x02, 0);
	out8(u, THR, 'M');			/* lost */
	out8(u, IER, 0x04);			/* line status interrupt */
	assert_int_equal(in8(u, IIR), 0xC6);
	assert_int_equal(in8(u, LSR), 0x63);	/* DR | OE | THRE | TEMT */
	assert_int_equal(in8(u, LSR), 0x61);	/* OE cleared by reading */
	assert_int_equal(in8(u, IIR), 0xC1);
	assert_int_equal(f->nlevels, 2);
	assert_int_equal(f->levels[0], 1);
	assert_int_equal(f->levels[1], 0);
	for (int i = 0; i < UART_RX_BUF_SIZE; i++)
		assert_int_equal(in8(u, RBR), 'L');
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), 0);
}

/* Every source pending at once: IIR reports them by priority. */
static void test_iir_priorities(void **state)
{
	struct fixture *f = *state;
	struct uart *u = f->uart;

	out8(u, MCR, 0x12);		/* loopback, RTS: DSR and DCD drop */
	out8(u, THR, 'a');
	out8(u, THR, 'b');		/* overruns the 16450 holding register */
	out8(u, IER, 0x0F);
	assert_int_equal(f->nlevels, 1);
	assert_int_equal(f->levels[0], 1);

	assert_int_equal(in8(u, IIR), 0x06);
	assert_int_equal(in8(u, IIR), 0x06);	/* reading IIR keeps it */
	assert_int_equal(in8(u, LSR), 0x63);
	assert_int_equal(in8(u, IIR), 0x04);
	assert_int_equal(in8(u, RBR), 'b');	/* the newer byte won */
	assert_int_equal(in8(u, IIR), 0x02);	/* acknowledges THRE... */
	assert_int_equal(in8(u, IIR), 0x00);	/* ...exposing modem status */
	assert_int_equal(in8(u, MSR), 0x1A);	/* CTS, DDSR | DDCD */
	assert_int_equal(in8(u, IIR), 0x01);
	assert_int_equal(f->nlevels, 2);
	assert_int_equal(f->levels[1], 0);
	assert_int_equal(f->irq, IRQ_COM1);
}

static void test_thre_interrupt(void **state)
{
	struct fixture *f = *state;
	struct uart *u = f->uart;
	char buf[8];

	/* Linux's "does THRE re-assert" test in serial8250_do_startup. */
	out8(u, IER, 0x02);
	assert_int_equal(in8(u, IIR), 0x02);
	out8(u, IER, 0x00);
	out8(u, IER, 0x02);
	assert_int_equal(in8(u, IIR), 0x02);
	assert_int_equal(in8(u, IIR), 0x01);	/* acknowledged */
	assert_int_equal(f->nlevels, 4);
	assert_int_equal(f->levels[0], 1);
	assert_int_equal(f->levels[1], 0);
	assert_int_equal(f->levels[2], 1);
	assert_int_equal(f->levels[3], 0);

	/* A THR write empties at once: a fresh edge for the next byte. */
	out8(u, THR, 'a');
	assert_int_equal(f->nlevels, 5);
	assert_int_equal(f->levels[4], 1);
	out8(u, THR, 'b');			/* still pending: no new call */
	assert_int_equal(f->nlevels, 5);
	assert_int_equal(in8(u, IIR), 0x02);
	assert_int_equal(f->nlevels, 6);
	assert_int_equal(f->levels[5], 0);
	out8(u, IER, 0x00);
	assert_int_equal(f->nlevels, 6);
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), 2);
}

static void test_rx_interrupt(void **state)
{
	struct fixture *f = *state;
	struct uart *u = f->uart;

	out8(u, FCR, 0x01);			/* trigger level 1 */
	out8(u, IER, 0x01);
	assert_int_equal(f->nlevels, 0);
	uart_receive(u, "x", 1);
	assert_int_equal(f->nlevels, 1);
	assert_int_equal(f->levels[0], 1);
	uart_receive(u, "y", 1);
	assert_int_equal(f->nlevels, 1);
	assert_int_equal(in8(u, IIR), 0xC4);
	assert_int_equal(in8(u, RBR), 'x');
	assert_int_equal(f->nlevels, 1);
	assert_int_equal(in8(u, RBR), 'y');
	assert_int_equal(f->nlevels, 2);
	assert_int_equal(f->levels[1], 0);
	assert_int_equal(in8(u, IIR), 0xC1);
	uart_receive(u, "z", 1);		/* a new edge */
	assert_int_equal(f->nlevels, 3);
	assert_int_equal(f->levels[2], 1);
	in8(u, RBR);

	/* Below the trigger level: character timeout; at it: data available. */
	out8(u, FCR, 0xC1);			/* trigger level 14 */
	uart_receive(u, "0123456789abc", 13);
	assert_int_equal(in8(u, IIR), 0xCC);
	uart_receive(u, "d", 1);
	assert_int_equal(in8(u, IIR), 0xC4);
	out8(u, FCR, 0x81);			/* trigger level 8 */
	for (int i = 0; i < 6; i++)
		in8(u, RBR);
	assert_int_equal(in8(u, IIR), 0xC4);	/* 8 left */
	in8(u, RBR);
	assert_int_equal(in8(u, IIR), 0xCC);	/* 7 left */
}

static void test_loopback_modem_lines(void **state)
{
	struct fixture *f = *state;
	struct uart *u = f->uart;
	char buf[8];

	out8(u, MCR, 0x10);
	assert_int_equal(in8(u, MSR), 0x0B);	/* all lines dropped: deltas */
	assert_int_equal(in8(u, MSR), 0x00);
	out8(u, MCR, 0x1F);
	assert_int_equal(in8(u, MSR) & 0xF0, 0xF0);
	out8(u, MCR, 0x1B);			/* OUT1 off: RI trailing edge */
	assert_int_equal(in8(u, MSR), 0xB4);
	out8(u, MCR, 0x11);			/* DTR only */
	assert_int_equal(in8(u, MSR), 0x29);	/* CTS and DCD dropped */
	/* Transmitted bytes come back instead of leaving. */
	out8(u, THR, 'z');
	assert_int_equal(in8(u, LSR) & 0x01, 1);
	assert_int_equal(in8(u, RBR), 'z');
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), 0);
	out8(u, MCR, 0x00);
	assert_int_equal(in8(u, MSR) & 0xF0, 0xB0);
	out8(u, THR, 'w');
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), 1);
}

enum probed_type { PROBE_FAIL, PROBE_8250, PROBE_16450, PROBE_16550,
		   PROBE_16550A, PROBE_16650, PROBE_NS16550A, PROBE_16750,
		   PROBE_XSCALE, PROBE_UNKNOWN };

/*
 * The register dance Linux's 8250 driver does to identify a UART
 * (autoconfig() and autoconfig_16550a() in 8250_port.c), written from its
 * observable behaviour. Returns what the driver would decide.
 */
static enum probed_type linux_autoconfig(struct uart *u)
{
	uint8_t save_ier, save_mcr, save_lcr, s1, s2, s3;

	save_ier = in8(u, IER);
	out8(u, IER, 0);
	s2 = in8(u, IER) & 0x0F;
	out8(u, IER, 0x0F);
	s3 = in8(u, IER) & 0x0F;
	out8(u, IER, save_ier);
	if (s2 != 0 || s3 != 0x0F)
		return PROBE_FAIL;

	save_mcr = in8(u, MCR);
	save_lcr = in8(u, LCR);
	out8(u, MCR, 0x10 | 0x0A);		/* loopback, RTS, OUT2 */
	s1 = in8(u, MSR) & 0xF0;
	out8(u, MCR, save_mcr);
	if (s1 != 0x90)				/* CTS | DCD */
		return PROBE_FAIL;

	out8(u, LCR, 0xBF);
	out8(u, 2, 0);				/* EFR on enhanced parts */
	out8(u, LCR, 0);
	out8(u, FCR, 0x01);
	switch (in8(u, IIR) >> 6) {
	case 0:
		out8(u, SCR, 0xA5);
		if (in8(u, SCR) != 0xA5)
			return PROBE_8250;
		out8(u, SCR, 0x5A);
		return in8(u, SCR) == 0x5A ? PROBE_16450 : PROBE_8250;
	case 1:
		return PROBE_UNKNOWN;
	case 2:
		return PROBE_16550;
	}

	/* autoconfig_16550a(): EFR with DLAB set (ST16C650V1)? */
	out8(u, LCR, 0x80);
	if (in8(u, 2) == 0)
		return PROBE_16650;
	out8(u, LCR, 0xBF);
	if (in8(u, 2) == 0)
		return PROBE_16650;

	/* National Semiconductor SuperIO: LOOP mirrored in EXCR1 (bank 2). */
	out8(u, LCR, 0);
	s1 = in8(u, MCR);
	out8(u, LCR, 0xE0);
	s2 = in8(u, 2);
	if (!((s2 ^ s1) & 0x10)) {
		out8(u, LCR, 0);
		out8(u, MCR, s1 ^ 0x10);
		out8(u, LCR, 0xE0);
		s2 = in8(u, 2);
		out8(u, LCR, 0);
		out8(u, MCR, s1);
		if ((s2 ^ s1) & 0x10)
			return PROBE_NS16550A;
	}

	/* TI16750: IIR bit 5 follows the 64-byte FIFO bit only with DLAB. */
	out8(u, LCR, 0);
	out8(u, FCR, 0x01 | 0x20);
	s1 = in8(u, IIR) & 0xE0;
	out8(u, FCR, 0x01);
	out8(u, LCR, 0x80);
	out8(u, FCR, 0x01 | 0x20);
	s2 = in8(u, IIR) & 0xE0;
	out8(u, FCR, 0x01);
	out8(u, LCR, 0);
	if (s1 == 0xC0 && s2 == 0xE0)
		return PROBE_16750;

	/* XScale: IER bit 6 (UUE) sticks. */
	save_ier = in8(u, IER);
	out8(u, IER, save_ier & ~0x40);
	if (!(in8(u, IER) & 0x40)) {
		out8(u, IER, save_ier | 0x40);
		if (in8(u, IER) & 0x40)
			return PROBE_XSCALE;
	}
	out8(u, IER, save_ier);
	out8(u, LCR, save_lcr);

	/* Reset as the driver does after identifying the port. */
	out8(u, MCR, save_mcr);
	out8(u, FCR, 0x01);
	out8(u, FCR, 0x07);
	out8(u, FCR, 0);
	in8(u, RBR);
	out8(u, IER, 0);
	return PROBE_16550A;
}

static void test_linux_autoconfig(void **state)
{
	struct fixture *f = *state;
	char buf[8];

	assert_int_equal(linux_autoconfig(f->uart), PROBE_16550A);
	/* Probing sent nothing and left no interrupt pending. */
	assert_int_equal(drain_pipe(f, buf, sizeof(buf)), 0);
	assert_int_equal(in8(f->uart, IIR), 0x01);
	assert_int_equal(in8(f->uart, LSR), 0x60);
	/* Probing twice (console and port registration) agrees. */
	assert_int_equal(linux_autoconfig(f->uart), PROBE_16550A);
}

static bool fd_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

static void test_rx_wait_fd(void **state)
{
	struct uart *u = ((struct fixture *)*state)->uart;
	int fd = uart_rx_wait_fd(u);
	static char big[UART_RX_BUF_SIZE + 1];
	eventfd_t val;

	assert_true(fd >= 0);
	out8(u, FCR, 0x01);
	assert_false(fd_readable(fd));
	assert_int_equal(uart_receive(u, big, sizeof(big)), UART_RX_BUF_SIZE);
	for (int i = 0; i < UART_RX_BUF_SIZE / 2 - 1; i++)
		in8(u, RBR);
	assert_false(fd_readable(fd));		/* more than half still full */
	in8(u, RBR);
	assert_true(fd_readable(fd));
	assert_int_equal(eventfd_read(fd, &val), 0);
	assert_false(fd_readable(fd));
	/* Not armed: draining does not signal again. */
	in8(u, RBR);
	assert_false(fd_readable(fd));

	/* Armed by uart_rx_space() returning 0; clearing the FIFO frees it. */
	uart_receive(u, big, sizeof(big));
	assert_int_equal(uart_rx_space(u), 0);
	out8(u, FCR, 0x03);
	assert_true(fd_readable(fd));
	assert_int_equal(eventfd_read(fd, &val), 0);

	/* FIFO off: the holding register frees when read. */
	out8(u, FCR, 0x00);
	eventfd_read(fd, &val);			/* the switch may have signalled */
	assert_int_equal(uart_receive(u, "ab", 2), 1);
	assert_false(fd_readable(fd));
	in8(u, RBR);
	assert_true(fd_readable(fd));
}

struct reader {
	int fd;
	size_t want;
	size_t got;
	char last[128];
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	char buf[4096];

	usleep(20000);				/* let the writer hit a full pipe */
	while (r->got < r->want) {
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 5000) != 1)
			break;
		n = read(r->fd, buf, sizeof(buf));
		if (n <= 0)
			continue;
		for (ssize_t i = 0; i < n; i++)
			r->last[(r->got + i) % sizeof(r->last)] = buf[i];
		r->got += n;
	}
	return NULL;
}

static void test_output_waits_for_full_pipe(void **state)
{
	struct fixture *f = *state;
	static char junk[4096];
	struct reader r = { .fd = f->pipe[0] };
	pthread_t tid;
	size_t filled = 0;
	ssize_t n;

	while ((n = write(f->pipe[1], junk, sizeof(junk))) > 0)
		filled += n;
	assert_int_equal(errno, EAGAIN);
	r.want = filled + 100;
	assert_int_equal(pthread_create(&tid, NULL, reader_thread, &r), 0);
	for (int i = 0; i < 100; i++)
		out8(f->uart, THR, 'A' + i % 26);
	pthread_join(tid, NULL);
	assert_int_equal(r.got, r.want);
	for (int i = 0; i < 100; i++)
		assert_int_equal(r.last[(filled + i) % sizeof(r.last)], 'A' + i % 26);
	assert_int_equal(uart_tx_dropped(f->uart), 0);
}

static void test_output_broken_pipe(void **state)
{
	struct fixture *f = *state;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;

	sigaction(SIGPIPE, &ign, &old);
	close(f->pipe[0]);
	f->pipe[0] = open("/dev/null", O_RDONLY);	/* for teardown */
	out8(f->uart, THR, 'a');
	out8(f->uart, THR, 'b');
	out8(f->uart, THR, 'c');
	assert_int_equal(uart_tx_dropped(f->uart), 3);
	/* The guest keeps working. */
	assert_int_equal(in8(f->uart, LSR), 0x60);
	sigaction(SIGPIPE, &old, NULL);
}

static void test_discarded_output(void **state)
{
	struct uart *u = uart_create(-1, IRQ_COM1, NULL, NULL);

	assert_non_null(u);
	out8(u, THR, 'a');			/* no fd, no irq callback */
	out8(u, IER, 0x02);
	assert_int_equal(in8(u, IIR), 0x02);
	assert_int_equal(uart_tx_dropped(u), 0);
	uart_destroy(u);
}

/* An 8-bit device: a word access is two byte accesses. */
static void test_wide_access(void **state)
{
	struct uart *u = ((struct fixture *)*state)->uart;
	uint8_t two[2];

	uart_pio(u, LSR, two, 2, false);
	assert_int_equal(two[0], 0x60);
	assert_int_equal(two[1], 0xB0);
	two[0] = 0x03;
	two[1] = 0x0B;
	uart_pio(u, LCR, two, 2, true);
	assert_int_equal(in8(u, LCR), 0x03);
	assert_int_equal(in8(u, MCR), 0x0B);
}

struct writer {
	struct uart *uart;
	char ch;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;

	for (int i = 0; i < 2000; i++) {
		out8(w->uart, THR, w->ch);
		in8(w->uart, IIR);
		if (in8(w->uart, LSR) & 0x01)
			in8(w->uart, RBR);
	}
	return NULL;
}

static void test_concurrent_vcpus(void **state)
{
	struct fixture *f = *state;
	struct reader r = { .fd = f->pipe[0], .want = 4 * 2000 };
	struct writer w[4];
	pthread_t wt[4], rt;

	out8(f->uart, IER, 0x03);
	assert_int_equal(pthread_create(&rt, NULL, reader_thread, &r), 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){ .uart = f->uart, .ch = 'a' + i };
		assert_int_equal(pthread_create(&wt[i], NULL, writer_thread, &w[i]), 0);
	}
	out8(f->uart, FCR, 0x01);
	for (int i = 0; i < 1000; i++)
		uart_receive(f->uart, "k", 1);
	for (int i = 0; i < 4; i++)
		pthread_join(wt[i], NULL);
	pthread_join(rt, NULL);
	assert_int_equal(r.got, r.want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dlab_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_and_masks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_to_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lsr_data_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iir_priorities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_modem_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_autoconfig, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_wait_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_waits_for_full_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_broken_pipe, setup, teardown),
		cmocka_unit_test(test_discarded_output),
		cmocka_unit_test_setup_teardown(test_wide_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_vcpus, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
