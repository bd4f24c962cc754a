/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_LIB_ERR_H
#define SLICEVM_LIB_ERR_H

/*
 * One error message per thread. A function that fails records a single line
 * naming the problem and the fix, and returns -1; the command that called it
 * prints the line and exits non-zero. Errors deeper in a call chain can be
 * kept (the caller simply returns -1) or replaced with a better one.
 */

int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like err_set(), with ": strerror(errno)" appended. */
int err_set_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

const char *err_msg(void);
void err_clear(void);

#endif
