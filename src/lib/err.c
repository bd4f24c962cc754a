// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"

static __thread char err_buf[512];

/*
 * An error is one line on a terminal, whatever it quotes (a damaged ledger,
 * a file name): control characters are shown as '?'.
 */
static void store(const char *msg)
{
	size_t i;

	for (i = 0; i < sizeof(err_buf) - 1 && msg[i]; i++)
		err_buf[i] = (unsigned char)msg[i] < 0x20 || msg[i] == 0x7f ? '?' : msg[i];
	err_buf[i] = '\0';
}

/*
 * Messages are formatted aside and then copied, so a new message may quote
 * the current one: err_set("--memory: %s", err_msg()).
 */
int err_set(const char *fmt, ...)
{
	char msg[sizeof(err_buf)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	store(msg);
	return -1;
}

int err_set_errno(const char *fmt, ...)
{
	char msg[sizeof(err_buf)];
	int saved = errno;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = strlen(msg);
	snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(saved));
	store(msg);
	errno = saved;
	return -1;
}

const char *err_msg(void)
{
	return err_buf[0] ? err_buf : "unknown error";
}

void err_clear(void)
{
	err_buf[0] = '\0';
}
