// SPDX-License-Identifier: GPL-2.0
/*
 * memhog: take memory 4 MiB at a time, touching every page, until the
 * kernel's OOM killer ends it (or MAX_MIB is reached). The critical-VM
 * lab case drives L1 into the OOM killer with it; one big allocation
 * would only fail (overcommit refuses it) without any memory pressure.
 *
 *   memhog [MAX_MIB]
 */
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	long max = argc > 1 ? atol(argv[1]) : 1L << 20;

	for (long mib = 0; mib < max; mib += 4) {
		char *p = malloc(4 << 20);

		if (!p)
			return 1;
		memset(p, 0x5a, 4 << 20);
	}
	return 0;
}
