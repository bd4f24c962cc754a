/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_CONSOLE_H
#define SLICEVM_VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The VMM's terminal: raw mode while the guest owns it (restored at exit),
 * and the escape sequence Ctrl-A x that quits. Ctrl-A Ctrl-A sends one Ctrl-A.
 * Attached to a detached VM (slicevm console), Ctrl-A d detaches.
 */
#define CONSOLE_ESCAPE	0x01	/* Ctrl-A */

struct console {
	int in_fd;
	bool raw;		/* terminal settings were changed and must be restored */
	bool escape_pending;
	bool quit;		/* Ctrl-A x seen */
	bool can_detach;	/* Ctrl-A d means detach (slicevm console) */
	bool detach;		/* Ctrl-A d seen */
	bool eof;		/* input closed */
	unsigned char saved_termios[64];	/* struct termios, kept opaque here */
};

/* The last output of a detached VM's console, for a console client that attaches. */
#define CONSOLE_RING_SIZE	65536
struct console_ring {
	unsigned char buf[CONSOLE_RING_SIZE];
	size_t head;		/* the next byte goes here */
	size_t len;		/* bytes held, at most CONSOLE_RING_SIZE */
};

/* Keeps the last CONSOLE_RING_SIZE bytes: older ones are dropped. */
void console_ring_put(struct console_ring *r, const unsigned char *p, size_t n);
/* Copies the newest min(@len, held) bytes, oldest first; returns how many. */
size_t console_ring_copy(const struct console_ring *r, unsigned char *out, size_t len);

void console_open(struct console *con, int in_fd);
void console_close(struct console *con);

/*
 * Filters @len bytes of terminal input for the guest into @out (room for
 * @len + 1 bytes: an escape held over from the last call may come back),
 * handling the escape sequence. Returns how many bytes go to the guest.
 */
size_t console_filter(struct console *con, const uint8_t *in, size_t len,
		      uint8_t *out);

#endif
