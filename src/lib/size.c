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

/* Says what is wrong with @str, whose number ends at @end, in the writer's terms. */
static int malformed(const char *str, const char *end)
{
	if (end[0] == '.' && isdigit((unsigned char)end[1]))
		return err_set("size '%s' has a fraction: write it in a smaller unit (1.5G is 1536M)",
			       str);
	if ((end[0] == 'x' || end[0] == 'X') && end == str + 1 && str[0] == '0')
		return err_set("size '%s' is hexadecimal: write it in decimal with a unit, like 512M or 4G",
			       str);
	return err_set("size '%s' has an unknown unit: use K, M, G or T", str);
}

int size_parse(const char *str, uint64_t *bytes)
{
	return size_parse_default(str, 0, bytes);
}

int size_parse_default(const char *str, int bare_shift, uint64_t *bytes)
{
	unsigned long long value;
	char *end;
	int shift;

	if (!str || !isdigit((unsigned char)*str))
		return err_set("size '%s' is not a number: write it like 512M or 4G",
			       str ? str : "");
	errno = 0;
	value = strtoull(str, &end, 10);
	shift = *end ? suffix_shift(end) : bare_shift;
	if (shift < 0)
		return malformed(str, end);
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
