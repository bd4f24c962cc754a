/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_LIB_FILE_H
#define SLICEVM_LIB_FILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads a whole regular, non-empty file of at most @max bytes into a new
 * buffer (free() it). Errors name the file by its role: @what is "kernel"
 * or "initrd", @hint says what the user should give instead ("give the path
 * of a bzImage or vmlinux"). Returns 0, or -1 with err_msg() set.
 */
int file_read_all(const char *what, const char *path, const char *hint,
		  uint64_t max, uint8_t **data, size_t *size);

#endif
