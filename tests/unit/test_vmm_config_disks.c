// SPDX-License-Identifier: GPL-2.0
/*
 * Disks in the VM config: --disk PATH[,readonly=on][,serial=S] and "disks"
 * in VM.json (the same strings, or objects). Only the syntax: the images
 * are the device's to open.
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

_Static_assert(VM_PCI_SLOTS == 31, "bus 0 has slots 1..31 for devices");
_Static_assert(VM_MAX_DISKS == 30, "one PCI slot is kept for virtio-rng");

static void expect_disk(const struct vm_config *cfg, int i, const char *path,
			bool readonly, const char *serial)
{
	assert_true(i < cfg->ndisks);
	assert_string_equal(cfg->disks[i].path, path);
	assert_int_equal(cfg->disks[i].readonly, readonly);
	if (serial)
		assert_string_equal(cfg->disks[i].serial, serial);
	else
		assert_null(cfg->disks[i].serial);
}

static void option_forms(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(cfg.ndisks, 0);
	assert_int_equal(config_add_disk_option(&cfg, "root.img"), 0);
	assert_int_equal(config_add_disk_option(&cfg, "/srv/data.img,readonly=on"), 0);
	assert_int_equal(config_add_disk_option(&cfg, "rel/scratch.img,serial=SCRATCH-01 b"), 0);
	assert_int_equal(config_add_disk_option(&cfg, "x.img,serial=12345678901234567890,readonly=off"), 0);
	assert_int_equal(config_add_disk_option(&cfg, "y.img,readonly=on,serial=a=b"), 0);
	assert_int_equal(cfg.ndisks, 5);
	expect_disk(&cfg, 0, "root.img", false, NULL);
	expect_disk(&cfg, 1, "/srv/data.img", true, NULL);
	/* the command line's relative paths are the working directory's, as given */
	expect_disk(&cfg, 2, "rel/scratch.img", false, "SCRATCH-01 b");
	expect_disk(&cfg, 3, "x.img", false, "12345678901234567890");
	expect_disk(&cfg, 4, "y.img", true, "a=b");
	config_free(&cfg);
	assert_int_equal(cfg.ndisks, 0);
	assert_null(cfg.disks[0].path);
}

static void expect_option_error(const char *spec, const char *needle)
{
	expect_list_option_error(&disk_list, spec, needle);
}

static void option_errors(void **state)
{
	expect_option_error("a.img,foo=1",
			    "unknown key 'foo': use readonly=on or serial=S");
	expect_option_error("", "the image path is empty");
	expect_option_error(",readonly=on", "the image path is empty: give it first");
	expect_option_error("a.img,readonly=on,readonly=off",
			    "readonly is given twice: give it once");
	expect_option_error("a.img,serial=a,serial=b", "serial is given twice");
	expect_option_error("a.img,readonly=yes",
			    "readonly=yes is neither on nor off: use readonly=on or readonly=off");
	expect_option_error("a.img,readonly=true", "use readonly=on or readonly=off");
	expect_option_error("a.img,readonly=", "use readonly=on or readonly=off");
	expect_option_error("a.img,readonly",
			    "'readonly' needs a value: use readonly=on or readonly=off");
	expect_option_error("a.img,serial", "'serial' needs a value: use serial=S");
	expect_option_error("a.img,ro", "'ro' is not KEY=VALUE: use readonly=on or serial=S");
	expect_option_error("a.img,serial=ab,cd", "(a serial cannot contain ',')");
	expect_option_error("a.img,", "an empty option (an extra ','): remove it");
	expect_option_error("a.img,,readonly=on", "an empty option");
	expect_option_error("a.img,=on", "'=on' has no key");
	expect_option_error("a.img,serial=", "the serial is empty");
	expect_option_error("a.img,serial=123456789012345678901",
			    "is 21 bytes, more than virtio-blk's 20: give a shorter one");
	expect_option_error("a.img,serial=tab\there", "serial has byte 0x09 at offset 3");
	expect_option_error("a.img,serial=caf\xc3\xa9", "serial has byte 0xc3");
}

static void option_limit(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	fill_by_option(&disk_list, &cfg, "d");
	expect_disk(&cfg, 29, "/d29", false, NULL);
	config_free(&cfg);
}

static void file_forms(void **state)
{
	struct vm_config cfg;
	char expect[300];
	const char *path = test_put_file(test_dir, "disks.json",
		"{ \"kernel\": \"/k\", \"disks\": [\n"
		"  \"root.img\",\n"
		"  \"/abs/data.img,readonly=on,serial=DATA\",\n"
		"  { \"path\": \"sub/log.img\" },\n"
		"  { \"path\": \"/abs/ro.img\", \"readonly\": true, \"serial\": \"RO 1\" },\n"
		"  { \"serial\": \"W\", \"readonly\": false, \"path\": \"w,with,commas.img\" }\n"
		"] }\n");

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, path), 0);
	assert_int_equal(cfg.ndisks, 5);
	/* relative paths are the file's, in both forms, like "kernel" */
	snprintf(expect, sizeof(expect), "%s/root.img", test_dir);
	expect_disk(&cfg, 0, expect, false, NULL);
	expect_disk(&cfg, 1, "/abs/data.img", true, "DATA");
	snprintf(expect, sizeof(expect), "%s/sub/log.img", test_dir);
	expect_disk(&cfg, 2, expect, false, NULL);
	expect_disk(&cfg, 3, "/abs/ro.img", true, "RO 1");
	/* the object form's path may hold commas */
	snprintf(expect, sizeof(expect), "%s/w,with,commas.img", test_dir);
	expect_disk(&cfg, 4, expect, false, "W");
	assert_int_equal(config_finish(&cfg), 0);
	config_free(&cfg);
}

/* A second file replaces the first one's disks, as it does every field. */
static void file_replaces_disks(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	load_replacing(&disk_list, &cfg, "{\"disks\": [\"/a1\", \"/a2\"]}",
		       "{\"disks\": [\"/b1\"]}");
	expect_disk(&cfg, 0, "/b1", false, NULL);
	config_free(&cfg);
}

static void file_errors(void **state)
{
	expect_load_error("{\"disks\": \"a.img\"}", "\"disks\" must be an array");
	expect_load_error("{\"disks\": {\"path\": \"a.img\"}}", "\"disks\" must be an array");
	expect_load_error("{\"disks\": [\"a.img\", 5]}",
			  "\"disks\"[1] must be a string like \"disk.img,readonly=on\" or an object with \"path\"");
	expect_load_error("{\"disks\": [null]}", "\"disks\"[0] must be a string");
	expect_load_error("{\"disks\": [[\"a.img\"]]}", "\"disks\"[0] must be a string");
	/* the string form is --disk's, with the same messages */
	expect_load_error("{\"disks\": [\"a.img\", \"b.img,foo=1\"]}",
			  "\"disks\"[1] \"b.img,foo=1\": unknown key 'foo': use readonly=on or serial=S");
	expect_load_error("{\"disks\": [\"\"]}", "\"disks\"[0] \"\": the image path is empty");
	expect_load_error("{\"disks\": [\"a.img,readonly=on,readonly=on\"]}", "given twice");
	expect_load_error("{\"disks\": [\"a.img,readonly\"]}", "'readonly' needs a value");
	expect_load_error("{\"disks\": [\"a.img\\u0000,readonly=on\"]}",
			  "\"disks\"[0] contains a NUL character");
	/* the object form: keys and types like the rest of the file */
	expect_load_error("{\"disks\": [{\"path\": \"a.img\", \"size\": 1}]}",
			  "\"disks\"[0]: unknown key \"size\": the keys are path, readonly, serial");
	expect_load_error("{\"disks\": [{\"readonly\": true}]}",
			  "\"disks\"[0] has no \"path\": give the disk image file");
	expect_load_error("{\"disks\": [{\"path\": 5}]}", "\"disks\"[0]: \"path\" must be a string");
	expect_load_error("{\"disks\": [{\"path\": \"a\", \"serial\": 7}]}",
			  "\"disks\"[0]: \"serial\" must be a string");
	expect_load_error("{\"disks\": [{\"path\": \"a\", \"readonly\": \"on\"}]}",
			  "\"disks\"[0]: \"readonly\" must be true or false");
	expect_load_error("{\"disks\": [{\"path\": \"a\", \"readonly\": 1}]}",
			  "\"readonly\" must be true or false");
	expect_load_error("{\"disks\": [{\"path\": \"\"}]}",
			  "\"disks\"[0]: the image path is empty");
	expect_load_error("{\"disks\": [{\"path\": \"a\", \"serial\": \"\"}]}",
			  "the serial is empty");
	expect_load_error("{\"disks\": [{\"path\": \"a\", \"serial\": \"x,y\"}]}",
			  "serial 'x,y' has a ','");
	expect_load_error("{\"disks\": [{\"path\": \"a\", \"serial\": \"123456789012345678901\"}]}",
			  "is 21 bytes, more than virtio-blk's 20");
	expect_load_error("{\"disks\": [{\"path\": \"a\\u0000b\"}]}",
			  "\"disks\"[0]: \"path\" contains a NUL character");
	expect_load_error("{\"disks\": [], \"disk\": []}", "unknown key \"disk\"");
}

/* Strict JSON holds inside "disks" too. */
static void file_duplicate_key(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "dup.json",
		"{\"disks\": [{\"path\": \"a\", \"path\": \"b\"}]}")), -1);
	assert_non_null(strstr(err_msg(), "dup.json:1:26: key \"path\" is given twice"));
	config_free(&cfg);
}

static void file_limit(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	load_full_list(&disk_list, &cfg, "d");
	expect_disk(&cfg, 29, "/d29", false, NULL);
	config_free(&cfg);
}

/* `slicevm run vm.json --disk ...`: the file's disks first, then the command line's. */
static void file_then_command_line(void **state)
{
	struct vm_config cfg, cli;

	config_init(&cfg);
	config_init(&cli);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "two.json",
		"{\"kernel\": \"/k\", \"disks\": [\"/f1\", {\"path\": \"/f2\", \"serial\": \"F2\"}]}")), 0);
	assert_int_equal(config_add_disk_option(&cli, "c1.img,readonly=on"), 0);
	assert_int_equal(config_add_disk_option(&cli, "c2.img,serial=C2"), 0);
	assert_int_equal(config_append_disks(&cfg, &cli), 0);
	assert_int_equal(cfg.ndisks, 4);
	expect_disk(&cfg, 0, "/f1", false, NULL);
	expect_disk(&cfg, 1, "/f2", false, "F2");
	expect_disk(&cfg, 2, "c1.img", true, NULL);
	expect_disk(&cfg, 3, "c2.img", false, "C2");
	/* copies: the command line's config is freed on its own */
	config_free(&cli);
	expect_disk(&cfg, 3, "c2.img", false, "C2");
	assert_int_equal(config_finish(&cfg), 0);
	config_free(&cfg);

	/* past the limit: how many --disk the file leaves room for */
	expect_append_limits(&disk_list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(option_forms),
		cmocka_unit_test(option_errors),
		cmocka_unit_test(option_limit),
		cmocka_unit_test(file_forms),
		cmocka_unit_test(file_replaces_disks),
		cmocka_unit_test(file_errors),
		cmocka_unit_test(file_duplicate_key),
		cmocka_unit_test(file_limit),
		cmocka_unit_test(file_then_command_line),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
