// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/err.h"
#include "lib/size.h"

static int suffix_shift(const char *suffix)
{
	static const char units[] = "KMGT";
	const char *unit;

	if (!*suffix)
		return 0;
	unit = strchr(units, toupper((unsigned char)*suffix));
	if (!unit)
		return -1;
	suffix++;
	if (!strcasecmp(suffix, "") || !strcasecmp(suffix, "B") ||
	    !strcasecmp(suffix, "iB"))
		return 10 * (int)(unit - units + 1);
	return -1;
}

int size_parse(const char *str, uint64_t *bytes)
{
	unsigned long long value;
	char *end;
	int shift;

	if (!str || !isdigit((unsigned char)*str))
		return err_set("size '%s' is not a number: write it like 512M or 4G",
			       str ? str : "");
	errno = 0;
	value = strtoull(str, &end, 10);
	shift = suffix_shift(end);
	if (shift < 0)
		return err_set("size '%s' has an unknown unit: use K, M, G or T", str);
	if (errno == ERANGE || (shift && value > (UINT64_MAX >> shift)))
		return err_set("size '%s' is too large", str);
	*bytes = (uint64_t)value << shift;
	return 0;
}

char *size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "TGMK";
	int i;

	for (i = 0; i < 4; i++) {
		int shift = 10 * (4 - i);

		if (bytes && !(bytes & ((1ULL << shift) - 1))) {
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(bytes >> shift), units[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
	return buf;
}
