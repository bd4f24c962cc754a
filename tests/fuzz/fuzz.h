/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_TESTS_FUZZ_H
#define SLICEVM_TESTS_FUZZ_H

/*
 * What the libFuzzer harnesses in tests/fuzz/ share. Each harness is one
 * file fuzz_<name>.c with its seed corpus in tests/fuzz/corpus/<name>/;
 * `make fuzz` builds them into build/fuzz/ and runs them, `make check`
 * runs every corpus file once (tests/run.sh --fuzz).
 *
 * A harness reports a broken property with fuzz_fail(), which prints the
 * reason and aborts, so that libFuzzer saves the input as a crash.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static inline void __attribute__((noreturn, format(printf, 1, 2)))
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/*
 * A file the code under test can open by name: a memfd, reached through
 * /proc/self/fd. fuzz_file_set() replaces its contents with @data.
 */
struct fuzz_file {
	int fd;
	char path[64];
};

static inline void fuzz_file_init(struct fuzz_file *f, const char *name)
{
	f->fd = memfd_create(name, MFD_CLOEXEC);
	if (f->fd < 0)
		fuzz_fail("memfd_create: %s", strerror(errno));
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

static inline void fuzz_file_set(struct fuzz_file *f, const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (ftruncate(f->fd, 0))
		fuzz_fail("ftruncate: %s", strerror(errno));
	while (done < size) {
		ssize_t n = pwrite(f->fd, data + done, size - done, (off_t)done);

		if (n <= 0)
			fuzz_fail("pwrite: %s", strerror(errno));
		done += (size_t)n;
	}
}

/* A NUL-terminated copy of the input (free() it). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		fuzz_fail("out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
