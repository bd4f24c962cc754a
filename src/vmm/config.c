// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl/ctl.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/size.h"
#include "vmm/config.h"

void config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ready_fd = -1;
}

void config_free(struct vm_config *cfg)
{
	free(cfg->name);
	free(cfg->kernel);
	free(cfg->initrd);
	free(cfg->cmdline);
	free(cfg->slice);
	free(cfg->file);
	free(cfg->log);
	config_init(cfg);
}

void config_set_str(char **field, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	if (value && !copy)
		abort();	/* out of memory for a short string: nothing sane to do */
	free(*field);
	*field = copy;
}

/* Paths in a config file are relative to the file, not to the caller's cwd. */
static void set_path(char **field, const char *value, const char *config_path)
{
	char *dir_copy, *joined;

	if (value[0] == '/' || !strchr(config_path, '/')) {
		config_set_str(field, value);
		return;
	}
	dir_copy = strdup(config_path);
	if (!dir_copy || asprintf(&joined, "%s/%s", dirname(dir_copy), value) < 0)
		abort();
	free(dir_copy);
	free(*field);
	*field = joined;
}

static int want_type(const char *path, const char *key, json_object *val,
		     json_type type, const char *what)
{
	if (json_object_is_type(val, type))
		return 0;
	return err_set("VM config %s: \"%s\" must be %s", path, key, what);
}

static int load_memory(struct vm_config *cfg, const char *path, json_object *val)
{
	if (json_object_is_type(val, json_type_int)) {
		int64_t mib = json_object_get_int64(val);

		if (mib < 0)
			return err_set("VM config %s: \"memory\" is negative: give a size like \"512M\"",
				       path);
		if ((uint64_t)mib > UINT64_MAX >> VM_MEMORY_BARE_SHIFT)
			return err_set("VM config %s: \"memory\" %lld (MiB) is too large",
				       path, (long long)mib);
		cfg->memory = (uint64_t)mib << VM_MEMORY_BARE_SHIFT;
	} else if (json_object_is_type(val, json_type_string)) {
		if (size_parse_default(json_object_get_string(val), VM_MEMORY_BARE_SHIFT,
				       &cfg->memory))
			return err_set("VM config %s: \"memory\": %s", path, err_msg());
	} else {
		return err_set("VM config %s: \"memory\" must be a size like \"512M\" or a number of MiB",
			       path);
	}
	cfg->memory_set = true;
	cfg->memory_in_file = true;
	return 0;
}

static int load_key(struct vm_config *cfg, const char *path, const char *key,
		    json_object *val)
{
	static const struct {
		const char *key;
		size_t field;
		bool is_path;
	} strings[] = {
		{ "name", offsetof(struct vm_config, name), false },
		{ "kernel", offsetof(struct vm_config, kernel), true },
		{ "initrd", offsetof(struct vm_config, initrd), true },
		{ "cmdline", offsetof(struct vm_config, cmdline), false },
		{ "slice", offsetof(struct vm_config, slice), false },
	};

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		char **field = (char **)((char *)cfg + strings[i].field);

		if (strcmp(key, strings[i].key))
			continue;
		if (want_type(path, key, val, json_type_string, "a string"))
			return -1;
		/* json-c keeps "\u0000" inside strings; C would cut them short there. */
		if (strlen(json_object_get_string(val)) !=
		    (size_t)json_object_get_string_len(val))
			return err_set("VM config %s: \"%s\" contains a NUL character: remove it",
				       path, key);
		if (strings[i].is_path)
			set_path(field, json_object_get_string(val), path);
		else
			config_set_str(field, json_object_get_string(val));
		return 0;
	}
	if (!strcmp(key, "cpus")) {
		if (want_type(path, key, val, json_type_int, "a whole number"))
			return -1;
		int64_t n = json_object_get_int64(val);

		if (config_check_cpus(n))
			return err_set("VM config %s: %s", path, err_msg());
		cfg->cpus = (int)n;
		cfg->cpus_set = true;
		cfg->cpus_in_file = true;
		return 0;
	}
	if (!strcmp(key, "memory"))
		return load_memory(cfg, path, val);
	if (!strcmp(key, "pvh")) {
		if (want_type(path, key, val, json_type_boolean, "true or false"))
			return -1;
		cfg->pvh = json_object_get_boolean(val);
		return 0;
	}
	return err_set("VM config %s: unknown key \"%s\": the keys are name, kernel, initrd, cmdline, cpus, memory, slice, pvh",
		       path, key);
}

int config_load(struct vm_config *cfg, const char *path)
{
	json_object *root = json_parse_file(path, "VM config");
	int ret = 0;

	if (!root)
		return -1;
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return err_set("VM config %s: the top level must be a JSON object", path);
	}
	config_set_str(&cfg->file, path);
	json_object_object_foreach(root, key, val) {
		ret = load_key(cfg, path, key, val);
		if (ret)
			break;
	}
	json_object_put(root);
	return ret;
}

int config_check_cpus(long long cpus)
{
	if (cpus < 1)
		return err_set("cpus must be at least 1: give --cpus 1 or more");
	if (cpus > VM_MAX_CPUS)
		return err_set("cpus %lld is more than slicevm supports (%d): give fewer --cpus",
			       cpus, VM_MAX_CPUS);
	return 0;
}

int config_finish(struct vm_config *cfg)
{
	if (!cfg->kernel || !*cfg->kernel)
		return err_set("no kernel given: use --kernel BZIMAGE or \"kernel\" in the VM config");
	if (cfg->name && ctl_check_name(cfg->name))
		return -1;
	if (!cfg->cmdline)
		config_set_str(&cfg->cmdline, VM_DEFAULT_CMDLINE);
	/* In a slice, what is not given comes from the slice (slice_enter()). */
	if (cfg->slice && (!cfg->cpus_set || !cfg->memory_set))
		return cfg->cpus_set ? config_check_cpus(cfg->cpus) : 0;
	if (!cfg->cpus_set)
		cfg->cpus = 1;
	if (!cfg->memory_set)
		cfg->memory = VM_DEFAULT_MEMORY;
	return config_check_sizes(cfg);
}

/* Where the memory size came from, and how to give another, in the user's terms. */
static void memory_origin(const struct vm_config *cfg, char *where, size_t wlen,
			  char *how, size_t hlen, const char *size)
{
	if (cfg->memory_in_file && cfg->file) {
		snprintf(where, wlen, "\"memory\" in VM config %s", cfg->file);
		snprintf(how, hlen, "\"memory\": \"%s\"", size);
	} else {
		snprintf(where, wlen, "--memory");
		snprintf(how, hlen, "--memory %s", size);
	}
}

int config_check_sizes(const struct vm_config *cfg)
{
	char where[4200], how[64], buf[32];

	if (config_check_cpus(cfg->cpus)) {
		if (cfg->cpus_in_file && cfg->file)
			return err_set("\"cpus\" in VM config %s: %s", cfg->file, err_msg());
		return -1;
	}
	if (cfg->memory < VM_MIN_MEMORY) {
		memory_origin(cfg, where, sizeof(where), how, sizeof(how), "32M");
		return err_set("%s of %s is too small: give %s or more", where,
			       size_format(cfg->memory, buf, sizeof(buf)), how);
	}
	if (cfg->memory & 0xFFF) {
		memory_origin(cfg, where, sizeof(where), how, sizeof(how), "512M");
		return err_set("%s of %llu bytes is not a whole number of 4K pages: give a size like %s",
			       where, (unsigned long long)cfg->memory, how);
	}
	return 0;
}
