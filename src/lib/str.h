/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_LIB_STR_H
#define SLICEVM_LIB_STR_H

#include <stddef.h>

/*
 * Appends printf-style text to @buf, a string of *@used bytes in @len:
 * as much as fits, always NUL-terminated. *@used grows by the text's whole
 * length, so once a piece was cut it is >= @len and later calls add
 * nothing. 0 when the text fit, -1 when it was cut (or @buf was full).
 * For one-line messages built piece by piece.
 */
int str_append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
