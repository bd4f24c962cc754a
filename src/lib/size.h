/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_LIB_SIZE_H
#define SLICEVM_LIB_SIZE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses "512M", "4G", "65536"; "1.5G" and "0x1000" are refused, saying
 * how to write them. Suffixes K, M, G, T (powers of 1024, either case,
 * optionally followed by "B" or "iB"); a bare number is bytes. Returns 0,
 * or -1 with err_msg() set on a malformed or overflowing size.
 */
int size_parse(const char *str, uint64_t *bytes);

/* size_parse(), but a bare number is in units of 2^@bare_shift bytes (20: MiB). */
int size_parse_default(const char *str, int bare_shift, uint64_t *bytes);

/* Formats bytes as the largest exact unit ("512M", "3584M", "4G", "1000"). */
char *size_format(uint64_t bytes, char *buf, size_t len);

#endif
