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

/* db reserved (memmap), web reserved as pmem, two hugetlb slices per node and size. */
static void make_memory_plan(struct plan *p)
{
	make_plan(p);
	p->nslices = 5;
	p->slices[0].backing = BACKING_RESERVED;
	p->slices[0].memory = 256ULL << 20;
	p->slices[0].phys_start = 0x40000000;
	p->slices[1].backing = BACKING_RESERVED;
	p->slices[1].memory = 8ULL << 30;
	p->slices[1].phys_start = 0x100000000;
	p->slices[1].reserve_as = RESERVE_PMEM;
	for (int i = 2; i < 5; i++) {
		snprintf(p->slices[i].name, SLICE_NAME_MAX, "h%d", i);
		cpumask_parse_list(i == 2 ? "8" : i == 3 ? "9" : "10", &p->slices[i].cpus);
		p->slices[i].backing = BACKING_HUGETLB;
		p->slices[i].node = i == 3 ? 1 : 0;
	}
	p->slices[2].memory = 4ULL << 30;
	p->slices[3].memory = 2ULL << 30;
	p->slices[4].memory = 1026ULL << 20;
}

static void test_memory_params(void **state)
{
	struct plan p;
	char buf[1024];
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	make_memory_plan(&p);
	assert_int_equal(bootargs_format(&p, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, " irqaffinity=0,16 memmap=256M$0x40000000 "
			       "memmap=8G!0x100000000 hugepagesz=1G hugepages=0:4,1:2 "
			       "hugepagesz=2M hugepages=0:513"));
	out = open_memstream(&text, &len);
	assert_int_equal(bootargs_print(&p, out), 0);
	fclose(out);
	assert_non_null(strstr(text, "# memmap=SIZE$START (slice db, node 0): the kernel never "
			       "uses 0x40000000-0x4fffffff;"));
	assert_non_null(strstr(text, "# memmap=SIZE!START (slice web, node 0)"));
	assert_non_null(strstr(text, "write each '$' as '\\\\\\$'"));
	assert_non_null(strstr(text, "# hugepagesz=SIZE hugepages=NODE:COUNT"));
	free(text);

	/* a range not chosen yet (planned for another machine) */
	p.slices[0].phys_start = 0;
	assert_int_equal(bootargs_format(&p, buf, sizeof(buf)), -1);
	assert_non_null(strstr(err_msg(), "slice db's physical range is not chosen yet"));
}

/*
 * The drop-in, sourced by a shell as grub-mkconfig does, gives the value
 * that 10_linux copies verbatim into grub.cfg: there each '$' must be "\$"
 * so that GRUB's script parser passes a plain '$' to the kernel.
 */
static void test_grub_dropin_dollar(void **state)
{
	char dir[] = "/tmp/slicevm-bootargs-XXXXXX", path[64], cmd[256], got[1024];
	struct plan p;
	FILE *sh;
	size_t n;

	(void)state;
	make_memory_plan(&p);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/slicevm.cfg", dir);
	if (bootargs_write_grub_dropin(&p, path))
		fail_msg("drop-in: %s", err_msg());
	snprintf(cmd, sizeof(cmd), "GRUB_CMDLINE_LINUX=quiet; . '%s'; "
		 "printf '%%s' \"$GRUB_CMDLINE_LINUX\"", path);
	sh = popen(cmd, "r");
	assert_non_null(sh);
	n = fread(got, 1, sizeof(got) - 1, sh);
	got[n] = '\0';
	assert_int_equal(pclose(sh), 0);
	if (!strstr(got, "quiet isolcpus=managed_irq,") ||
	    !strstr(got, " memmap=256M\\$0x40000000 memmap=8G!0x100000000 hugepagesz=1G"))
		fail_msg("the shell gives GRUB_CMDLINE_LINUX='%s'", got);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_grub_dropin),
		cmocka_unit_test(test_memory_params),
		cmocka_unit_test(test_grub_dropin_dollar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
