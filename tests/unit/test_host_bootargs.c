// SPDX-License-Identifier: GPL-2.0
/* Boot parameters for a plan, on stdout and as a GRUB drop-in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/bootargs.h"
#include "lib/err.h"

static void make_plan(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	cpumask_parse_list("0,16", &p->housekeeping);
	p->nslices = 2;
	snprintf(p->slices[0].name, SLICE_NAME_MAX, "db");
	cpumask_parse_list("1-3,17-19", &p->slices[0].cpus);
	snprintf(p->slices[1].name, SLICE_NAME_MAX, "web");
	cpumask_parse_list("4-7,20-23", &p->slices[1].cpus);
}

static void test_format(void **state)
{
	struct plan p;
	char buf[512], tiny[16];

	(void)state;
	make_plan(&p);
	assert_int_equal(bootargs_format(&p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "isolcpus=managed_irq,1-7,17-23 nohz_full=1-7,17-23 "
				 "rcu_nocbs=1-7,17-23 irqaffinity=0,16");
	assert_int_equal(bootargs_format(&p, tiny, sizeof(tiny)), -1);
	p.nslices = 0;
	assert_int_equal(bootargs_format(&p, buf, sizeof(buf)), -1);
}

static void test_print(void **state)
{
	struct plan p;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	make_plan(&p);
	assert_int_equal(bootargs_print(&p, out), 0);
	fclose(out);
	/* Every parameter has its reason; the last line is the parameters alone. */
	assert_non_null(strstr(text, "(db, web)"));
	assert_non_null(strstr(text, "# Not isolcpus=domain:"));
	assert_non_null(strstr(text, "# isolcpus=managed_irq:"));
	assert_non_null(strstr(text, "# nohz_full:"));
	assert_non_null(strstr(text, "# rcu_nocbs:"));
	assert_non_null(strstr(text, "# irqaffinity:"));
	assert_non_null(strstr(text, "\nisolcpus=managed_irq,1-7,17-23 nohz_full="));
	assert_int_equal(text[len - 1], '\n');
	free(text);
}

static void test_grub_dropin(void **state)
{
	char dir[] = "/tmp/slicevm-bootargs-XXXXXX", path[64], buf[4096];
	struct plan p;
	struct stat sb;
	size_t n;
	FILE *f;

	(void)state;
	make_plan(&p);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/slicevm.cfg", dir);
	if (bootargs_write_grub_dropin(&p, path))
		fail_msg("drop-in: %s", err_msg());
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX isolcpus=managed_irq,"
				    "1-7,17-23 nohz_full=1-7,17-23 rcu_nocbs=1-7,17-23 "
				    "irqaffinity=0,16\"\n"));
	/* Only comments and the one assignment: grub's shell must accept it. */
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(line[0] == '#' || !strncmp(line, "GRUB_CMDLINE_LINUX=", 19));
	unlink(path);
	/* No temporary file left behind; a missing directory fails cleanly. */
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(bootargs_write_grub_dropin(&p, path), -1);
	assert_non_null(strstr(err_msg(), "cannot write the drop-in"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_grub_dropin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
