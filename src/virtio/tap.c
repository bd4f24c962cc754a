// SPDX-License-Identifier: GPL-2.0
/*
 * Tap devices (see tap.h): /dev/net/tun with IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR. TUNSETIFF attaches to an existing tap of that name or
 * creates one; we never set TUNSETPERSIST, so a tap made here is deleted by
 * the kernel when its last fd closes. The errors the kernel gives are
 * ambiguous (EINVAL and EPERM mean different things for an existing and a
 * new interface), so the message looks whether the name exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/err.h"
#include "virtio/tap.h"

#define TUN_DEVICE	"/dev/net/tun"

_Static_assert(TAP_F_CSUM == TUN_F_CSUM && TAP_F_TSO4 == TUN_F_TSO4 &&
	       TAP_F_TSO6 == TUN_F_TSO6 && TAP_F_TSO_ECN == TUN_F_TSO_ECN,
	       "TAP_F_* are the tun driver's offload flags");

struct tap {
	int fd;
	bool tun;		/* a tun/tap device: offloads apply */
	char name[IFNAMSIZ];
};

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

/* Stricter than the kernel's dev_valid_name(): no spaces, '/', ':', '%'. */
static int check_name(const char *name)
{
	size_t len = strlen(name);

	if (!len)
		return err_set("a tap name is empty: name the host's tap device, e.g. tap0");
	if (len > IFNAMSIZ - 1)
		return err_set("tap name '%s' is longer than %d characters: choose a shorter one",
			       name, IFNAMSIZ - 1);
	for (size_t i = 0; i < len; i++)
		if (!name_char_ok(name[i]))
			return err_set("tap name '%s' has characters other than letters, digits, '.', '-' and '_': choose another",
				       name);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return err_set("tap name '%s' is not a valid interface name: choose another",
			       name);
	return 0;
}

static struct tap *tap_new(int fd, const char *name, bool tun)
{
	struct tap *t = calloc(1, sizeof(*t));

	if (!t) {
		close(fd);
		err_set("out of memory for tap %s", name);
		return NULL;
	}
	t->fd = fd;
	t->tun = tun;
	snprintf(t->name, sizeof(t->name), "%s", name);
	return t;
}

static int open_error(void)
{
	int err = errno;

	if (err == ENOENT || err == ENODEV || err == ENXIO)
		return err_set("cannot open " TUN_DEVICE ": %s: load the tun module (modprobe tun)",
			       strerror(err));
	if (err == EACCES || err == EPERM)
		return err_set("cannot open " TUN_DEVICE ": %s: run slicevm as root, or let its user open "
			       TUN_DEVICE, strerror(err));
	return err_set("cannot open " TUN_DEVICE ": %s", strerror(err));
}

/* The user a tap would be created for, for the "ip tuntap add" hint. */
static void user_name(char *buf, size_t size)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw && pw->pw_name)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "%u", (unsigned int)geteuid());
}

/* @err from TUNSETIFF; the calls here may change errno, so it is not used. */
static int setiff_error(const char *name, int err)
{
	bool exists = if_nametoindex(name) != 0;
	char user[64];

	switch (err) {
	case EPERM:
	case EACCES:
		user_name(user, sizeof(user));
		if (exists)
			return err_set("cannot attach to tap %s: %s: it belongs to another user: recreate it as root (ip tuntap add %s mode tap user %s) or run slicevm as root",
				       name, strerror(err), name, user);
		return err_set("cannot create tap %s: %s: create it first as root (ip tuntap add %s mode tap user %s) or run slicevm as root",
			       name, strerror(err), name, user);
	case EINVAL:
		if (exists)
			return err_set("interface %s is not a tap (a tun, a multi-queue tap or another kind of interface): choose another name, or delete it and create it with ip tuntap add %s mode tap",
				       name, name);
		return err_set("cannot create tap %s: %s", name, strerror(err));
	case EBUSY:
		return err_set("tap %s is in use by another process (another VM?): give each VM a tap of its own",
			       name);
	default:
		return err_set("cannot %s tap %s: %s", exists ? "attach to" : "create", name,
			       strerror(err));
	}
}

struct tap *tap_open(const char *name)
{
	struct ifreq ifr;
	unsigned int features = 0;
	int hdr = TAP_VNET_HDR_LEN, fd;

	if (check_name(name))
		return NULL;
	fd = open(TUN_DEVICE, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		open_error();
		return NULL;
	}
	if (ioctl(fd, TUNGETFEATURES, &features) || !(features & IFF_VNET_HDR)) {
		err_set("tap %s: this kernel's tun driver has no vnet headers (IFF_VNET_HDR): a newer kernel is needed",
			name);
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		setiff_error(name, errno);
		goto fail;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr)) {
		err_set_errno("tap %s: cannot set the vnet header size to %d", name, hdr);
		goto fail;
	}
	/* a tap we attached to may have offloads from its last user */
	if (ioctl(fd, TUNSETOFFLOAD, 0UL)) {
		err_set_errno("tap %s: cannot turn offloads off", name);
		goto fail;
	}
	return tap_new(fd, ifr.ifr_name, true);
fail:
	close(fd);
	return NULL;
}

struct tap *tap_from_fd(int fd, const char *name)
{
	int fl;

	if (fd < 0) {
		err_set("tap %s: no file descriptor", name);
		return NULL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK)) {
		err_set_errno("tap %s: cannot make fd %d non-blocking", name, fd);
		close(fd);
		return NULL;
	}
	return tap_new(fd, name, false);
}

int tap_set_offloads(struct tap *t, unsigned int tun_flags)
{
	if (!t->tun)
		return 0;
	if (!(tun_flags & TAP_F_CSUM))
		tun_flags = 0;	/* segmentation offloads need checksum offload */
	if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)tun_flags))
		return err_set_errno("tap %s: cannot set offloads %#x", t->name, tun_flags);
	return 0;
}

int tap_fd(const struct tap *t)
{
	return t->fd;
}

const char *tap_name(const struct tap *t)
{
	return t->name;
}

bool tap_is_tun(const struct tap *t)
{
	return t->tun;
}

void tap_close(struct tap *t)
{
	if (!t)
		return;
	close(t->fd);
	free(t);
}
