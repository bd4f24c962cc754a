// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/trim.h"

struct mapping {
	uintptr_t start, end;
	char perms[5];
	unsigned long inode;
	unsigned long anon_kb;	/* copy-on-write pages: the mapping's own data */
};

/*
 * Only read-only private file mappings with no page of their own: code,
 * constants, symbol tables. Their pages are the page cache's, so dropping
 * them loses nothing. A mapping with copy-on-write pages (relocated RELRO
 * data), anything writable, and every anonymous mapping (guest RAM, heap,
 * stacks) is left alone.
 */
static bool droppable(const struct mapping *m)
{
	return m->inode && m->perms[1] != 'w' && m->perms[3] == 'p' && !m->anon_kb;
}

static void drop(const struct mapping *m)
{
	if (m->end > m->start && droppable(m))
		madvise((void *)m->start, m->end - m->start, MADV_DONTNEED);
}

void vmm_trim_resident(void)
{
	FILE *smaps = fopen("/proc/self/smaps", "re");
	struct mapping m = { .start = 0 };
	char line[512];

	if (!smaps)
		return;		/* an optimisation only: nothing to report */
	while (fgets(line, sizeof(line), smaps)) {
		struct mapping next = { .start = 0 };

		if (sscanf(line, "Anonymous: %lu kB", &next.anon_kb) == 1) {
			m.anon_kb = next.anon_kb;
			continue;
		}
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s %*x %*s %lu",
			   &next.start, &next.end, next.perms, &next.inode) != 4)
			continue;
		/* A new mapping starts: the previous one is complete. */
		drop(&m);
		m = next;
	}
	drop(&m);
	fclose(smaps);
	malloc_trim(0);
}
