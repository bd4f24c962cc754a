// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"

#include "lib/err.h"
#include "vmm/config.h"


static void loads_every_key(void **state)
{
	struct vm_config cfg;
	char expect[300];
	const char *path = test_put_file(test_dir, "full.json",
		"{ \"name\": \"db\", \"kernel\": \"bzImage\", \"initrd\": \"/abs/initrd\",\n"
		"  \"cmdline\": \"console=ttyS0\", \"cpus\": 2, \"memory\": \"3584M\",\n"
		"  \"slice\": \"s0\", \"pvh\": true,\n"
		"  \"disks\": [\"root.img\", {\"path\": \"/abs/d.img\", \"readonly\": true}],\n"
		"  \"nets\": [\"tap=tap0\", {\"tap\": \"tap1\", \"vhost\": false}] }\n");

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, path), 0);
	snprintf(expect, sizeof(expect), "%s/bzImage", test_dir);
	assert_string_equal(cfg.kernel, expect);	/* relative to the file */
	assert_string_equal(cfg.initrd, "/abs/initrd");
	assert_string_equal(cfg.name, "db");
	assert_string_equal(cfg.cmdline, "console=ttyS0");
	assert_string_equal(cfg.slice, "s0");
	assert_int_equal(cfg.cpus, 2);
	assert_int_equal(cfg.memory, 3584ULL << 20);
	assert_true(cfg.pvh);
	assert_int_equal(cfg.ndisks, 2);
	snprintf(expect, sizeof(expect), "%s/root.img", test_dir);
	assert_string_equal(cfg.disks[0].path, expect);
	assert_string_equal(cfg.disks[1].path, "/abs/d.img");
	assert_true(cfg.disks[1].readonly);
	assert_int_equal(cfg.nnets, 2);
	assert_string_equal(cfg.nets[0].tap, "tap0");	/* a name, not a path */
	assert_int_equal(cfg.nets[0].vhost, -1);
	assert_string_equal(cfg.nets[1].tap, "tap1");
	assert_int_equal(cfg.nets[1].vhost, 0);
	assert_int_equal(config_finish(&cfg), 0);
	config_free(&cfg);
}

/* A number without a unit is MiB (as QEMU's -m); messages name the key and file. */
static void memory_as_mib(void **state)
{
	struct vm_config cfg;
	const char *path;

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "mib.json",
		"{\"kernel\": \"/k\", \"memory\": 2048}")), 0);
	assert_int_equal(cfg.memory, 2048ULL << 20);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "mibs.json",
		"{\"kernel\": \"/k\", \"memory\": \"256\"}")), 0);
	assert_int_equal(cfg.memory, 256ULL << 20);
	config_free(&cfg);

	config_init(&cfg);
	path = test_put_file(test_dir, "small.json", "{\"kernel\": \"/k\", \"memory\": 16}");
	assert_int_equal(config_load(&cfg, path), 0);
	assert_int_equal(config_finish(&cfg), -1);
	assert_non_null(strstr(err_msg(), "\"memory\" in VM config "));
	assert_non_null(strstr(err_msg(), "small.json of 16M is too small: give \"memory\": \"32M\" or more"));
	config_free(&cfg);

	config_init(&cfg);
	path = test_put_file(test_dir, "frac.json", "{\"kernel\": \"/k\", \"memory\": \"1.5G\"}");
	assert_int_equal(config_load(&cfg, path), -1);
	assert_non_null(strstr(err_msg(), "\"memory\": size '1.5G' has a fraction"));
	config_free(&cfg);
}

static void defaults(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	config_set_str(&cfg.kernel, "/k");
	assert_int_equal(config_finish(&cfg), 0);
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.memory, VM_DEFAULT_MEMORY);
	assert_string_equal(cfg.cmdline, VM_DEFAULT_CMDLINE);
	/* the VMM names it (the slice's name, or vm-PID) when it takes the name */
	assert_null(cfg.name);
	config_free(&cfg);
	config_init(&cfg);
	config_set_str(&cfg.kernel, "/k");
	config_set_str(&cfg.name, "bad/name");
	assert_int_equal(config_finish(&cfg), -1);
	assert_non_null(strstr(err_msg(), "VM name 'bad/name' has '/'"));
	config_free(&cfg);
}

static void expect_load_error(const char *text, const char *needle)
{
	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "bad.json", text)), -1);
	if (!strstr(err_msg(), needle))
		fail_msg("error '%s' lacks '%s'", err_msg(), needle);
	assert_null(strchr(err_msg(), '\n'));
	config_free(&cfg);
}

static void refuses_bad_files(void **state)
{
	expect_load_error("{\"kernel\": \"k\", \"colour\": 1}", "unknown key \"colour\"");
	expect_load_error("{\"kernel\": \"k\",\n  \"cpus\": 2,,\n}", "bad.json:2:");
	expect_load_error("", "is empty");
	expect_load_error(" \n\t\n", "has no JSON in it");
	expect_load_error("\xef\xbb\xbf{}", "byte-order mark");
	expect_load_error("{\"kernel\": \"/boot/k\\u0000x\"}", "contains a NUL character");
	expect_load_error("{\"cpus\": 2} garbage", "bad.json:1:13:");
	expect_load_error("{\"cpus\": 2}{\"memory\": \"1G\"}", "bad.json:1:12:");
	expect_load_error("[1, 2]", "must be a JSON object");
	expect_load_error("{\"cpus\": \"two\"}", "\"cpus\" must be a whole number");
	expect_load_error("{\"memory\": \"lots\"}", "\"memory\"");
	expect_load_error("{\"memory\": -5}", "negative");
	expect_load_error("{\"kernel\": 5}", "\"kernel\" must be a string");
	expect_load_error("{\"pvh\": 1}", "true or false");
	expect_load_error("{\"cpus\": 0}", "cpus must be at least 1");
	expect_load_error("{\"cpus\": 5000000}", "cpus 5000000 is more than slicevm supports");

	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, "/nonexistent/vm.json"), -1);
	assert_non_null(strstr(err_msg(), "/nonexistent/vm.json"));
	config_free(&cfg);
}

static void expect_finish_error(int cpus, uint64_t memory, const char *kernel,
				const char *needle)
{
	struct vm_config cfg;

	config_init(&cfg);
	config_set_str(&cfg.kernel, kernel);
	cfg.cpus = cpus;
	cfg.cpus_set = true;
	cfg.memory = memory;
	cfg.memory_set = true;
	assert_int_equal(config_finish(&cfg), -1);
	if (!strstr(err_msg(), needle))
		fail_msg("error '%s' lacks '%s'", err_msg(), needle);
	config_free(&cfg);
}

static void refuses_bad_values(void **state)
{
	expect_finish_error(0, 512 << 20, "/k", "cpus must be at least 1");
	expect_finish_error(-1, 512 << 20, "/k", "cpus must be at least 1");
	expect_finish_error(VM_MAX_CPUS + 1, 512 << 20, "/k", "more than slicevm supports");
	expect_finish_error(1, 0, "/k", "--memory of 0 is too small: give --memory 32M or more");
	expect_finish_error(1, 1 << 20, "/k", "--memory of 1M is too small");
	expect_finish_error(1, (512 << 20) + 1, "/k", "not a whole number of 4K pages");
	expect_finish_error(1, 512 << 20, NULL, "no kernel given");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_every_key),
		cmocka_unit_test(memory_as_mib),
		cmocka_unit_test(defaults),
		cmocka_unit_test(refuses_bad_files),
		cmocka_unit_test(refuses_bad_values),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
