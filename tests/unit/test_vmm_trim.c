// SPDX-License-Identifier: GPL-2.0
/* Trimming must never lose data: only clean file pages may be dropped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/trim.h"

#define PAGES 4

static int file_of(char ch, char *path)
{
	char page[4096];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	memset(page, ch, sizeof(page));
	for (int i = 0; i < PAGES; i++)
		assert_int_equal(write(fd, page, sizeof(page)), sizeof(page));
	return fd;
}

static void relocated_read_only_data_survives(void **state)
{
	char path[] = "/tmp/slicevm-trim-XXXXXX";
	int fd = file_of('f', path);
	size_t len = PAGES * 4096;
	char *relro, *rodata;

	/* Like RELRO: private file pages written (relocated), then read-only. */
	relro = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(relro != MAP_FAILED);
	memset(relro, 'r', len);
	assert_int_equal(mprotect(relro, len, PROT_READ), 0);
	/* Like .rodata: clean private file pages, read once. */
	rodata = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(rodata != MAP_FAILED);
	assert_int_equal(rodata[len - 1], 'f');

	vmm_trim_resident();

	for (size_t i = 0; i < len; i += 4096) {
		assert_int_equal(relro[i], 'r');
		assert_int_equal(rodata[i], 'f');
	}
	munmap(relro, len);
	munmap(rodata, len);
	close(fd);
	unlink(path);
}

static void code_still_runs(void **state)
{
	char buf[32];

	vmm_trim_resident();
	/* libc and this test's own text come back from the page cache. */
	snprintf(buf, sizeof(buf), "%d-%s", 42, "ok");
	assert_string_equal(buf, "42-ok");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(relocated_read_only_data_survives),
		cmocka_unit_test(code_still_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
