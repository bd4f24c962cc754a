// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"

static __thread char err_buf[512];

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
	memcpy(err_buf, msg, sizeof(err_buf));
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
	memcpy(err_buf, msg, sizeof(err_buf));
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
