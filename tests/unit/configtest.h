/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_TESTS_CONFIGTEST_H
#define SLICEVM_TESTS_CONFIGTEST_H

/*
 * What the tests of the VM config's device lists, disks and nets, share:
 * both lists come from an option (--disk, --net) and from the VM config
 * ("disks", "nets"), and refuse the same mistakes alike. Include after
 * testutil.h.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "vmm/config.h"

/* One device list, as the tests drive it. */
struct config_list {
	const char *key;	/* in the VM config: "disks" */
	const char *option;	/* on the command line: "--disk" */
	const char *prefix;	/* makes a spec of a name: "/" (a path), "tap=" */
	int max;
	const char *too_many;	/* the error for max + 1 of them */
	int (*add_option)(struct vm_config *cfg, const char *spec);
	int (*append)(struct vm_config *cfg, const struct vm_config *more);
	int (*count)(const struct vm_config *cfg);
};

static inline int config_ndisks(const struct vm_config *cfg)
{
	return cfg->ndisks;
}

static inline int config_nnets(const struct vm_config *cfg)
{
	return cfg->nnets;
}

static const struct config_list disk_list = {
	.key = "disks",
	.option = "--disk",
	.prefix = "/",
	.max = VM_MAX_DISKS,
	.too_many = "too many disks (31): a VM has room for 30 on its PCI bus",
	.add_option = config_add_disk_option,
	.append = config_append_disks,
	.count = config_ndisks,
};

static const struct config_list net_list = {
	.key = "nets",
	.option = "--net",
	.prefix = "tap=",
	.max = VM_MAX_NETS,
	.too_many = "too many nets (9): a VM has at most 8 (eth0 to eth7)",
	.add_option = config_add_net_option,
	.append = config_append_nets,
	.count = config_nnets,
};

/* Adds @n devices by option, named @name and their index: "/c0", "tap=c1", ... */
static inline void add_devices(const struct config_list *list, struct vm_config *cfg,
			       const char *name, int n)
{
	char spec[64];

	for (int i = 0; i < n; i++) {
		snprintf(spec, sizeof(spec), "%s%s%d", list->prefix, name, list->count(cfg));
		assert_int_equal(list->add_option(cfg, spec), 0);
	}
}

/*
 * The option refuses @spec after one device, with one line that starts with
 * the option as given and says @needle, and adds nothing.
 */
static inline void expect_list_option_error(const struct config_list *list,
					    const char *spec, const char *needle)
{
	struct vm_config cfg;
	char first[64], prefix[300];

	config_init(&cfg);
	snprintf(first, sizeof(first), "%sfirst", list->prefix);
	assert_int_equal(list->add_option(&cfg, first), 0);
	assert_int_equal(list->add_option(&cfg, spec), -1);
	snprintf(prefix, sizeof(prefix), "%s %s: ", list->option, spec);
	for (char *c = prefix; *c; c++)		/* as err_set() shows them */
		if ((unsigned char)*c < 0x20)
			*c = '?';
	if (strncmp(err_msg(), prefix, strlen(prefix)) || !strstr(err_msg(), needle))
		fail_msg("error '%s' lacks '%s' or '%s'", err_msg(), prefix, needle);
	assert_null(strchr(err_msg(), '\n'));
	assert_int_equal(list->count(&cfg), 1);	/* nothing half added */
	config_free(&cfg);
}

/* config_load() refuses @text with one line naming the file and saying @needle. */
static inline void expect_load_error(const char *text, const char *needle)
{
	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "bad.json", text)), -1);
	if (strncmp(err_msg(), "VM config ", 10) || !strstr(err_msg(), "bad.json: ") ||
	    !strstr(err_msg(), needle))
		fail_msg("error '%s' lacks the file or '%s'", err_msg(), needle);
	assert_null(strchr(err_msg(), '\n'));
	config_free(&cfg);
}

/* Fails unless the error has @fmt's text in it. */
static inline void __attribute__((format(printf, 1, 2)))
expect_error_has(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!strstr(err_msg(), text))
		fail_msg("error '%s' lacks '%s'", err_msg(), text);
}

/*
 * A VM config's list replaces the one before, as every field does: an
 * empty one, @first (two devices, loaded twice over itself), then @second
 * (one device); a file without the list keeps @second's in @cfg.
 */
static inline void load_replacing(const struct config_list *list, struct vm_config *cfg,
				  const char *first, const char *second)
{
	char a[1024], b[1024];

	snprintf(a, sizeof(a), "{\"%s\": []}", list->key);
	assert_int_equal(config_load(cfg, test_put_file(test_dir, "none.json", a)), 0);
	assert_int_equal(list->count(cfg), 0);
	snprintf(a, sizeof(a), "%s", test_put_file(test_dir, "a.json", first));
	snprintf(b, sizeof(b), "%s", test_put_file(test_dir, "b.json", second));
	assert_int_equal(config_load(cfg, a), 0);
	assert_int_equal(config_load(cfg, a), 0);
	assert_int_equal(list->count(cfg), 2);
	assert_int_equal(config_load(cfg, b), 0);
	assert_int_equal(list->count(cfg), 1);
	assert_int_equal(config_load(cfg, test_put_file(test_dir, "c.json",
		"{\"cpus\": 2}")), 0);
	assert_int_equal(list->count(cfg), 1);
}

/*
 * Fills @cfg by option to the list's limit with @name0, @name1, ...: one
 * more is refused, and not added.
 */
static inline void fill_by_option(const struct config_list *list,
				  struct vm_config *cfg, const char *name)
{
	char spec[64];

	add_devices(list, cfg, name, list->max);
	assert_int_equal(list->count(cfg), list->max);
	snprintf(spec, sizeof(spec), "%sone-more", list->prefix);
	assert_int_equal(list->add_option(cfg, spec), -1);
	expect_error_has("%s %s: %s", list->option, spec, list->too_many);
	assert_int_equal(list->count(cfg), list->max);
}

/*
 * A VM config with one device more than the list takes is refused; one
 * with as many, @name0, @name1, ..., is loaded into @cfg.
 */
static inline void load_full_list(const struct config_list *list,
				  struct vm_config *cfg, const char *name)
{
	char text[2048], *p = text;

	p += sprintf(p, "{\"%s\": [", list->key);
	for (int i = 0; i < list->max + 1; i++)
		p += sprintf(p, "%s\"%s%s%d\"", i ? ", " : "", list->prefix, name, i);
	sprintf(p, "]}");
	expect_load_error(text, list->too_many);

	p = strrchr(text, ',');		/* the last one out: as many as fit */
	strcpy(p, "]}");
	assert_int_equal(config_load(cfg, test_put_file(test_dir, "full.json", text)), 0);
	assert_int_equal(list->count(cfg), list->max);
}

/*
 * `slicevm run vm.json --disk ...` past the limit: the command line's
 * devices after the file's are refused, saying how many the option may add.
 */
static inline void expect_append_limits(const struct config_list *list)
{
	struct vm_config cfg, cli;
	char text[128];

	/* 2 in the file and max - 1 on the command line */
	config_init(&cfg);
	config_init(&cli);
	snprintf(text, sizeof(text), "{\"%s\": [\"%sf1\", \"%sf2\"]}", list->key,
		 list->prefix, list->prefix);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "two.json", text)), 0);
	add_devices(list, &cli, "c", list->max - 1);
	assert_int_equal(list->append(&cfg, &cli), -1);
	expect_error_has("%s: VM config ", list->too_many);
	expect_error_has("two.json has 2, so give at most %d %s", list->max - 2, list->option);
	assert_int_equal(list->count(&cfg), 2);
	config_free(&cli);
	config_free(&cfg);

	/* the file has them all */
	config_init(&cfg);
	config_init(&cli);
	add_devices(list, &cfg, "f", list->max);
	add_devices(list, &cli, "c", 1);
	config_set_str(&cfg.file, "vm.json");
	assert_int_equal(list->append(&cfg, &cli), -1);
	expect_error_has("%s: VM config vm.json has %d already, so give no %s",
			 list->too_many, list->max, list->option);
	config_free(&cli);
	config_free(&cfg);

	/* no file: the command line alone */
	config_init(&cfg);
	config_init(&cli);
	add_devices(list, &cli, "only", 1);
	assert_int_equal(list->append(&cfg, &cli), 0);
	assert_int_equal(list->count(&cfg), 1);
	config_free(&cli);
	config_free(&cfg);
}

#endif
