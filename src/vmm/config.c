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

/*
 * "PATH[,readonly=on|off][,serial=S]": the path runs to the first comma,
 * then options KEY=VALUE, each at most once. Parsed in place in @buf.
 */
static int disk_parse(char *buf, const char **path, bool *readonly,
		      const char **serial)
{
	const char *prev = NULL;
	bool readonly_set = false;
	char *opt, *next, *val;

	*path = buf;
	*readonly = false;
	*serial = NULL;
	opt = strchr(buf, ',');
	if (opt)
		*opt++ = '\0';
	if (!*buf)
		return err_set("the image path is empty: give it first, as PATH[,readonly=on][,serial=S]");
	for (; opt; prev = opt, opt = next) {
		next = strchr(opt, ',');
		if (next)
			*next++ = '\0';
		if (!*opt)
			return err_set("an empty option (an extra ','): remove it");
		val = strchr(opt, '=');
		if (!val) {
			if (!strcmp(opt, "readonly") || !strcmp(opt, "serial"))
				return err_set("'%s' needs a value: use %s", opt,
					       *opt == 'r' ? "readonly=on or readonly=off" : "serial=S");
			return err_set("'%s' is not KEY=VALUE: use readonly=on or serial=S%s", opt,
				       prev && !strcmp(prev, "serial") ?
				       " (a serial cannot contain ',')" : "");
		}
		*val++ = '\0';
		if (!*opt)
			return err_set("'=%s' has no key: use readonly=on or serial=S", val);
		if (!strcmp(opt, "readonly")) {
			if (readonly_set)
				return err_set("readonly is given twice: give it once");
			if (strcmp(val, "on") && strcmp(val, "off"))
				return err_set("readonly=%s is neither on nor off: use readonly=on or readonly=off",
					       val);
			*readonly = !strcmp(val, "on");
			readonly_set = true;
		} else if (!strcmp(opt, "serial")) {
			if (*serial)
				return err_set("serial is given twice: give it once");
			*serial = val;
		} else {
			return err_set("unknown key '%s': use readonly=on or serial=S", opt);
		}
	}
	return 0;
}

/* A disk in the --disk syntax; @config_path: the VM config it is in, or NULL. */
static int disk_add_spec(struct vm_config *cfg, const char *spec,
			 const char *config_path)
{
	const char *path, *serial;
	bool readonly;
	char *buf = strdup(spec);
	int ret;

	if (!buf)
		abort();
	ret = disk_parse(buf, &path, &readonly, &serial);
	if (!ret)
		ret = disk_append(cfg, path, readonly, serial, config_path);
	free(buf);
	return ret;
}

int config_add_disk_option(struct vm_config *cfg, const char *spec)
{
	if (disk_add_spec(cfg, spec, NULL))
		return err_set("--disk %s: %s", spec, err_msg());
	return 0;
}

int config_append_disks(struct vm_config *cfg, const struct vm_config *more)
{
	if (config_check_ndisks((long long)cfg->ndisks + more->ndisks)) {
		if (!cfg->ndisks || !cfg->file)
			return -1;
		if (cfg->ndisks == VM_MAX_DISKS)
			return err_set("%s: VM config %s has %d already, so give no --disk",
				       err_msg(), cfg->file, cfg->ndisks);
		return err_set("%s: VM config %s has %d, so give at most %d --disk",
			       err_msg(), cfg->file, cfg->ndisks,
			       VM_MAX_DISKS - cfg->ndisks);
	}
	for (int i = 0; i < more->ndisks; i++) {
		const struct disk_config *disk = &more->disks[i];

		if (disk_append(cfg, disk->path, disk->readonly, disk->serial, NULL))
			return -1;
	}
	return 0;
}

/* {"path": "disk.img", "readonly": true, "serial": "S"}: path required. */
static int load_disk_object(struct vm_config *cfg, const char *path, int i,
			    json_object *obj)
{
	const char *disk_path = NULL, *serial = NULL;
	bool readonly = false;

	json_object_object_foreach(obj, key, val) {
		if (!strcmp(key, "path") || !strcmp(key, "serial")) {
			if (!json_object_is_type(val, json_type_string))
				return err_set("VM config %s: \"disks\"[%d]: \"%s\" must be a string",
					       path, i, key);
			if (has_nul(val))
				return err_set("VM config %s: \"disks\"[%d]: \"%s\" contains a NUL character: remove it",
					       path, i, key);
			if (*key == 'p')
				disk_path = json_object_get_string(val);
			else
				serial = json_object_get_string(val);
		} else if (!strcmp(key, "readonly")) {
			if (!json_object_is_type(val, json_type_boolean))
				return err_set("VM config %s: \"disks\"[%d]: \"readonly\" must be true or false",
					       path, i);
			readonly = json_object_get_boolean(val);
		} else {
			return err_set("VM config %s: \"disks\"[%d]: unknown key \"%s\": the keys are path, readonly, serial",
				       path, i, key);
		}
	}
	if (!disk_path)
		return err_set("VM config %s: \"disks\"[%d] has no \"path\": give the disk image file",
			       path, i);
	if (disk_append(cfg, disk_path, readonly, serial, path))
		return err_set("VM config %s: \"disks\"[%d]: %s", path, i, err_msg());
	return 0;
}

/* "disks": [ "a.img,readonly=on", {"path": "b.img"} ] replaces the disks so far. */
static int load_disks(struct vm_config *cfg, const char *path, json_object *val)
{
	size_t n;

	if (!json_object_is_type(val, json_type_array))
		return err_set("VM config %s: \"disks\" must be an array, like [\"disk.img\", {\"path\": \"data.img\", \"readonly\": true}]",
			       path);
	n = json_object_array_length(val);
	if (config_check_ndisks((long long)n))
		return err_set("VM config %s: %s", path, err_msg());
	disks_clear(cfg);
	for (size_t i = 0; i < n; i++) {
		json_object *elem = json_object_array_get_idx(val, i);

		if (json_object_is_type(elem, json_type_string)) {
			if (has_nul(elem))
				return err_set("VM config %s: \"disks\"[%zu] contains a NUL character: remove it",
					       path, i);
			if (disk_add_spec(cfg, json_object_get_string(elem), path))
				return err_set("VM config %s: \"disks\"[%zu] \"%s\": %s", path,
					       i, json_object_get_string(elem), err_msg());
		} else if (json_object_is_type(elem, json_type_object)) {
			if (load_disk_object(cfg, path, (int)i, elem))
				return -1;
		} else {
			return err_set("VM config %s: \"disks\"[%zu] must be a string like \"disk.img,readonly=on\" or an object with \"path\"",
				       path, i);
		}
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

#define NET_KEYS "use tap=NAME, mac=MAC or vhost=on|off"

/*
 * "tap=NAME[,mac=MAC][,vhost=on|off]": options KEY=VALUE, each at most
 * once, tap= required. Parsed in place in @buf.
 */
static int net_parse(char *buf, const char **tap, const char **mac, int *vhost)
{
	char *opt, *next, *val;

	*tap = NULL;
	*mac = NULL;
	*vhost = -1;
	if (!*buf)
		return err_set("nothing given: use tap=NAME[,mac=MAC][,vhost=on|off]");
	for (opt = buf; opt; opt = next) {
		next = strchr(opt, ',');
		if (next)
			*next++ = '\0';
		if (!*opt)
			return err_set("an empty option (an extra ','): remove it");
		val = strchr(opt, '=');
		if (!val) {
			if (!strcmp(opt, "tap"))
				return err_set("'tap' needs a value: use tap=NAME, the host's tap interface");
			if (!strcmp(opt, "mac"))
				return err_set("'mac' needs a value: use mac=52:54:00:12:34:56, or leave mac out");
			if (!strcmp(opt, "vhost"))
				return err_set("'vhost' needs a value: use vhost=on or vhost=off");
			if (opt == buf)
				return err_set("'%s' is not KEY=VALUE: for the tap interface %s, use tap=%s",
					       opt, opt, opt);
			return err_set("'%s' is not KEY=VALUE: " NET_KEYS, opt);
		}
		*val++ = '\0';
		if (!*opt)
			return err_set("'=%s' has no key: " NET_KEYS, val);
		if (!strcmp(opt, "tap")) {
			if (*tap)
				return err_set("tap is given twice: give it once (one tap per --net)");
			*tap = val;
		} else if (!strcmp(opt, "mac")) {
			if (*mac)
				return err_set("mac is given twice: give it once");
			*mac = val;
		} else if (!strcmp(opt, "vhost")) {
			if (*vhost >= 0)
				return err_set("vhost is given twice: give it once");
			if (strcmp(val, "on") && strcmp(val, "off"))
				return err_set("vhost=%s is neither on nor off: use vhost=on or vhost=off, or leave it out to use vhost-net where the host has it",
					       val);
			*vhost = !strcmp(val, "on");
		} else {
			return err_set("unknown key '%s': " NET_KEYS, opt);
		}
	}
	if (!*tap)
		return err_set("no tap=NAME: name the host's tap interface, as tap=NAME[,mac=MAC][,vhost=on|off]");
	return 0;
}

/* A net in the --net syntax. */
static int net_add_spec(struct vm_config *cfg, const char *spec)
{
	const char *tap, *mac;
	char *buf = strdup(spec);
	int vhost, ret;

	if (!buf)
		abort();
	ret = net_parse(buf, &tap, &mac, &vhost);
	if (!ret)
		ret = net_add(cfg, tap, mac, vhost);
	free(buf);
	return ret;
}

int config_add_net_option(struct vm_config *cfg, const char *spec)
{
	if (net_add_spec(cfg, spec))
		return err_set("--net %s: %s", spec, err_msg());
	return 0;
}

int config_append_nets(struct vm_config *cfg, const struct vm_config *more)
{
	if (config_check_nnets((long long)cfg->nnets + more->nnets)) {
		if (!cfg->nnets || !cfg->file)
			return -1;
		if (cfg->nnets == VM_MAX_NETS)
			return err_set("%s: VM config %s has %d already, so give no --net",
				       err_msg(), cfg->file, cfg->nnets);
		return err_set("%s: VM config %s has %d, so give at most %d --net",
			       err_msg(), cfg->file, cfg->nnets,
			       VM_MAX_NETS - cfg->nnets);
	}
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

/* {"tap": "tap0", "mac": "52:54:00:12:34:56", "vhost": true}: tap required. */
static int load_net_object(struct vm_config *cfg, const char *path, int i,
			   json_object *obj)
{
	const char *tap = NULL, *mac = NULL;
	int vhost = -1;

	json_object_object_foreach(obj, key, val) {
		if (!strcmp(key, "tap") || !strcmp(key, "mac")) {
			if (!json_object_is_type(val, json_type_string))
				return err_set("VM config %s: \"nets\"[%d]: \"%s\" must be a string",
					       path, i, key);
			if (has_nul(val))
				return err_set("VM config %s: \"nets\"[%d]: \"%s\" contains a NUL character: remove it",
					       path, i, key);
			if (*key == 't')
				tap = json_object_get_string(val);
			else
				mac = json_object_get_string(val);
		} else if (!strcmp(key, "vhost")) {
			if (!json_object_is_type(val, json_type_boolean))
				return err_set("VM config %s: \"nets\"[%d]: \"vhost\" must be true or false (or left out: vhost-net where the host has it)",
					       path, i);
			vhost = json_object_get_boolean(val);
		} else {
			return err_set("VM config %s: \"nets\"[%d]: unknown key \"%s\": the keys are tap, mac, vhost",
				       path, i, key);
		}
	}
	if (!tap)
		return err_set("VM config %s: \"nets\"[%d] has no \"tap\": name the host's tap interface",
			       path, i);
	if (net_add(cfg, tap, mac, vhost))
		return err_set("VM config %s: \"nets\"[%d]: %s", path, i, err_msg());
	return 0;
}

/* "nets": [ "tap=tap0", {"tap": "tap1"} ] replaces the nets so far. */
static int load_nets(struct vm_config *cfg, const char *path, json_object *val)
{
	size_t n;

	if (!json_object_is_type(val, json_type_array))
		return err_set("VM config %s: \"nets\" must be an array, like [\"tap=tap0\", {\"tap\": \"tap1\", \"vhost\": false}]",
			       path);
	n = json_object_array_length(val);
	if (config_check_nnets((long long)n))
		return err_set("VM config %s: %s", path, err_msg());
	nets_clear(cfg);
	for (size_t i = 0; i < n; i++) {
		json_object *elem = json_object_array_get_idx(val, i);

		if (json_object_is_type(elem, json_type_string)) {
			if (has_nul(elem))
				return err_set("VM config %s: \"nets\"[%zu] contains a NUL character: remove it",
					       path, i);
			if (net_add_spec(cfg, json_object_get_string(elem)))
				return err_set("VM config %s: \"nets\"[%zu] \"%s\": %s", path,
					       i, json_object_get_string(elem), err_msg());
		} else if (json_object_is_type(elem, json_type_object)) {
			if (load_net_object(cfg, path, (int)i, elem))
				return -1;
		} else {
			return err_set("VM config %s: \"nets\"[%zu] must be a string like \"tap=tap0,vhost=off\" or an object with \"tap\"",
				       path, i);
		}
	}
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
		return load_disks(cfg, path, val);
	if (!strcmp(key, "nets"))
		return load_nets(cfg, path, val);
	return err_set("VM config %s: unknown key \"%s\": the keys are name, kernel, initrd, cmdline, cpus, memory, slice, pvh, disks, nets",
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
