// SPDX-License-Identifier: GPL-2.0
/*
 * Passed-through PCI functions in the VM config: --device ADDR and
 * "devices" in VM.json. Only the syntax and the limits: whether the slice
 * holds them is the VMM's to check (vm_vfio.c).
 */
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
#include "configtest.h"

#include "lib/err.h"
#include "vmm/config.h"

_Static_assert(VM_MAX_DEVICES == 16, "the tests' limit");

static void expect_add_error(const char *addr, const char *needle)
{
	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(config_add_device(&cfg, "0000:01:00.0"), 0);
	err_clear();
	assert_int_equal(config_add_device(&cfg, addr), -1);
	if (!strstr(err_msg(), needle))
		fail_msg("adding '%s': error '%s' lacks '%s'", addr, err_msg(), needle);
	assert_int_equal(cfg.ndevices, 1);	/* nothing half added */
	config_free(&cfg);
}

static void option_normalized(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(cfg.ndevices, 0);
	assert_int_equal(config_add_device(&cfg, "03:00.0"), 0);
	assert_int_equal(config_add_device(&cfg, "0000:03:00.1"), 0);
	assert_int_equal(config_add_device(&cfg, "0001:AF:1f.7"), 0);
	assert_int_equal(config_add_device(&cfg, "4:2.3"), 0);
	assert_int_equal(cfg.ndevices, 4);
	assert_string_equal(cfg.devices[0], "0000:03:00.0");
	assert_string_equal(cfg.devices[1], "0000:03:00.1");
	assert_string_equal(cfg.devices[2], "0001:af:1f.7");
	assert_string_equal(cfg.devices[3], "0000:04:02.3");
	config_free(&cfg);
}

static void option_not_an_address(void **state)
{
	static const char *const bad[] = {
		"", "03", "03:00", "03:00.", "03:00.8", "03:20.0", "100:00.0", "10000:03:00.0",
		"0000:03:00.0x", "0000:03:00.0 ", " 03:00.0", "03.00.0", "0:0:03:00.0",
		"g3:00.0", "nvme0",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_add_error(bad[i], "is not a PCI address: give one like 0000:03:00.0");
}

static void option_twice(void **state)
{
	/* the same function however written */
	expect_add_error("0000:01:00.0", "PCI device 0000:01:00.0 is given twice");
	expect_add_error("01:00.0", "PCI device 0000:01:00.0 is given twice");
	expect_add_error("1:0.0", "given twice: give each device once");
}

static void option_too_many(void **state)
{
	struct vm_config cfg;
	char addr[32];

	config_init(&cfg);
	for (int i = 0; i < VM_MAX_DEVICES; i++) {
		snprintf(addr, sizeof(addr), "%02x:00.0", i + 1);
		assert_int_equal(config_add_device(&cfg, addr), 0);
	}
	assert_int_equal(cfg.ndevices, VM_MAX_DEVICES);
	assert_int_equal(config_add_device(&cfg, "0000:40:00.0"), -1);
	expect_error_has("too many devices: a VM passes through at most 16");
	assert_int_equal(cfg.ndevices, VM_MAX_DEVICES);
	/* a repeat is a repeat even when full */
	assert_int_equal(config_add_device(&cfg, "01:00.0"), -1);
	expect_error_has("given twice");
	config_free(&cfg);
}

static void load_devices(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm.json",
		"{\"devices\": [\"03:00.0\", \"0000:03:00.1\"]}")), 0);
	assert_int_equal(cfg.ndevices, 2);
	assert_string_equal(cfg.devices[0], "0000:03:00.0");
	assert_string_equal(cfg.devices[1], "0000:03:00.1");
	/* a later file's list replaces it */
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm2.json",
		"{\"devices\": [\"0000:81:00.0\"]}")), 0);
	assert_int_equal(cfg.ndevices, 1);
	assert_string_equal(cfg.devices[0], "0000:81:00.0");
	/* loading the same list twice is no repeat */
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm2.json",
		"{\"devices\": [\"0000:81:00.0\"]}")), 0);
	assert_int_equal(cfg.ndevices, 1);
	/* a file without the key keeps it; an empty list clears it */
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm3.json",
		"{\"cpus\": 2}")), 0);
	assert_int_equal(cfg.ndevices, 1);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm4.json",
		"{\"devices\": []}")), 0);
	assert_int_equal(cfg.ndevices, 0);
	config_free(&cfg);
}

static void load_errors(void **state)
{
	expect_load_error("{\"devices\": \"03:00.0\"}", "an array, like [\"0000:03:00.0\"]");
	expect_load_error("{\"devices\": [3]}",
			  "\"devices\"[0] must be a PCI address like \"0000:03:00.0\"");
	expect_load_error("{\"devices\": [\"03:00.0\", {\"addr\": \"03:00.1\"}]}",
			  "\"devices\"[1] must be a PCI address");
	expect_load_error("{\"devices\": [\"03:00.0\", null]}", "\"devices\"[1] must be");
	expect_load_error("{\"devices\": [\"03:00.0\\u0000\"]}", "\"devices\"[0] must be");
	expect_load_error("{\"devices\": [\"03:00.0\", \"nvme0\"]}",
			  "\"devices\"[1]: 'nvme0' is not a PCI address");
	expect_load_error("{\"devices\": [\"03:00.0\", \"0000:03:00.0\"]}",
			  "\"devices\"[1]: PCI device 0000:03:00.0 is given twice");
}

static void load_too_many(void **state)
{
	struct vm_config cfg;
	char text[1024], *p = text;

	p += sprintf(p, "{\"devices\": [");
	for (int i = 0; i < VM_MAX_DEVICES + 1; i++)
		p += sprintf(p, "%s\"%02x:00.0\"", i ? ", " : "", i + 1);
	sprintf(p, "]}");
	expect_load_error(text, "\"devices\"[16]: too many devices");

	p = strrchr(text, ',');		/* the last one out: as many as fit */
	strcpy(p, "]}");
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "full.json", text)), 0);
	assert_int_equal(cfg.ndevices, VM_MAX_DEVICES);
	assert_string_equal(cfg.devices[15], "0000:10:00.0");
	config_free(&cfg);
}

static void finish_needs_slice(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	config_set_str(&cfg.kernel, "/k");
	assert_int_equal(config_add_device(&cfg, "03:00.0"), 0);
	err_clear();
	assert_int_equal(config_finish(&cfg), -1);
	expect_error_has("a passed-through device needs a slice");
	expect_error_has("--slice NAME");
	expect_error_has("0000:03:00.0");
	config_set_str(&cfg.slice, "db");
	assert_int_equal(config_finish(&cfg), 0);
	config_free(&cfg);

	/* no devices: no slice needed */
	config_init(&cfg);
	config_set_str(&cfg.kernel, "/k");
	assert_int_equal(config_finish(&cfg), 0);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(option_normalized),
		cmocka_unit_test(option_not_an_address),
		cmocka_unit_test(option_twice),
		cmocka_unit_test(option_too_many),
		cmocka_unit_test(load_devices),
		cmocka_unit_test(load_errors),
		cmocka_unit_test(load_too_many),
		cmocka_unit_test(finish_needs_slice),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
