// SPDX-License-Identifier: GPL-2.0
/*
 * daxpeek: print the 32-bit word at host-physical ADDR of a device-dax
 * instance, as 0xXXXXXXXX. A pmem range claimed by device-dax cannot be
 * read through /dev/mem; device-dax has no read(2), only mmap.
 *
 *   daxpeek /dev/daxN.M RESOURCE ADDR     (RESOURCE: the device's physical start)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALIGN	(2UL << 20)

int main(int argc, char **argv)
{
	unsigned long base, addr, off;
	volatile uint32_t *w;
	uint8_t *p;
	int fd;

	if (argc != 4)
		return 2;
	base = strtoul(argv[2], NULL, 0);
	addr = strtoul(argv[3], NULL, 0);
	if (addr < base)
		return 2;
	off = (addr - base) & ~(ALIGN - 1);
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	p = mmap(NULL, ALIGN, PROT_READ, MAP_SHARED, fd, (off_t)off);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	w = (volatile uint32_t *)(p + (addr - base - off));
	printf("0x%08X\n", *w);
	return 0;
}
