// SPDX-License-Identifier: GPL-2.0
/*
 * Nets in the VM config: --net tap=NAME[,mac=MAC][,vhost=on|off] and "nets"
 * in VM.json (the same strings, or objects), and the PCI bus they share
 * with the disks. Only the syntax: the taps are the device's to open.
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

_Static_assert(VM_MAX_NETS == 8, "eth0 to eth7");
_Static_assert(VM_PCI_ROOM == 30, "bus 0 has 31 slots beside the host bridge, one is virtio-rng's");
_Static_assert(VM_NET_TAP_MAX == 15, "IFNAMSIZ with its NUL");

static const uint8_t NO_MAC[6];

/* @mac NULL: the default (not set); @vhost -1 auto, 0 off, 1 on */
static void expect_net(const struct vm_config *cfg, int i, const char *tap,
		       const uint8_t *mac, int vhost)
{
	assert_true(i < cfg->nnets);
	assert_string_equal(cfg->nets[i].tap, tap);
	assert_int_equal(cfg->nets[i].mac_set, mac != NULL);
	assert_memory_equal(cfg->nets[i].mac, mac ? mac : NO_MAC, 6);
	assert_int_equal(cfg->nets[i].vhost, vhost);
}

static void option_forms(void **state)
{
	static const uint8_t m1[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const uint8_t m3[6] = { 0x02, 0xab, 0xcd, 0xef, 0x01, 0x23 };
	static const uint8_t m4[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(cfg.nnets, 0);
	assert_int_equal(config_add_net_option(&cfg, "tap=tap0"), 0);
	assert_int_equal(config_add_net_option(&cfg, "tap=t1,mac=52:54:00:12:34:56"), 0);
	assert_int_equal(config_add_net_option(&cfg, "tap=t2,vhost=off"), 0);
	/* keys in any order, hex in either case */
	assert_int_equal(config_add_net_option(&cfg, "vhost=on,mac=02:AB:cd:Ef:01:23,tap=t3"), 0);
	assert_int_equal(config_add_net_option(&cfg, "tap=123456789012345,mac=fe:ff:ff:ff:ff:ff"), 0);
	/* what Linux takes: dots, dashes, '=', bytes above ASCII, "..." */
	assert_int_equal(config_add_net_option(&cfg, "tap=br-0.100"), 0);
	assert_int_equal(config_add_net_option(&cfg, "tap=a=b"), 0);
	assert_int_equal(config_add_net_option(&cfg, "tap=caf\xc3\xa9"), 0);
	assert_int_equal(cfg.nnets, 8);
	expect_net(&cfg, 0, "tap0", NULL, -1);
	expect_net(&cfg, 1, "t1", m1, -1);
	expect_net(&cfg, 2, "t2", NULL, 0);
	expect_net(&cfg, 3, "t3", m3, 1);
	expect_net(&cfg, 4, "123456789012345", m4, -1);
	expect_net(&cfg, 5, "br-0.100", NULL, -1);
	expect_net(&cfg, 6, "a=b", NULL, -1);
	expect_net(&cfg, 7, "caf\xc3\xa9", NULL, -1);
	assert_int_equal(config_check_pci_room(&cfg), 0);
	config_free(&cfg);
	assert_int_equal(cfg.nnets, 0);
	assert_null(cfg.nets[0].tap);

	config_init(&cfg);
	assert_int_equal(config_add_net_option(&cfg, "tap=..."), 0);
	expect_net(&cfg, 0, "...", NULL, -1);
	config_free(&cfg);
}

static void expect_option_error(const char *spec, const char *needle)
{
	expect_list_option_error(&net_list, spec, needle);
}

static void option_errors(void **state)
{
	/* the syntax */
	expect_option_error("", "nothing given: use tap=NAME[,mac=MAC][,vhost=on|off]");
	expect_option_error("tap0", "'tap0' is not KEY=VALUE: for the tap interface tap0, use tap=tap0");
	expect_option_error("tap=t0,ro", "'ro' is not KEY=VALUE: use tap=NAME, mac=MAC or vhost=on|off");
	expect_option_error("tap", "'tap' needs a value: use tap=NAME");
	expect_option_error("tap=t0,mac", "'mac' needs a value: use mac=52:54:00:12:34:56");
	expect_option_error("tap=t0,vhost", "'vhost' needs a value: use vhost=on or vhost=off");
	expect_option_error("tap=t0,=on", "'=on' has no key: use tap=NAME, mac=MAC or vhost=on|off");
	expect_option_error("tap=t0,ifname=t1", "unknown key 'ifname': use tap=NAME, mac=MAC or vhost=on|off");
	expect_option_error("tap=t0,", "an empty option (an extra ','): remove it");
	expect_option_error(",tap=t0", "an empty option");
	expect_option_error("tap=t0,,vhost=on", "an empty option");
	expect_option_error("tap=t0,tap=t1", "tap is given twice: give it once");
	expect_option_error("tap=t0,mac=52:54:00:12:34:56,mac=52:54:00:12:34:57",
			    "mac is given twice: give it once");
	expect_option_error("tap=t0,vhost=on,vhost=on", "vhost is given twice: give it once");
	expect_option_error("mac=52:54:00:12:34:56,vhost=on",
			    "no tap=NAME: name the host's tap interface");
	expect_option_error("vhost=off", "no tap=NAME");
	/* vhost */
	expect_option_error("tap=t0,vhost=auto",
			    "vhost=auto is neither on nor off: use vhost=on or vhost=off, or leave it out");
	expect_option_error("tap=t0,vhost=true", "use vhost=on or vhost=off");
	expect_option_error("tap=t0,vhost=", "vhost= is neither on nor off");
	/* the tap's name is one Linux takes */
	expect_option_error("tap=", "the tap name is empty: give tap=NAME");
	expect_option_error("tap=,vhost=on", "the tap name is empty");
	expect_option_error("tap=1234567890123456",
			    "tap name '1234567890123456' is 16 bytes, more than a Linux interface name's 15: give a shorter one");
	expect_option_error("tap=.", "tap name '.' is not a Linux interface name: give a name like tap0");
	expect_option_error("tap=..", "tap name '..' is not a Linux interface name");
	expect_option_error("tap=a/b", "tap name 'a/b' has a '/': a Linux interface name has no '/' or ':'");
	expect_option_error("tap=eth0:1", "tap name 'eth0:1' has a ':'");
	expect_option_error("tap=a b", "tap name 'a b' has white space (byte 0x20 at offset 1)");
	expect_option_error("tap=a\tb", "has white space (byte 0x09 at offset 1)");
	expect_option_error("tap=ab\n", "has white space (byte 0x0a at offset 2)");
	expect_option_error("tap=\xc3\xa0", "has white space (byte 0xa0 at offset 1)");
	expect_option_error("tap=tap%d",
			    "tap name 'tap%d' has a '%', with which the kernel would choose the name: give the name itself, like tap0");
	/* the MAC */
	expect_option_error("tap=t0,mac=01:00:00:00:00:01",
			    "01:00:00:00:00:01 is a multicast address: use a unicast one, e.g. 52:54:00:12:34:56");
	expect_option_error("tap=t0,mac=ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff is a multicast address");
	expect_option_error("tap=t0,mac=33:33:00:00:00:01", "is a multicast address");
	expect_option_error("tap=t0,mac=00:00:00:00:00:00",
			    "00:00:00:00:00:00 is all zeros: use a unicast address, e.g. 52:54:00:12:34:56");
	expect_option_error("tap=t0,mac=", "the MAC is empty: give one like 52:54:00:12:34:56, or leave mac out");
	expect_option_error("tap=t0,mac=52-54-00-12-34-56",
			    "MAC '52-54-00-12-34-56' is not six hex pairs joined by ':': give one like 52:54:00:12:34:56");
	expect_option_error("tap=t0,mac=52:54:00:12:34", "MAC '52:54:00:12:34' is not six hex pairs");
	expect_option_error("tap=t0,mac=52:54:00:12:34:5", "is not six hex pairs");
	expect_option_error("tap=t0,mac=52:54:00:12:34:567", "is not six hex pairs");
	expect_option_error("tap=t0,mac=52:54:00:12:34:56:", "is not six hex pairs");
	expect_option_error("tap=t0,mac=52:54:00:12:34:56:78", "is not six hex pairs");
	expect_option_error("tap=t0,mac=5:54:00:12:34:56:", "is not six hex pairs");
	expect_option_error("tap=t0,mac=52:54:0g:12:34:56", "is not six hex pairs");
	expect_option_error("tap=t0,mac=525400123456", "is not six hex pairs");
	expect_option_error("tap=t0,mac=0x:54:00:12:34:56", "is not six hex pairs");
	expect_option_error("tap=t0,mac= 52:54:00:12:34:56", "is not six hex pairs");
	/* a tap a net has already */
	expect_option_error("tap=first",
			    "tap 'first' is given twice (eth0 has it): give each net a tap of its own");
}

static void option_limit(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	fill_by_option(&net_list, &cfg, "t");
	expect_net(&cfg, 7, "t7", NULL, -1);
	/* a duplicate is named as such, even when the VM is full */
	assert_int_equal(config_add_net_option(&cfg, "tap=t3"), -1);
	assert_non_null(strstr(err_msg(), "tap 't3' is given twice (eth3 has it)"));
	config_free(&cfg);
}

static void file_forms(void **state)
{
	static const uint8_t m1[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t m3[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x03 };
	struct vm_config cfg;
	const char *path = test_put_file(test_dir, "nets.json",
		"{ \"kernel\": \"/k\", \"nets\": [\n"
		"  \"tap=tap0\",\n"
		"  \"tap=tap1,mac=52:54:00:00:00:01,vhost=off\",\n"
		"  { \"tap\": \"br0-vm\" },\n"
		"  { \"vhost\": true, \"mac\": \"02:00:00:00:00:03\", \"tap\": \"tap3\" },\n"
		"  { \"tap\": \"t,comma\", \"vhost\": false }\n"
		"] }\n");

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, path), 0);
	assert_int_equal(cfg.nnets, 5);
	/* a tap name is not a path: nothing is made relative to the file */
	expect_net(&cfg, 0, "tap0", NULL, -1);
	expect_net(&cfg, 1, "tap1", m1, 0);
	expect_net(&cfg, 2, "br0-vm", NULL, -1);
	expect_net(&cfg, 3, "tap3", m3, 1);
	/* the object form's tap may hold a comma, as Linux allows */
	expect_net(&cfg, 4, "t,comma", NULL, 0);
	assert_int_equal(config_finish(&cfg), 0);
	config_free(&cfg);
}

/* A second file replaces the first one's nets, as it does every field. */
static void file_replaces_nets(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	/* loading the first twice has the same taps again: replaced, so not duplicates */
	load_replacing(&net_list, &cfg, "{\"nets\": [\"tap=a1\", {\"tap\": \"a2\"}]}",
		       "{\"nets\": [\"tap=a1,vhost=on\"]}");
	expect_net(&cfg, 0, "a1", NULL, 1);
	config_free(&cfg);
}

static void file_errors(void **state)
{
	expect_load_error("{\"nets\": \"tap=t0\"}", "\"nets\" must be an array");
	expect_load_error("{\"nets\": {\"tap\": \"t0\"}}", "\"nets\" must be an array");
	expect_load_error("{\"nets\": [\"tap=t0\", 5]}",
			  "\"nets\"[1] must be a string like \"tap=tap0,vhost=off\" or an object with \"tap\"");
	expect_load_error("{\"nets\": [null]}", "\"nets\"[0] must be a string");
	expect_load_error("{\"nets\": [true]}", "\"nets\"[0] must be a string");
	expect_load_error("{\"nets\": [[\"tap=t0\"]]}", "\"nets\"[0] must be a string");
	/* the string form is --net's, with the same messages */
	expect_load_error("{\"nets\": [\"tap=t0\", \"tap=t1,foo=1\"]}",
			  "\"nets\"[1] \"tap=t1,foo=1\": unknown key 'foo': use tap=NAME, mac=MAC or vhost=on|off");
	expect_load_error("{\"nets\": [\"\"]}", "\"nets\"[0] \"\": nothing given");
	expect_load_error("{\"nets\": [\"t0\"]}", "'t0' is not KEY=VALUE: for the tap interface t0, use tap=t0");
	expect_load_error("{\"nets\": [\"tap=t0,tap=t1\"]}", "tap is given twice");
	expect_load_error("{\"nets\": [\"tap=t0,vhost\"]}", "'vhost' needs a value");
	expect_load_error("{\"nets\": [\"tap=t0,vhost=yes\"]}", "vhost=yes is neither on nor off");
	expect_load_error("{\"nets\": [\"vhost=on\"]}", "no tap=NAME");
	expect_load_error("{\"nets\": [\"tap=t0,mac=01:00:00:00:00:01\"]}",
			  "\"nets\"[0] \"tap=t0,mac=01:00:00:00:00:01\": 01:00:00:00:00:01 is a multicast address: use a unicast one, e.g. 52:54:00:12:34:56");
	expect_load_error("{\"nets\": [\"tap=a/b\"]}", "tap name 'a/b' has a '/'");
	expect_load_error("{\"nets\": [\"tap=t0\\u0000,vhost=on\"]}",
			  "\"nets\"[0] contains a NUL character");
	/* the object form: keys and types like the rest of the file */
	expect_load_error("{\"nets\": [{\"tap\": \"t0\", \"model\": \"e1000\"}]}",
			  "\"nets\"[0]: unknown key \"model\": the keys are tap, mac, vhost");
	expect_load_error("{\"nets\": [{\"vhost\": true}]}",
			  "\"nets\"[0] has no \"tap\": name the host's tap interface");
	expect_load_error("{\"nets\": [{}]}", "\"nets\"[0] has no \"tap\"");
	expect_load_error("{\"nets\": [{\"tap\": 5}]}", "\"nets\"[0]: \"tap\" must be a string");
	expect_load_error("{\"nets\": [{\"tap\": \"t0\", \"mac\": 5}]}",
			  "\"nets\"[0]: \"mac\" must be a string");
	expect_load_error("{\"nets\": [{\"tap\": \"t0\", \"vhost\": \"on\"}]}",
			  "\"nets\"[0]: \"vhost\" must be true or false");
	expect_load_error("{\"nets\": [{\"tap\": \"t0\", \"vhost\": 1}]}",
			  "\"vhost\" must be true or false");
	expect_load_error("{\"nets\": [{\"tap\": \"t0\", \"vhost\": null}]}",
			  "\"vhost\" must be true or false");
	expect_load_error("{\"nets\": [{\"tap\": \"\"}]}", "\"nets\"[0]: the tap name is empty");
	expect_load_error("{\"nets\": [{\"tap\": \"a b\"}]}", "\"nets\"[0]: tap name 'a b' has white space");
	expect_load_error("{\"nets\": [{\"tap\": \"..\"}]}", "tap name '..' is not a Linux interface name");
	expect_load_error("{\"nets\": [{\"tap\": \"abcdefghijklmnop\"}]}", "is 16 bytes, more than a Linux interface name's 15");
	expect_load_error("{\"nets\": [{\"tap\": \"t0\", \"mac\": \"01:00:00:00:00:01\"}]}",
			  "\"nets\"[0]: 01:00:00:00:00:01 is a multicast address: use a unicast one, e.g. 52:54:00:12:34:56");
	expect_load_error("{\"nets\": [{\"tap\": \"t0\", \"mac\": \"00:00:00:00:00:00\"}]}",
			  "is all zeros");
	expect_load_error("{\"nets\": [{\"tap\": \"t0\", \"mac\": \"\"}]}", "the MAC is empty");
	expect_load_error("{\"nets\": [{\"tap\": \"t0\", \"mac\": \"52:54:00:12:34\"}]}",
			  "is not six hex pairs joined by ':'");
	expect_load_error("{\"nets\": [{\"tap\": \"t\\u0000b\"}]}",
			  "\"nets\"[0]: \"tap\" contains a NUL character");
	expect_load_error("{\"nets\": [{\"tap\": \"t0\", \"mac\": \"52:54:00:12:34:56\\u0000\"}]}",
			  "\"nets\"[0]: \"mac\" contains a NUL character");
	expect_load_error("{\"nets\": [], \"net\": []}", "unknown key \"net\"");
	expect_load_error("{\"network\": []}", "the keys are name, kernel, initrd, cmdline, cpus, memory, slice, pvh, disks, nets");
}

/* Two nets on one tap: refused in whichever form each came. */
static void duplicate_taps(void **state)
{
	struct vm_config cfg, cli;

	expect_load_error("{\"nets\": [\"tap=t0\", \"tap=t1\", \"tap=t0,vhost=off\"]}",
			  "\"nets\"[2] \"tap=t0,vhost=off\": tap 't0' is given twice (eth0 has it): give each net a tap of its own");
	expect_load_error("{\"nets\": [\"tap=t0\", {\"tap\": \"t0\"}]}",
			  "\"nets\"[1]: tap 't0' is given twice (eth0 has it)");
	expect_load_error("{\"nets\": [{\"tap\": \"t0\"}, {\"tap\": \"t1\"}, \"tap=t1\"]}",
			  "tap 't1' is given twice (eth1 has it)");
	/* names differ in case: two interfaces to Linux */
	config_init(&cfg);
	assert_int_equal(config_add_net_option(&cfg, "tap=t0"), 0);
	assert_int_equal(config_add_net_option(&cfg, "tap=T0"), 0);
	config_free(&cfg);

	/* the file's and the command line's */
	config_init(&cfg);
	config_init(&cli);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm.json",
		"{\"kernel\": \"/k\", \"nets\": [\"tap=f0\", \"tap=f1\"]}")), 0);
	assert_int_equal(config_add_net_option(&cli, "tap=c0"), 0);
	assert_int_equal(config_add_net_option(&cli, "tap=f1,vhost=on"), 0);
	assert_int_equal(config_append_nets(&cfg, &cli), -1);
	assert_non_null(strstr(err_msg(), "--net tap=f1: VM config "));
	assert_non_null(strstr(err_msg(),
		"vm.json gives tap 'f1' to eth1 already: give each net a tap of its own"));
	config_free(&cli);
	config_free(&cfg);

	/* no file: the config's own nets */
	config_init(&cfg);
	config_init(&cli);
	assert_int_equal(config_add_net_option(&cfg, "tap=x"), 0);
	assert_int_equal(config_add_net_option(&cli, "tap=x"), 0);
	assert_int_equal(config_append_nets(&cfg, &cli), -1);
	assert_string_equal(err_msg(),
		"--net tap=x: tap 'x' is given twice (eth0 has it): give each net a tap of its own");
	config_free(&cli);
	config_free(&cfg);
}

/* Strict JSON holds inside "nets" too. */
static void file_duplicate_key(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "dup.json",
		"{\"nets\": [{\"tap\": \"a\", \"tap\": \"b\"}]}")), -1);
	assert_non_null(strstr(err_msg(), "dup.json:1:24: key \"tap\" is given twice"));
	config_free(&cfg);
}

static void file_limit(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	load_full_list(&net_list, &cfg, "t");
	expect_net(&cfg, 7, "t7", NULL, -1);
	config_free(&cfg);
}

/* `slicevm run vm.json --net ...`: the file's nets first, then the command line's. */
static void file_then_command_line(void **state)
{
	static const uint8_t mc[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	static const uint8_t mf[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xf2 };
	struct vm_config cfg, cli;

	config_init(&cfg);
	config_init(&cli);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "two.json",
		"{\"kernel\": \"/k\", \"nets\": [\"tap=f1\", {\"tap\": \"f2\", \"mac\": \"02:00:00:00:00:f2\"}]}")), 0);
	assert_int_equal(config_add_net_option(&cli, "tap=c1,vhost=off"), 0);
	assert_int_equal(config_add_net_option(&cli, "tap=c2,mac=52:54:00:ab:cd:ef,vhost=on"), 0);
	assert_int_equal(config_append_nets(&cfg, &cli), 0);
	assert_int_equal(cfg.nnets, 4);
	expect_net(&cfg, 0, "f1", NULL, -1);
	expect_net(&cfg, 1, "f2", mf, -1);
	expect_net(&cfg, 2, "c1", NULL, 0);
	expect_net(&cfg, 3, "c2", mc, 1);
	/* copies: the command line's config is freed on its own */
	config_free(&cli);
	expect_net(&cfg, 3, "c2", mc, 1);
	assert_int_equal(config_finish(&cfg), 0);
	config_free(&cfg);

	/* past the limit: how many --net the file leaves room for */
	expect_append_limits(&net_list);
}

static void add_disks(struct vm_config *cfg, int n)
{
	add_devices(&disk_list, cfg, "d", n);
}

static void add_nets(struct vm_config *cfg, int n)
{
	add_devices(&net_list, cfg, "t", n);
}

/* Disks and nets share the 30 PCI slots beside the host bridge and virtio-rng. */
static void pci_room(void **state)
{
	struct vm_config cfg, cli;

	config_init(&cfg);
	config_set_str(&cfg.kernel, "/k");
	add_disks(&cfg, 22);
	add_nets(&cfg, 8);
	assert_int_equal(config_check_pci_room(&cfg), 0);
	assert_int_equal(config_finish(&cfg), 0);
	add_disks(&cfg, 1);
	assert_int_equal(config_check_pci_room(&cfg), -1);
	assert_string_equal(err_msg(),
		"too many PCI devices: 23 disks and 8 nets need 31 slots and a VM has room for 30 (beside the host bridge and virtio-rng): drop 1 disk or net");
	assert_int_equal(config_finish(&cfg), -1);
	assert_non_null(strstr(err_msg(), "drop 1 disk or net"));
	config_free(&cfg);

	/* a full bus of disks and one net */
	config_init(&cfg);
	config_set_str(&cfg.kernel, "/k");
	add_disks(&cfg, VM_MAX_DISKS);
	assert_int_equal(config_finish(&cfg), 0);
	add_nets(&cfg, 1);
	assert_int_equal(config_finish(&cfg), -1);
	assert_string_equal(err_msg(),
		"too many PCI devices: 30 disks and 1 net need 31 slots and a VM has room for 30 (beside the host bridge and virtio-rng): drop 1 disk or net");
	add_nets(&cfg, 7);
	assert_int_equal(config_finish(&cfg), -1);
	assert_non_null(strstr(err_msg(), "30 disks and 8 nets need 38 slots"));
	assert_non_null(strstr(err_msg(), "drop 8 disks or nets"));
	config_free(&cfg);

	/* one disk */
	config_init(&cfg);
	add_disks(&cfg, 1);
	add_nets(&cfg, 8);
	assert_int_equal(config_check_pci_room(&cfg), 0);
	config_free(&cfg);

	/* in a slice too, where the sizes are left for later */
	config_init(&cfg);
	config_set_str(&cfg.kernel, "/k");
	config_set_str(&cfg.slice, "s0");
	add_disks(&cfg, 25);
	add_nets(&cfg, 6);
	assert_int_equal(config_finish(&cfg), -1);
	assert_non_null(strstr(err_msg(), "25 disks and 6 nets need 31 slots"));
	config_free(&cfg);

	/* the file's and the command line's together, as `slicevm run` merges them */
	config_init(&cfg);
	config_init(&cli);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "room.json",
		"{\"kernel\": \"/k\", \"disks\": [\"/a\", \"/b\", \"/c\", \"/d\", \"/e\", \"/f\", "
		"\"/g\", \"/h\", \"/i\", \"/j\", \"/k\", \"/l\", \"/m\", \"/n\", \"/o\", \"/p\", "
		"\"/q\", \"/r\", \"/s\", \"/t\", \"/u\", \"/v\", \"/w\", \"/x\", \"/y\"], "
		"\"nets\": [\"tap=f0\", \"tap=f1\", \"tap=f2\"]}")), 0);
	assert_int_equal(cfg.ndisks, 25);
	assert_int_equal(config_finish(&cfg), 0);
	add_disks(&cli, 2);
	add_nets(&cli, 2);
	assert_int_equal(config_append_disks(&cfg, &cli), 0);
	assert_int_equal(config_append_nets(&cfg, &cli), 0);
	assert_int_equal(config_finish(&cfg), -1);
	assert_string_equal(err_msg(),
		"too many PCI devices: 27 disks and 5 nets need 32 slots and a VM has room for 30 (beside the host bridge and virtio-rng): drop 2 disks or nets");
	config_free(&cli);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(option_forms),
		cmocka_unit_test(option_errors),
		cmocka_unit_test(option_limit),
		cmocka_unit_test(file_forms),
		cmocka_unit_test(file_replaces_nets),
		cmocka_unit_test(file_errors),
		cmocka_unit_test(duplicate_taps),
		cmocka_unit_test(file_duplicate_key),
		cmocka_unit_test(file_limit),
		cmocka_unit_test(file_then_command_line),
		cmocka_unit_test(pci_room),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
