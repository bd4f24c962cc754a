// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "vmm/console.h"

_Static_assert(sizeof(struct termios) <= sizeof(((struct console *)0)->saved_termios),
	       "saved_termios too small");

void console_open(struct console *con, int in_fd)
{
	struct termios tio;

	memset(con, 0, sizeof(*con));
	con->in_fd = in_fd;
	if (!isatty(in_fd) || tcgetattr(in_fd, &tio))
		return;
	/*
	 * A background job may neither read the terminal nor change it (the
	 * kernel would stop it with SIGTTIN/SIGTTOU): run without input.
	 */
	if (tcgetpgrp(in_fd) != getpgrp()) {
		con->eof = true;
		return;
	}
	memcpy(con->saved_termios, &tio, sizeof(tio));
	/*
	 * Raw input: every key, Ctrl-C included, goes to the guest. Output
	 * processing stays on; the guest's serial console already sends CR LF.
	 */
	tio.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
			 ICRNL | IXON);
	tio.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	tio.c_cflag &= ~(CSIZE | PARENB);
	tio.c_cflag |= CS8;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	if (!tcsetattr(in_fd, TCSANOW, &tio))
		con->raw = true;
}

void console_close(struct console *con)
{
	if (con->raw)
		tcsetattr(con->in_fd, TCSANOW, (struct termios *)con->saved_termios);
	con->raw = false;
}

size_t console_filter(struct console *con, const uint8_t *in, size_t len,
		      uint8_t *buf)
{
	size_t out = 0;

	for (size_t i = 0; i < len && !con->quit && !con->detach; i++) {
		uint8_t c = in[i];

		if (con->escape_pending) {
			con->escape_pending = false;
			if (c == 'x' || c == 'X') {
				con->quit = true;
				break;
			}
			if (con->can_detach && (c == 'd' || c == 'D')) {
				con->detach = true;
				break;
			}
			if (c != CONSOLE_ESCAPE)
				buf[out++] = CONSOLE_ESCAPE;
			buf[out++] = c;
		} else if (c == CONSOLE_ESCAPE) {
			con->escape_pending = true;
		} else {
			buf[out++] = c;
		}
	}
	return out;
}

void console_ring_put(struct console_ring *r, const unsigned char *p, size_t n)
{
	if (n > CONSOLE_RING_SIZE) {
		p += n - CONSOLE_RING_SIZE;
		n = CONSOLE_RING_SIZE;
	}
	for (size_t done = 0; done < n;) {
		size_t chunk = CONSOLE_RING_SIZE - r->head;

		if (chunk > n - done)
			chunk = n - done;
		memcpy(r->buf + r->head, p + done, chunk);
		r->head = (r->head + chunk) % CONSOLE_RING_SIZE;
		done += chunk;
	}
	r->len = r->len + n > CONSOLE_RING_SIZE ? CONSOLE_RING_SIZE : r->len + n;
}

size_t console_ring_copy(const struct console_ring *r, unsigned char *out, size_t len)
{
	size_t n = r->len < len ? r->len : len;
	size_t start = (r->head + CONSOLE_RING_SIZE - n) % CONSOLE_RING_SIZE;

	for (size_t i = 0; i < n; i++)
		out[i] = r->buf[(start + i) % CONSOLE_RING_SIZE];
	return n;
}
