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

/*
 * The checks of file_read_all() without the reading: opens @path and
 * returns its fd (close() it) with *@size set, so a caller can check that
 * the file fits where it goes before reading a byte. -1 with err_msg() set.
 */
int file_open_checked(const char *what, const char *path, const char *hint,
		      uint64_t max, size_t *size);

/* Reads exactly @size bytes of @fd from offset 0 into @buf. 0, or -1 with err_msg(). */
int file_read_into(int fd, const char *what, const char *path, void *buf, size_t size);

/*
 * The last component of symbolic link @path's target, as sysfs names a
 * device's driver or IOMMU group ("../../bus/pci/drivers/nvme" gives
 * "nvme"), into @buf. 0, or -1 with errno set (ENAMETOOLONG when it does
 * not fit in @len bytes).
 */
int file_link_name(const char *path, char *buf, size_t len);

#endif
