// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl/ctl.h"
#include "host/topology.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/size.h"
#include "vmm/config.h"

void config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ready_fd = -1;
}

static void disks_clear(struct vm_config *cfg)
{
	for (int i = 0; i < cfg->ndisks; i++) {
		free(cfg->disks[i].path);
		free(cfg->disks[i].serial);
	}
	memset(cfg->disks, 0, sizeof(cfg->disks));
	cfg->ndisks = 0;
}

static void nets_clear(struct vm_config *cfg)
{
	for (int i = 0; i < cfg->nnets; i++)
		free(cfg->nets[i].tap);
	memset(cfg->nets, 0, sizeof(cfg->nets));
	cfg->nnets = 0;
}

void config_free(struct vm_config *cfg)
{
	disks_clear(cfg);
	nets_clear(cfg);
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

/* json-c keeps "\u0000" inside strings; C would cut them short there. */
static bool has_nul(json_object *str)
{
	return strlen(json_object_get_string(str)) !=
	       (size_t)json_object_get_string_len(str);
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

/*
 * Disks and nets are lists of devices, each given in one of two forms: an
 * option string ("--disk PATH,readonly=on", "--net tap=NAME,vhost=off", or
 * the same string in the VM config's "disks" or "nets") or an object in the
 * VM config ({"path": "a.img", "readonly": true}). A device_list describes
 * one list: its keys, its limit and the words of its messages, so that one
 * parser and one loader serve both lists and refuse the same mistakes alike.
 */
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define DEVICE_MAX_KEYS		3

enum key_type {
	KEY_TEXT,		/* a string */
	KEY_SWITCH,		/* on|off in an option string, true|false in an object */
};

struct device_key {
	const char *name;	/* in the option string and in the object alike */
	enum key_type type;
	const char *use;	/* how to give it: "'serial' needs a value: use serial=S" */
	const char *left_out;	/* a switch: what leaving it out gives, or NULL */
	const char *comma_hint;	/* its value has no ',': said of a bare word after it */
};

/* One device as given, by key index; what is not given is the device's default. */
struct device_values {
	const char *text[DEVICE_MAX_KEYS];	/* KEY_TEXT: NULL until given */
	int on[DEVICE_MAX_KEYS];		/* KEY_SWITCH: -1 until given, 0 off, 1 on */
};

struct device_list {
	const char *name;		/* its key in the VM config: "disks" */
	const char *option;		/* its command-line option: "--disk" */
	const struct device_key *keys;
	int nkeys;
	int required;			/* the key that names the device: one each */
	bool positional;		/* an option string starts with that key's value, bare */
	int max;			/* the most a VM has (check_count refuses more) */
	/* the option string's messages */
	const char *nothing;		/* it is empty (positional: up to its first ',') */
	const char *no_required;	/* not positional: the required key is left out */
	const char *required_noun;	/* not positional: what a bare first word is taken for */
	const char *option_keys;	/* the keys it takes, after "unknown key 'x': " */
	/* the VM config's messages */
	const char *array_example;	/* the whole list, after "must be an array, like " */
	const char *string_example;	/* an element in the option's syntax */
	const char *object_keys;	/* the keys an element object takes */
	const char *missing;		/* how to give the required key an object lacks */
	int (*check_count)(long long n);
	void (*clear)(struct vm_config *cfg);
	/* checks @v and appends the device; @config_path: the VM config, or NULL */
	int (*add)(struct vm_config *cfg, const struct device_values *v,
		   const char *config_path);
};

static void values_init(struct device_values *v)
{
	for (int k = 0; k < DEVICE_MAX_KEYS; k++) {
		v->text[k] = NULL;
		v->on[k] = -1;
	}
}

static bool is_given(const struct device_list *list, const struct device_values *v,
		     int k)
{
	return list->keys[k].type == KEY_TEXT ? v->text[k] != NULL : v->on[k] >= 0;
}

/* The index of key @name, or -1; an option string has no key for a positional value. */
static int find_key(const struct device_list *list, const char *name, bool in_option)
{
	for (int k = 0; k < list->nkeys; k++) {
		if (in_option && list->positional && k == list->required)
			continue;
		if (!strcmp(list->keys[k].name, name))
			return k;
	}
	return -1;
}

/* Ends @s at its first @c and returns what follows it, or NULL if it has none. */
static char *cut_at(char *s, char c)
{
	char *rest = strchr(s, c);

	if (rest)
		*rest++ = '\0';
	return rest;
}

/* An option without '=': a key without its value, or a word that is no key. */
static int option_word_error(const struct device_list *list, const char *word,
			     bool first, const struct device_key *prev)
{
	const struct device_key *required = &list->keys[list->required];
	int k = find_key(list, word, true);

	if (k >= 0)
		return err_set("'%s' needs a value: use %s", word, list->keys[k].use);
	/* not positional: a bare first word is most likely the device's name */
	if (first)
		return err_set("'%s' is not KEY=VALUE: for the %s %s, use %s=%s", word,
			       list->required_noun, word, required->name, word);
	/* the rest of a value cut at a ',' it cannot hold */
	if (prev && prev->comma_hint)
		return err_set("'%s' is not KEY=VALUE: %s (%s)", word, list->option_keys,
			       prev->comma_hint);
	return err_set("'%s' is not KEY=VALUE: %s", word, list->option_keys);
}

static int option_set(const struct device_list *list, int k, char *val,
		      struct device_values *v)
{
	const struct device_key *key = &list->keys[k];

	if (is_given(list, v, k)) {
		if (k == list->required)	/* the one that names the device */
			return err_set("%s is given twice: give it once (one %s per %s)",
				       key->name, key->name, list->option);
		return err_set("%s is given twice: give it once", key->name);
	}
	if (key->type == KEY_TEXT) {
		v->text[k] = val;
		return 0;
	}
	if (strcmp(val, "on") && strcmp(val, "off")) {
		if (key->left_out)
			return err_set("%s=%s is neither on nor off: use %s, or leave it out to use %s",
				       key->name, val, key->use, key->left_out);
		return err_set("%s=%s is neither on nor off: use %s", key->name, val, key->use);
	}
	v->on[k] = !strcmp(val, "on");
	return 0;
}

/* One KEY=VALUE, cut in place at its '='; @prev: the key before it, or NULL. */
static int option_one(const struct device_list *list, char *opt, bool first,
		      const struct device_key **prev, struct device_values *v)
{
	char *val;
	int k;

	if (!*opt)
		return err_set("an empty option (an extra ','): remove it");
	val = cut_at(opt, '=');
	if (!val)
		return option_word_error(list, opt, first, *prev);
	if (!*opt)
		return err_set("'=%s' has no key: %s", val, list->option_keys);
	k = find_key(list, opt, true);
	if (k < 0)
		return err_set("unknown key '%s': %s", opt, list->option_keys);
	*prev = &list->keys[k];
	return option_set(list, k, val, v);
}

/*
 * "[VALUE,]KEY=VALUE,...": options split at each ',' and each at its first
 * '=', every key at most once; a positional list's required value comes
 * first, bare, and runs to the first ','. Parsed in place in @buf.
 */
static int option_parse(const struct device_list *list, char *buf,
			struct device_values *v)
{
	const struct device_key *prev = NULL;
	char *opt = buf, *next;

	values_init(v);
	if (list->positional) {
		opt = cut_at(buf, ',');
		v->text[list->required] = buf;
	}
	if (!*buf)
		return err_set("%s", list->nothing);
	for (; opt; opt = next) {
		next = cut_at(opt, ',');
		if (option_one(list, opt, opt == buf, &prev, v))
			return -1;
	}
	if (!is_given(list, v, list->required))
		return err_set("%s", list->no_required);
	return 0;
}

/* A device in its option's syntax; @config_path: the VM config it is in, or NULL. */
static int add_spec(const struct device_list *list, struct vm_config *cfg,
		    const char *spec, const char *config_path)
{
	struct device_values v;
	char *buf = strdup(spec);
	int ret;

	if (!buf)
		abort();
	ret = option_parse(list, buf, &v);
	if (!ret)
		ret = list->add(cfg, &v, config_path);
	free(buf);
	return ret;
}

static int add_option(const struct device_list *list, struct vm_config *cfg,
		      const char *spec)
{
	if (add_spec(list, cfg, spec, NULL))
		return err_set("%s %s: %s", list->option, spec, err_msg());
	return 0;
}

/*
 * Whether the command line's @more devices fit after @cfg's @have; when a
 * VM config has those, says how many of the option may still be given.
 */
static int check_append_room(const struct device_list *list,
			     const struct vm_config *cfg, int have, int more)
{
	if (!list->check_count((long long)have + more))
		return 0;
	if (!have || !cfg->file)
		return -1;
	if (have == list->max)
		return err_set("%s: VM config %s has %d already, so give no %s",
			       err_msg(), cfg->file, have, list->option);
	return err_set("%s: VM config %s has %d, so give at most %d %s",
		       err_msg(), cfg->file, have, list->max - have, list->option);
}

/* One key of an element object, checked for its type as the file's keys are. */
static int object_set(const struct device_list *list, const char *path, size_t i,
		      const char *name, json_object *val, struct device_values *v)
{
	const struct device_key *key;
	int k = find_key(list, name, false);

	if (k < 0)
		return err_set("VM config %s: \"%s\"[%zu]: unknown key \"%s\": the keys are %s",
			       path, list->name, i, name, list->object_keys);
	key = &list->keys[k];
	if (key->type == KEY_SWITCH) {
		if (json_object_is_type(val, json_type_boolean)) {
			v->on[k] = json_object_get_boolean(val);
			return 0;
		}
		if (key->left_out)
			return err_set("VM config %s: \"%s\"[%zu]: \"%s\" must be true or false (or left out: %s)",
				       path, list->name, i, name, key->left_out);
		return err_set("VM config %s: \"%s\"[%zu]: \"%s\" must be true or false",
			       path, list->name, i, name);
	}
	if (!json_object_is_type(val, json_type_string))
		return err_set("VM config %s: \"%s\"[%zu]: \"%s\" must be a string",
			       path, list->name, i, name);
	if (has_nul(val))
		return err_set("VM config %s: \"%s\"[%zu]: \"%s\" contains a NUL character: remove it",
			       path, list->name, i, name);
	v->text[k] = json_object_get_string(val);
	return 0;
}

/*
 * {"path": "disk.img", "readonly": true}: the keys in any order, the
 * required one given. No key is twice: the JSON reader refuses that.
 */
static int load_object(const struct device_list *list, struct vm_config *cfg,
		       const char *path, size_t i, json_object *obj)
{
	struct device_values v;

	values_init(&v);
	json_object_object_foreach(obj, key, val) {
		if (object_set(list, path, i, key, val, &v))
			return -1;
	}
	if (!is_given(list, &v, list->required))
		return err_set("VM config %s: \"%s\"[%zu] has no \"%s\": %s", path,
			       list->name, i, list->keys[list->required].name, list->missing);
	if (list->add(cfg, &v, path))
		return err_set("VM config %s: \"%s\"[%zu]: %s", path, list->name, i, err_msg());
	return 0;
}

static int load_element(const struct device_list *list, struct vm_config *cfg,
			const char *path, size_t i, json_object *elem)
{
	const char *spec;

	if (json_object_is_type(elem, json_type_object))
		return load_object(list, cfg, path, i, elem);
	if (!json_object_is_type(elem, json_type_string))
		return err_set("VM config %s: \"%s\"[%zu] must be a string like \"%s\" or an object with \"%s\"",
			       path, list->name, i, list->string_example,
			       list->keys[list->required].name);
	if (has_nul(elem))
		return err_set("VM config %s: \"%s\"[%zu] contains a NUL character: remove it",
			       path, list->name, i);
	spec = json_object_get_string(elem);
	if (add_spec(list, cfg, spec, path))
		return err_set("VM config %s: \"%s\"[%zu] \"%s\": %s", path, list->name,
			       i, spec, err_msg());
	return 0;
}

/* "disks": [ "a.img,readonly=on", {"path": "b.img"} ] replaces the list so far. */
static int load_list(const struct device_list *list, struct vm_config *cfg,
		     const char *path, json_object *val)
{
	size_t n;

	if (!json_object_is_type(val, json_type_array))
		return err_set("VM config %s: \"%s\" must be an array, like %s", path,
			       list->name, list->array_example);
	n = json_object_array_length(val);
	if (list->check_count((long long)n))
		return err_set("VM config %s: %s", path, err_msg());
	list->clear(cfg);
	for (size_t i = 0; i < n; i++)
		if (load_element(list, cfg, path, i, json_object_array_get_idx(val, i)))
			return -1;
	return 0;
}

int config_check_ndisks(long long ndisks)
{
	if (ndisks > VM_MAX_DISKS)
		return err_set("too many disks (%lld): a VM has room for %d on its PCI bus",
			       ndisks, VM_MAX_DISKS);
	return 0;
}

/*
 * The one check of a disk, whichever way it was given (--disk, a string or
 * an object in "disks"). The message has no prefix: the caller says where
 * the disk came from. The image itself is the device's to open and lock.
 */
static int disk_check(const char *path, const char *serial)
{
	size_t len;

	if (!*path)
		return err_set("the image path is empty: name the disk image file");
	if (!serial)
		return 0;
	len = strlen(serial);
	if (!len)
		return err_set("the serial is empty: give 1 to %d printable characters, or leave serial out",
			       VM_DISK_SERIAL_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)serial[i];

		if (c == ',')
			return err_set("serial '%s' has a ',': use printable ASCII without commas",
				       serial);
		if (c < 0x20 || c > 0x7e)
			return err_set("serial has byte 0x%02x at offset %zu: use printable ASCII without commas",
				       c, i);
	}
	if (len > VM_DISK_SERIAL_MAX)
		return err_set("serial '%s' is %zu bytes, more than virtio-blk's %d: give a shorter one",
			       serial, len, VM_DISK_SERIAL_MAX);
	return 0;
}

/* Checks a disk and appends it; a relative path in a VM config is the file's. */
static int disk_append(struct vm_config *cfg, const char *path, bool readonly,
		       const char *serial, const char *config_path)
{
	struct disk_config *disk;

	if (disk_check(path, serial) || config_check_ndisks(cfg->ndisks + 1LL))
		return -1;
	disk = &cfg->disks[cfg->ndisks++];
	if (config_path)
		set_path(&disk->path, path, config_path);
	else
		config_set_str(&disk->path, path);
	disk->readonly = readonly;
	config_set_str(&disk->serial, serial);
	return 0;
}

enum { DISK_PATH, DISK_READONLY, DISK_SERIAL };

static const struct device_key disk_keys[] = {
	[DISK_PATH] = { .name = "path", .type = KEY_TEXT },
	[DISK_READONLY] = { .name = "readonly", .type = KEY_SWITCH,
			    .use = "readonly=on or readonly=off" },
	[DISK_SERIAL] = { .name = "serial", .type = KEY_TEXT, .use = "serial=S",
			  .comma_hint = "a serial cannot contain ','" },
};
_Static_assert(ARRAY_SIZE(disk_keys) <= DEVICE_MAX_KEYS, "struct device_values holds them");

static int disk_add_values(struct vm_config *cfg, const struct device_values *v,
			   const char *config_path)
{
	return disk_append(cfg, v->text[DISK_PATH], v->on[DISK_READONLY] == 1,
			   v->text[DISK_SERIAL], config_path);
}

/* "PATH[,readonly=on|off][,serial=S]": the path runs to the first comma. */
static const struct device_list disk_list = {
	.name = "disks",
	.option = "--disk",
	.keys = disk_keys,
	.nkeys = ARRAY_SIZE(disk_keys),
	.required = DISK_PATH,
	.positional = true,
	.max = VM_MAX_DISKS,
	.nothing = "the image path is empty: give it first, as PATH[,readonly=on][,serial=S]",
	.option_keys = "use readonly=on or serial=S",
	.array_example = "[\"disk.img\", {\"path\": \"data.img\", \"readonly\": true}]",
	.string_example = "disk.img,readonly=on",
	.object_keys = "path, readonly, serial",
	.missing = "give the disk image file",
	.check_count = config_check_ndisks,
	.clear = disks_clear,
	.add = disk_add_values,
};

int config_add_disk_option(struct vm_config *cfg, const char *spec)
{
	return add_option(&disk_list, cfg, spec);
}

int config_append_disks(struct vm_config *cfg, const struct vm_config *more)
{
	if (check_append_room(&disk_list, cfg, cfg->ndisks, more->ndisks))
		return -1;
	for (int i = 0; i < more->ndisks; i++) {
		const struct disk_config *disk = &more->disks[i];

		if (disk_append(cfg, disk->path, disk->readonly, disk->serial, NULL))
			return -1;
	}
	return 0;
}

int config_check_nnets(long long nnets)
{
	if (nnets > VM_MAX_NETS)
		return err_set("too many nets (%lld): a VM has at most %d (eth0 to eth%d)",
			       nnets, VM_MAX_NETS, VM_MAX_NETS - 1);
	return 0;
}

static const char *plural(int n)
{
	return n == 1 ? "" : "s";
}

int config_check_pci_room(const struct vm_config *cfg)
{
	int used = cfg->ndisks + cfg->nnets, over = used - VM_PCI_ROOM;

	if (over <= 0)
		return 0;
	return err_set("too many PCI devices: %d disk%s and %d net%s need %d slots and a VM has room for %d (beside the host bridge and virtio-rng): drop %d disk%s or net%s",
		       cfg->ndisks, plural(cfg->ndisks), cfg->nnets, plural(cfg->nnets),
		       used, VM_PCI_ROOM, over, plural(over), plural(over));
}

/*
 * A name the kernel takes for an interface (its dev_valid_name()): 1 to 15
 * bytes, not "." or "..", without '/', ':' or white space (which for the
 * kernel includes byte 0xa0). A '%' would make the kernel choose the name
 * itself ("tap%d" becomes tap0, tap1, ...), so it is refused too.
 */
static int tap_check(const char *tap)
{
	size_t len = strlen(tap);

	if (!len)
		return err_set("the tap name is empty: give tap=NAME, the host's tap interface");
	if (len > VM_NET_TAP_MAX)
		return err_set("tap name '%s' is %zu bytes, more than a Linux interface name's %d: give a shorter one",
			       tap, len, VM_NET_TAP_MAX);
	if (!strcmp(tap, ".") || !strcmp(tap, ".."))
		return err_set("tap name '%s' is not a Linux interface name: give a name like tap0",
			       tap);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)tap[i];

		if (c == '/' || c == ':')
			return err_set("tap name '%s' has a '%c': a Linux interface name has no '/' or ':'",
				       tap, c);
		if (c == '%')
			return err_set("tap name '%s' has a '%%', with which the kernel would choose the name: give the name itself, like tap0",
				       tap);
		if (c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0)
			return err_set("tap name '%s' has white space (byte 0x%02x at offset %zu): a Linux interface name has none",
				       tap, c, i);
	}
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * "52:54:00:12:34:56": six pairs of hex digits (either case) joined by ':'.
 * A multicast address (the lowest bit of the first octet set, broadcast
 * too) or all zeros cannot be a NIC's own.
 */
static int mac_parse(const char *text, uint8_t mac[6])
{
	static const uint8_t zero[6];

	if (!*text)
		return err_set("the MAC is empty: give one like 52:54:00:12:34:56, or leave mac out for one made from the VM's name");
	for (int i = 0; i < 6; i++) {
		const char *p = text + 3 * i;
		int hi, lo;

		/* each test reads a byte only if the ones before it are not the NUL */
		if ((hi = hex_digit(p[0])) < 0 || (lo = hex_digit(p[1])) < 0 ||
		    p[2] != (i < 5 ? ':' : '\0'))
			return err_set("MAC '%s' is not six hex pairs joined by ':': give one like 52:54:00:12:34:56",
				       text);
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1)
		return err_set("%s is a multicast address: use a unicast one, e.g. 52:54:00:12:34:56",
			       text);
	if (!memcmp(mac, zero, sizeof(zero)))
		return err_set("%s is all zeros: use a unicast address, e.g. 52:54:00:12:34:56",
			       text);
	return 0;
}

static int net_find(const struct vm_config *cfg, const char *tap)
{
	for (int i = 0; i < cfg->nnets; i++)
		if (!strcmp(cfg->nets[i].tap, tap))
			return i;
	return -1;
}

/* Appends a net checked already; @mac NULL: the default. */
static int net_append(struct vm_config *cfg, const char *tap, const uint8_t *mac,
		      int vhost)
{
	struct net_config *net;
	int other = net_find(cfg, tap);

	if (other >= 0)
		return err_set("tap '%s' is given twice (eth%d has it): give each net a tap of its own",
			       tap, other);
	if (config_check_nnets(cfg->nnets + 1LL))
		return -1;
	net = &cfg->nets[cfg->nnets++];
	config_set_str(&net->tap, tap);
	net->mac_set = mac != NULL;
	if (mac)
		memcpy(net->mac, mac, sizeof(net->mac));
	net->vhost = vhost;
	return 0;
}

/*
 * The one check of a net, whichever way it was given (--net, a string or an
 * object in "nets"). The message has no prefix: the caller says where the
 * net came from. The tap itself is the device's to open or create.
 */
static int net_add(struct vm_config *cfg, const char *tap, const char *mac_text,
		   int vhost)
{
	uint8_t mac[6];

	if (tap_check(tap) || (mac_text && mac_parse(mac_text, mac)))
		return -1;
	return net_append(cfg, tap, mac_text ? mac : NULL, vhost);
}

enum { NET_TAP, NET_MAC, NET_VHOST };

static const struct device_key net_keys[] = {
	[NET_TAP] = { .name = "tap", .type = KEY_TEXT,
		      .use = "tap=NAME, the host's tap interface" },
	[NET_MAC] = { .name = "mac", .type = KEY_TEXT,
		      .use = "mac=52:54:00:12:34:56, or leave mac out" },
	[NET_VHOST] = { .name = "vhost", .type = KEY_SWITCH, .use = "vhost=on or vhost=off",
			.left_out = "vhost-net where the host has it" },
};
_Static_assert(ARRAY_SIZE(net_keys) <= DEVICE_MAX_KEYS, "struct device_values holds them");

static int net_add_values(struct vm_config *cfg, const struct device_values *v,
			  const char *config_path)
{
	return net_add(cfg, v->text[NET_TAP], v->text[NET_MAC], v->on[NET_VHOST]);
}

/* "tap=NAME[,mac=MAC][,vhost=on|off]": a tap name is not a path, so config_path is not used. */
static const struct device_list net_list = {
	.name = "nets",
	.option = "--net",
	.keys = net_keys,
	.nkeys = ARRAY_SIZE(net_keys),
	.required = NET_TAP,
	.positional = false,
	.max = VM_MAX_NETS,
	.nothing = "nothing given: use tap=NAME[,mac=MAC][,vhost=on|off]",
	.no_required = "no tap=NAME: name the host's tap interface, as tap=NAME[,mac=MAC][,vhost=on|off]",
	.required_noun = "tap interface",
	.option_keys = "use tap=NAME, mac=MAC or vhost=on|off",
	.array_example = "[\"tap=tap0\", {\"tap\": \"tap1\", \"vhost\": false}]",
	.string_example = "tap=tap0,vhost=off",
	.object_keys = "tap, mac, vhost",
	.missing = "name the host's tap interface",
	.check_count = config_check_nnets,
	.clear = nets_clear,
	.add = net_add_values,
};

int config_add_net_option(struct vm_config *cfg, const char *spec)
{
	return add_option(&net_list, cfg, spec);
}

int config_append_nets(struct vm_config *cfg, const struct vm_config *more)
{
	if (check_append_room(&net_list, cfg, cfg->nnets, more->nnets))
		return -1;
	for (int i = 0; i < more->nnets; i++) {
		const struct net_config *net = &more->nets[i];
		int other = net_find(cfg, net->tap);

		if (other >= 0 && cfg->file)
			return err_set("--net tap=%s: VM config %s gives tap '%s' to eth%d already: give each net a tap of its own",
				       net->tap, cfg->file, net->tap, other);
		if (net_append(cfg, net->tap, net->mac_set ? net->mac : NULL, net->vhost))
			return err_set("--net tap=%s: %s", net->tap, err_msg());
	}
	return 0;
}

int config_add_device(struct vm_config *cfg, const char *addr)
{
	char norm[PCI_ADDR_MAX];

	if (topology_pci_normalize(addr, norm))
		return err_set("'%s' is not a PCI address: give one like 0000:03:00.0", addr);
	for (int i = 0; i < cfg->ndevices; i++)
		if (!strcmp(cfg->devices[i], norm))
			return err_set("PCI device %s is given twice: give each device once", norm);
	if (cfg->ndevices == VM_MAX_DEVICES)
		return err_set("too many devices: a VM passes through at most %d", VM_MAX_DEVICES);
	memcpy(cfg->devices[cfg->ndevices++], norm, sizeof(norm));
	return 0;
}

/* "devices": ["0000:03:00.0"] replaces the list so far. */
static int load_devices(struct vm_config *cfg, const char *path, json_object *val)
{
	size_t n;

	if (want_type(path, "devices", val, json_type_array, "an array, like [\"0000:03:00.0\"]"))
		return -1;
	n = json_object_array_length(val);
	cfg->ndevices = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(val, i);

		if (!json_object_is_type(e, json_type_string) || has_nul(e))
			return err_set("VM config %s: \"devices\"[%zu] must be a PCI address like "
				       "\"0000:03:00.0\"", path, i);
		if (config_add_device(cfg, json_object_get_string(e)))
			return err_set("VM config %s: \"devices\"[%zu]: %s", path, i, err_msg());
	}
	return 0;
}

/*
 * Direct features, by bit: later stages of the kernel component add
 * theirs here (kernel/include/slicevm_kvm.h reserves their capabilities).
 */
static const char *const direct_names[] = {
	"timer",	/* VM_DIRECT_TIMER */
	"pmu",		/* VM_DIRECT_PMU */
	"irq",		/* VM_DIRECT_IRQ */
	"ipi",		/* VM_DIRECT_IPI */
};
_Static_assert(ARRAY_SIZE(direct_names) <= sizeof(unsigned int) * 8, "one bit each");
_Static_assert(VM_DIRECT_ALL == (1U << ARRAY_SIZE(direct_names)) - 1, "a name for each VM_DIRECT_*");

const char *config_direct_name(int i)
{
	return i >= 0 && (size_t)i < ARRAY_SIZE(direct_names) ? direct_names[i] : NULL;
}

const char *config_direct_list(unsigned int direct, const char *sep, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(direct_names) && used < len; i++)
		if (direct & (1U << i))
			used += snprintf(buf + used, len - used, "%s%s", used ? sep : "",
					 direct_names[i]);
	return buf;
}

/* Adds the feature @name to @direct; the message has no prefix: the caller says where. */
static int direct_add(unsigned int *direct, const char *name)
{
	char known[128];

	if (!*name)
		return err_set("an empty feature name (an extra ','): remove it");
	for (size_t i = 0; i < ARRAY_SIZE(direct_names); i++) {
		if (strcmp(name, direct_names[i]))
			continue;
		if (*direct & (1U << i))
			return err_set("'%s' is given twice: give each feature once", name);
		*direct |= 1U << i;
		return 0;
	}
	config_direct_list(VM_DIRECT_ALL, ", ", known, sizeof(known));
	return err_set("unknown direct feature '%s': this slicevm knows %s", name, known);
}

int config_add_direct_option(struct vm_config *cfg, const char *list)
{
	unsigned int direct = cfg->direct;
	char *copy, *name, *next;
	int ret = 0;

	if (!*list)
		return err_set("--direct: no feature given: give a list like --direct timer");
	copy = strdup(list);
	if (!copy)
		abort();	/* out of memory for a short string: nothing sane to do */
	for (name = copy; name && !ret; name = next) {
		next = cut_at(name, ',');
		ret = direct_add(&direct, name);
	}
	free(copy);
	if (ret)
		return err_set("--direct %s: %s", list, err_msg());
	cfg->direct = direct;
	return 0;
}

/* "direct": ["timer"] replaces the features so far. */
static int load_direct(struct vm_config *cfg, const char *path, json_object *val)
{
	unsigned int direct = 0;
	size_t n;

	if (want_type(path, "direct", val, json_type_array, "an array, like [\"timer\"]"))
		return -1;
	n = json_object_array_length(val);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(val, i);

		if (!json_object_is_type(e, json_type_string) || has_nul(e))
			return err_set("VM config %s: \"direct\"[%zu] must be a feature name like \"timer\"",
				       path, i);
		if (direct_add(&direct, json_object_get_string(e)))
			return err_set("VM config %s: \"direct\"[%zu]: %s", path, i, err_msg());
	}
	cfg->direct = direct;
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
		if (has_nul(val))
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
	if (!strcmp(key, "disks"))
		return load_list(&disk_list, cfg, path, val);
	if (!strcmp(key, "nets"))
		return load_list(&net_list, cfg, path, val);
	if (!strcmp(key, "devices"))
		return load_devices(cfg, path, val);
	if (!strcmp(key, "direct"))
		return load_direct(cfg, path, val);
	return err_set("VM config %s: unknown key \"%s\": the keys are name, kernel, initrd, cmdline, cpus, memory, slice, pvh, disks, nets, devices, direct",
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
	if (config_check_pci_room(cfg))
		return -1;
	if (cfg->ndevices && !cfg->slice)
		return err_set("a passed-through device needs a slice: give --slice NAME of the "
			       "slice that holds %s ('slicevm host apply' binds it to vfio-pci)",
			       cfg->devices[0]);
	if (cfg->direct && !cfg->slice) {
		char list[128];

		return err_set("--direct %s needs a slice: give --slice NAME (a direct feature needs each vCPU alone on an isolated CPU of its own)",
			       config_direct_list(cfg->direct, ",", list, sizeof(list)));
	}
	/* The kernel gives interrupts without exits only with the timer they come from. */
	if ((cfg->direct & VM_DIRECT_IRQ) && !(cfg->direct & VM_DIRECT_TIMER))
		return err_set("--direct irq needs the direct timer too, whose expiries it delivers without exits: give --direct timer,irq");
	/* ... and IPIs without exits only where the receiver takes interrupts so */
	if ((cfg->direct & VM_DIRECT_IPI) && (~cfg->direct & (VM_DIRECT_TIMER | VM_DIRECT_IRQ)))
		return err_set("--direct ipi needs direct interrupts and the direct timer too, the entries in which a vCPU takes IPIs without exits: give --direct timer,irq,ipi");
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
