// SPDX-License-Identifier: GPL-2.0
/*
 * KVM binary statistics: synthetic stats files in a memfd, laid out as the
 * kernel lays them out (header, id string, descriptors each followed by a
 * name of name_size bytes, data), parsed, refreshed, refused when
 * malformed, and formatted; plus one real VM when this host has KVM.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/kvm.h>

#include "lib/err.h"
#include "vmm/kvm.h"
#include "vmm/kvm_stats.h"

#define CUM	(KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10)
#define INST	(KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10)
#define PEAK	(KVM_STATS_TYPE_PEAK | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10)
#define LOGH	(KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_SECONDS | KVM_STATS_BASE_POW10)
#define NSEC	(KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS | KVM_STATS_BASE_POW10)

struct spec {
	const char *name;
	uint32_t flags;
	int16_t exponent;
	uint16_t size;
};

/* A VM's stats and a vCPU's, as x86 KVM names them (a subset). */
static const struct spec vm_spec[] = {
	{ "remote_tlb_flush", CUM, 0, 1 },
	{ "pages_4k", INST, 0, 1 },
	{ "pages_2m", INST, 0, 1 },
	{ "pages_1g", INST, 0, 1 },
	{ "max_mmu_rmap_size", PEAK, 0, 1 },
};

static const struct spec vcpu_spec[] = {
	{ "halt_poll_success_ns", NSEC, -9, 1 },
	{ "halt_poll_success_hist", LOGH, -9, 4 },
	{ "exits", CUM, 0, 1 },
	{ "halt_exits", CUM, 0, 1 },
	{ "io_exits", CUM, 0, 1 },
	{ "mmio_exits", CUM, 0, 1 },
	{ "irq_exits", CUM, 0, 1 },
	{ "blocking", INST, 0, 1 },
	{ "max_halt", PEAK, 0, 1 },
};

#define NVM	(int)(sizeof(vm_spec) / sizeof(vm_spec[0]))
#define NVCPU	(int)(sizeof(vcpu_spec) / sizeof(vcpu_spec[0]))
#define NAME_SIZE	48
#define ID_LEN		64

/* Where build() put things, for tests that damage them. */
struct layout {
	uint32_t id_off, desc_off, data_off, data_len, stride;
};

static uint32_t align8(uint32_t x)
{
	return (x + 7) & ~7U;
}

/*
 * Writes a stats file for @spec into a new memfd: the header, the id
 * string, the descriptors and the data (stat i's values are
 * base + 100 * i + j); returns the fd.
 */
static int build(const struct spec *spec, int n, const char *id, uint64_t base,
		 struct layout *lo)
{
	struct kvm_stats_header h = { 0 };
	int fd = memfd_create("kvmstats", MFD_CLOEXEC);
	uint32_t off = 0;
	char idbuf[ID_LEN] = { 0 };

	assert_true(fd >= 0);
	lo->stride = sizeof(struct kvm_stats_desc) + NAME_SIZE;
	lo->id_off = align8(sizeof(h));
	lo->desc_off = align8(lo->id_off + ID_LEN);
	lo->data_off = align8(lo->desc_off + n * lo->stride);
	h.name_size = NAME_SIZE;
	h.num_desc = n;
	h.id_offset = lo->id_off;
	h.desc_offset = lo->desc_off;
	h.data_offset = lo->data_off;
	assert_int_equal(pwrite(fd, &h, sizeof(h), 0), sizeof(h));
	snprintf(idbuf, sizeof(idbuf), "%s", id);
	assert_int_equal(pwrite(fd, idbuf, ID_LEN, lo->id_off), ID_LEN);
	for (int i = 0; i < n; i++) {
		char raw[sizeof(struct kvm_stats_desc) + NAME_SIZE] = { 0 };
		struct kvm_stats_desc d = {
			.flags = spec[i].flags, .exponent = spec[i].exponent,
			.size = spec[i].size, .offset = off,
		};

		memcpy(raw, &d, sizeof(d));
		snprintf(raw + sizeof(d), NAME_SIZE, "%s", spec[i].name);
		assert_int_equal(pwrite(fd, raw, lo->stride, lo->desc_off + i * lo->stride),
				 lo->stride);
		for (int j = 0; j < spec[i].size; j++) {
			uint64_t v = base + 100 * i + j;

			assert_int_equal(pwrite(fd, &v, 8, lo->data_off + off + 8 * j), 8);
		}
		off += 8 * spec[i].size;
	}
	lo->data_len = off;
	return fd;
}

static void put32(int fd, uint32_t off, uint32_t v)
{
	assert_int_equal(pwrite(fd, &v, 4, off), 4);
}

static void put64(int fd, uint32_t off, uint64_t v)
{
	assert_int_equal(pwrite(fd, &v, 8, off), 8);
}

static void test_parse(void **state)
{
	const struct kvm_stat *s;
	struct kvm_stats st;
	struct layout lo;
	uint64_t v;
	int fd = build(vcpu_spec, NVCPU, "kvm-1234/vcpu-0", 1000, &lo);

	(void)state;
	if (kvm_stats_open(&st, fd))
		fail_msg("open: %s", err_msg());
	assert_string_equal(st.id, "kvm-1234/vcpu-0");
	assert_int_equal(st.n, NVCPU);
	assert_int_equal(st.data_len, lo.data_len);
	assert_int_equal(kvm_stats_get(&st, "exits", &v), 0);
	assert_int_equal(v, 1200);
	assert_int_equal(kvm_stats_get(&st, "irq_exits", &v), 0);
	assert_int_equal(v, 1600);

	s = kvm_stats_find(&st, "halt_poll_success_hist");
	assert_non_null(s);
	assert_int_equal(s->size, 4);
	assert_int_equal(s->value[0], 1100);
	assert_int_equal(s->value[3], 1103);
	assert_string_equal(kvm_stat_type_name(s->flags), "log-hist");
	assert_string_equal(kvm_stat_unit_name(s->flags), "seconds");

	s = kvm_stats_find(&st, "halt_poll_success_ns");
	assert_int_equal(s->exponent, -9);
	assert_string_equal(kvm_stat_type_name(s->flags), "cumulative");
	assert_string_equal(kvm_stat_type_name(kvm_stats_find(&st, "blocking")->flags),
			    "instant");
	assert_string_equal(kvm_stat_type_name(kvm_stats_find(&st, "max_halt")->flags),
			    "peak");
	assert_string_equal(kvm_stat_unit_name(kvm_stats_find(&st, "exits")->flags), "");

	/* Iteration sees every stat in the file's order. */
	int i = 0;
	kvm_stats_for_each(s, &st)
		assert_string_equal(s->name, vcpu_spec[i++].name);
	assert_int_equal(i, NVCPU);

	assert_null(kvm_stats_find(&st, "pages_4k"));
	assert_int_equal(kvm_stats_get(&st, "pages_4k", &v), -1);
	assert_non_null(strstr(err_msg(), "no stat 'pages_4k'"));
	assert_non_null(strstr(err_msg(), "kvm-1234/vcpu-0"));
	kvm_stats_close(&st);
	/* The fd was borrowed: still open. */
	assert_true(fcntl(fd, F_GETFD) >= 0);
	close(fd);
}

static void test_refresh_and_copy(void **state)
{
	struct kvm_stats st, old;
	struct layout lo;
	uint64_t v;
	int fd = build(vcpu_spec, NVCPU, "kvm-1/vcpu-1", 0, &lo);

	(void)state;
	assert_int_equal(kvm_stats_open(&st, fd), 0);
	assert_int_equal(kvm_stats_copy(&old, &st), 0);
	/* The data block changes; descriptors are not read again. */
	put64(fd, lo.data_off + kvm_stats_find(&st, "exits")->offset, 777777);
	put32(fd, lo.desc_off + lo.stride * 2 + sizeof(struct kvm_stats_desc), 0x41414141);
	assert_int_equal(kvm_stats_refresh(&st), 0);
	assert_int_equal(kvm_stats_get(&st, "exits", &v), 0);
	assert_int_equal(v, 777777);
	/* The copy keeps the old values and names, and has no fd. */
	assert_int_equal(kvm_stats_get(&old, "exits", &v), 0);
	assert_int_equal(v, 200);
	assert_string_equal(old.id, "kvm-1/vcpu-1");
	assert_int_equal(old.fd, -1);
	assert_int_equal(kvm_stats_refresh(&old), -1);
	assert_non_null(strstr(err_msg(), "copy"));
	assert_int_equal(kvm_stats_find(&old, "halt_poll_success_hist")->value[2], 102);
	kvm_stats_close(&old);
	/* The file shrinks below the data block: the refresh is refused. */
	assert_int_equal(ftruncate(fd, lo.data_off + 8), 0);
	assert_int_equal(kvm_stats_refresh(&st), -1);
	assert_non_null(strstr(err_msg(), "data block"));
	kvm_stats_close(&st);
	kvm_stats_close(&st);	/* twice is harmless */
	close(fd);
}

/* Opening @fd fails with a one-line error containing @needle. */
static void refused(int fd, const char *needle)
{
	struct kvm_stats st;

	assert_int_equal(kvm_stats_open(&st, fd), -1);
	if (!strstr(err_msg(), needle))
		fail_msg("expected '%s' in: %s", needle, err_msg());
	assert_null(strchr(err_msg(), '\n'));
	assert_non_null(strstr(err_msg(), "malformed KVM statistics"));
	assert_null(st.stat);
	assert_null(st.data);
	close(fd);
}

static int fresh(struct layout *lo)
{
	return build(vcpu_spec, NVCPU, "kvm-9", 0, lo);
}

static void test_malformed(void **state)
{
	struct layout lo;
	int fd;

	(void)state;
	fd = memfd_create("empty", MFD_CLOEXEC);
	refused(fd, "header");

	fd = fresh(&lo);
	put32(fd, offsetof(struct kvm_stats_header, name_size), 0);
	refused(fd, "name size 0");

	fd = fresh(&lo);
	put32(fd, offsetof(struct kvm_stats_header, name_size), 1U << 30);
	refused(fd, "name size");

	fd = fresh(&lo);
	put32(fd, offsetof(struct kvm_stats_header, num_desc), 0xffffffffU);
	refused(fd, "descriptors, more than");

	fd = fresh(&lo);
	put32(fd, offsetof(struct kvm_stats_header, num_desc), NVCPU + 40);
	refused(fd, "past the end");

	fd = fresh(&lo);
	put32(fd, offsetof(struct kvm_stats_header, desc_offset), 0xfffffff0U);
	refused(fd, "descriptor block");

	fd = fresh(&lo);
	put32(fd, offsetof(struct kvm_stats_header, id_offset), 0xfffffff0U);
	refused(fd, "id string");

	fd = fresh(&lo);
	put32(fd, offsetof(struct kvm_stats_header, data_offset), 0xfffffff0U);
	refused(fd, "data block");

	/* An id of 64 bytes without a NUL. */
	fd = fresh(&lo);
	assert_int_equal(pwrite(fd, "kvm-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
				64, lo.id_off), 64);
	refused(fd, "id string at offset");

	/* A name filling all name_size bytes: no NUL. */
	fd = fresh(&lo);
	{
		char nm[NAME_SIZE];

		memset(nm, 'a', sizeof(nm));
		assert_int_equal(pwrite(fd, nm, NAME_SIZE, lo.desc_off + 3 * lo.stride +
					sizeof(struct kvm_stats_desc)), NAME_SIZE);
	}
	refused(fd, "descriptor 3: its name is not NUL-terminated");

	fd = fresh(&lo);
	assert_int_equal(pwrite(fd, "", 1, lo.desc_off + sizeof(struct kvm_stats_desc)), 1);
	refused(fd, "descriptor 0 has an empty name");

	fd = fresh(&lo);
	{
		uint16_t zero = 0;

		assert_int_equal(pwrite(fd, &zero, 2, lo.desc_off + 2 * lo.stride +
					offsetof(struct kvm_stats_desc, size)), 2);
	}
	refused(fd, "stat exits has size 0");

	fd = fresh(&lo);
	put32(fd, lo.desc_off + offsetof(struct kvm_stats_desc, offset), 4);
	refused(fd, "not a multiple of 8");

	fd = fresh(&lo);
	put32(fd, lo.desc_off + offsetof(struct kvm_stats_desc, offset), 0xfffffff8U);
	refused(fd, "past the");

	/* A stat whose values lie past the file's end. */
	fd = fresh(&lo);
	put32(fd, lo.desc_off + offsetof(struct kvm_stats_desc, offset), 4096);
	refused(fd, "data block");
}

/* Every value of every stat is readable after a successful open. */
static uint64_t touch_all(const struct kvm_stats *st)
{
	const struct kvm_stat *s;
	uint64_t sum = 0;

	kvm_stats_for_each(s, st)
		for (int j = 0; j < s->size; j++)
			sum += s->value[j] + (uint64_t)strlen(s->name);
	return sum;
}

/*
 * Random damage to a valid file: open either succeeds, and then every value
 * is inside what was read (AddressSanitizer builds check it), or fails with
 * one line.
 */
static void test_random_damage(void **state)
{
	struct layout lo;
	unsigned int seed = 8;
	int ok = 0, bad = 0;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		int fd = build(vcpu_spec, NVCPU, "kvm-7", round, &lo);
		uint32_t total = lo.data_off + lo.data_len;
		struct kvm_stats st;
		int flips = 1 + rand_r(&seed) % 4;

		for (int k = 0; k < flips; k++) {
			uint32_t at = rand_r(&seed) % (round % 2 ? 24 : total);
			uint8_t b = rand_r(&seed);

			assert_int_equal(pwrite(fd, &b, 1, at), 1);
		}
		if (round % 7 == 0)
			assert_int_equal(ftruncate(fd, rand_r(&seed) % total), 0);
		if (!kvm_stats_open(&st, fd)) {
			ok++;
			touch_all(&st);
			kvm_stats_refresh(&st);
			kvm_stats_close(&st);
		} else {
			bad++;
			assert_null(strchr(err_msg(), '\n'));
		}
		close(fd);
	}
	assert_true(ok > 0);
	assert_true(bad > 0);
}

/* ---- Formatting ------------------------------------------------------------ */

struct vm_fixture {
	struct kvm_stats vm, vcpus[2];
	int fds[3];
	struct layout vm_lo;
};

static void vm_open(struct vm_fixture *f, uint64_t base0, uint64_t base1)
{
	struct layout lo;

	f->fds[0] = build(vm_spec, NVM, "kvm-42", 10, &f->vm_lo);
	f->fds[1] = build(vcpu_spec, NVCPU, "kvm-42/vcpu-0", base0, &lo);
	f->fds[2] = build(vcpu_spec, NVCPU, "kvm-42/vcpu-1", base1, &lo);
	assert_int_equal(kvm_stats_open(&f->vm, f->fds[0]), 0);
	assert_int_equal(kvm_stats_open(&f->vcpus[0], f->fds[1]), 0);
	assert_int_equal(kvm_stats_open(&f->vcpus[1], f->fds[2]), 0);
}

static void vm_close(struct vm_fixture *f)
{
	kvm_stats_close(&f->vm);
	for (int i = 0; i < 2; i++)
		kvm_stats_close(&f->vcpus[i]);
	for (int i = 0; i < 3; i++)
		close(f->fds[i]);
}

static int64_t jint(json_object *o, const char *a, const char *b)
{
	json_object *x, *y;

	assert_true(json_object_object_get_ex(o, a, &x));
	if (!json_object_object_get_ex(x, b, &y))
		fail_msg("no %s.%s in %s", a, b, json_object_to_json_string(o));
	return json_object_get_int64(y);
}

static void test_json(void **state)
{
	struct vm_fixture then, now;
	struct kvm_stats_snapshot a = { "db", 10.0, &then.vm, 2, then.vcpus };
	struct kvm_stats_snapshot b = { "db", 12.0, &now.vm, 2, now.vcpus };
	json_object *o, *ps, *v, *x;
	const char *text;

	(void)state;
	vm_open(&then, 1000, 2000);
	vm_open(&now, 1300, 2100);
	o = kvm_stats_json(&b, NULL);
	assert_non_null(o);
	/* VM stats, and vCPU stats summed as debugfs does; peaks by maximum. */
	assert_int_equal(jint(o, "vm", "pages_4k"), 110);
	assert_int_equal(jint(o, "vm", "remote_tlb_flush"), 10);
	assert_int_equal(jint(o, "vm", "exits"), 1500 + 2300);
	assert_int_equal(jint(o, "vm", "halt_exits"), 1600 + 2400);
	assert_int_equal(jint(o, "vm", "max_halt"), 2900);
	assert_true(json_object_object_get_ex(o, "vcpus", &v));
	assert_int_equal(json_object_array_length(v), 2);
	x = json_object_array_get_idx(v, 1);
	assert_int_equal(json_object_get_int64(json_object_object_get(x, "exits")), 2300);
	assert_null(json_object_object_get(x, "pages_4k"));
	json_object_put(o);

	o = kvm_stats_json(&b, &a);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	assert_true(json_object_object_get_ex(o, "per_second", &ps));
	/* exits went from 1200 + 2200 to 1500 + 2300 in 2 s: 200/s. */
	assert_int_equal(jint(ps, "vm", "exits"), 200);
	assert_non_null(strstr(text, "\"exits\":200.0"));
	/* Only cumulative scalars have rates. */
	assert_false(json_object_object_get_ex(json_object_object_get(ps, "vm"), "pages_4k",
					       NULL));
	assert_false(json_object_object_get_ex(json_object_object_get(ps, "vm"),
					       "halt_poll_success_hist", NULL));
	x = json_object_array_get_idx(json_object_object_get(ps, "vcpus"), 0);
	assert_int_equal(json_object_get_int(json_object_object_get(x, "exits")), 150);
	x = json_object_array_get_idx(json_object_object_get(ps, "vcpus"), 1);
	assert_int_equal(json_object_get_int(json_object_object_get(x, "exits")), 50);
	/* Histograms are arrays, summed over the vCPUs. */
	x = json_object_object_get(json_object_object_get(o, "vm"), "halt_poll_success_hist");
	assert_true(json_object_is_type(x, json_type_array));
	assert_int_equal(json_object_array_length(x), 4);
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(x, 3)),
			 1403 + 2203);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "name")), "db");
	json_object_put(o);

	/* A counter that went backwards (a new fd) gives 0, never a wrapped rate. */
	o = kvm_stats_json(&a, &(struct kvm_stats_snapshot){ "db", 9.0, &now.vm, 2,
							      now.vcpus });
	assert_int_equal(jint(json_object_object_get(o, "per_second"), "vm", "exits"), 0);
	json_object_put(o);
	vm_close(&then);
	vm_close(&now);
}

static char *print(const struct kvm_stats_snapshot *cur, const struct kvm_stats_snapshot *prev,
		   bool per_vcpu, bool all)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_int_equal(kvm_stats_print(cur, prev, per_vcpu, all, out), 0);
	fclose(out);
	return text;
}

static void test_table(void **state)
{
	struct vm_fixture then, now;
	struct kvm_stats_snapshot a = { "db", 10.0, &then.vm, 2, then.vcpus };
	struct kvm_stats_snapshot b = { "db", 11.0, &now.vm, 2, now.vcpus };
	unsigned long long total;
	double r, c0, c1;
	char *t, *exits, *pages;

	(void)state;
	vm_open(&then, 1000, 2000);
	vm_open(&now, 1100, 2000);
	/* Zero the VM's pages_1g: left out unless all. */
	put64(now.fds[0], now.vm_lo.data_off + kvm_stats_find(&now.vm, "pages_1g")->offset, 0);
	assert_int_equal(kvm_stats_refresh(&now.vm), 0);
	t = print(&b, NULL, false, false);
	assert_non_null(strstr(t, "VM db: 2 vCPUs\n"));
	assert_non_null(strstr(t, " Event "));
	exits = strstr(t, "\n exits ");
	assert_non_null(exits);
	assert_int_equal(sscanf(exits, " exits %llu", &total), 1);
	assert_int_equal(total, 1300 + 2200);
	assert_null(strstr(t, "Current/s"));
	assert_null(strstr(t, "pages_1g"));
	assert_null(strstr(t, "halt_poll_success_hist"));	/* histograms: JSON only */
	free(t);

	t = print(&b, &a, true, true);
	assert_non_null(strstr(t, "rates over 1.0 s"));
	assert_non_null(strstr(t, "Current/s"));
	assert_non_null(strstr(t, "vcpu0"));
	assert_non_null(strstr(t, "vcpu1"));
	/* Busiest first: every vCPU-0 counter rose by 100/s, vCPU 1's by 0. */
	assert_non_null(strstr(t, "\n pages_1g "));
	exits = strstr(t, "\n exits ");
	pages = strstr(t, "\n pages_4k ");
	assert_non_null(exits);
	assert_non_null(pages);
	assert_true(exits < pages);
	assert_int_equal(sscanf(exits, " exits %llu %lf %lf %lf", &total, &r, &c0, &c1), 4);
	assert_int_equal(total, 3500);
	assert_true(r == 100.0 && c0 == 100.0 && c1 == 0.0);
	/* Instant stats have no rate: their vCPU cells are values. */
	assert_int_equal(sscanf(strstr(t, "\n blocking "), " blocking %llu %lf %lf", &total,
				&c0, &c1), 3);
	assert_int_equal(total, 1800 + 2700);
	assert_true(c0 == 1800 && c1 == 2700);
	free(t);
	vm_close(&then);
	vm_close(&now);
}

/* ---- A real VM, when this host has KVM ------------------------------------- */

static void test_real_vm(void **state)
{
	int kvm = open(kvm_device_path(), O_RDONLY | O_CLOEXEC), vm, vcpu;
	struct kvm_stats st, vst;
	uint64_t v;

	(void)state;
	if (kvm < 0)
		skip();
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) <= 0) {
		if (vm >= 0)
			close(vm);
		close(kvm);
		skip();
	}
	if (kvm_stats_open_ioctl(&st, vm, "VM"))
		fail_msg("%s", err_msg());
	assert_int_equal(kvm_stats_get(&st, "pages_4k", &v), 0);
	assert_true(st.id[0] != '\0');
	assert_int_equal(kvm_stats_refresh(&st), 0);
	kvm_stats_close(&st);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu >= 0) {
		if (kvm_stats_open_ioctl(&vst, vcpu, "vCPU 0"))
			fail_msg("%s", err_msg());
		assert_int_equal(kvm_stats_get(&vst, "exits", &v), 0);
		kvm_stats_close(&vst);
		close(vcpu);
	}
	close(vm);
	close(kvm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refresh_and_copy),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_random_damage),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_real_vm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
