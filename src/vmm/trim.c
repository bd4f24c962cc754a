// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vmm/trim.h"

struct mapping {
	uintptr_t start, end;
	char perms[5];
	unsigned long inode;
	bool own_pages;		/* copy-on-write pages, in RAM or in swap */
	bool special;		/* hugetlb, locked, PFN or I/O mapping */
};

/*
 * Only read-only private file mappings with no page of their own: code,
 * constants, symbol tables. Their pages are the page cache's, so dropping
 * them loses nothing. A mapping with copy-on-write pages anywhere (relocated
 * RELRO data, even swapped out), anything writable or special, and every
 * anonymous mapping (guest RAM, heap, stacks) is left alone.
 */
static bool droppable(const struct mapping *m)
{
	return m->end > m->start && m->inode && m->perms[1] != 'w' &&
	       m->perms[3] == 'p' && !m->own_pages && !m->special;
}

/* Reads one "Name: N kB" or "VmFlags: ..." line into the current mapping. */
static void read_field(struct mapping *m, const char *line)
{
	static const char *const own[] = { "Anonymous:", "Swap:", "Private_Hugetlb:" };
	static const char *const flags[] = { " ht", " lo", " pf", " io" };
	unsigned long kb;

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strncmp(line, own[i], strlen(own[i])) &&
		    sscanf(line + strlen(own[i]), "%lu", &kb) == 1 && kb)
			m->own_pages = true;
	if (!strncmp(line, "VmFlags:", 8))
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (strstr(line + 7, flags[i]))
				m->special = true;
}

void vmm_trim_resident(void)
{
	FILE *smaps = fopen("/proc/self/smaps", "re");
	struct mapping m = { .start = 0 };
	char *line = NULL;
	size_t cap = 0;

	if (!smaps)
		return;		/* an optimisation only: nothing to report */
	/* getline(): a long path must not split a line and desync the fields. */
	while (getline(&line, &cap, smaps) > 0) {
		struct mapping next = { .start = 0 };

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s %*x %*s %lu",
			   &next.start, &next.end, next.perms, &next.inode) != 4) {
			read_field(&m, line);
			continue;
		}
		/* A new mapping starts: the previous one is complete. */
		if (droppable(&m))
			madvise((void *)m.start, m.end - m.start, MADV_DONTNEED);
		m = next;
	}
	if (droppable(&m))
		madvise((void *)m.start, m.end - m.start, MADV_DONTNEED);
	free(line);
	fclose(smaps);
	malloc_trim(0);
}
