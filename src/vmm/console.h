/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_CONSOLE_H
#define SLICEVM_VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The VMM's terminal: raw mode while the guest owns it (restored at exit),
 * and the escape sequence Ctrl-A x that quits. Ctrl-A Ctrl-A sends one Ctrl-A.
 */
#define CONSOLE_ESCAPE	0x01	/* Ctrl-A */

struct console {
	int in_fd;
	bool raw;		/* terminal settings were changed and must be restored */
	bool escape_pending;
	bool quit;		/* Ctrl-A x seen */
	bool eof;		/* input closed */
	unsigned char saved_termios[64];	/* struct termios, kept opaque here */
};

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
