// SPDX-License-Identifier: GPL-2.0
/*
 * Direct features in the VM config: --direct LIST and "direct" in VM.json.
 * Only the names and the slice they need: whether the host and its KVM can
 * is the VMM's to check (test_vmm_direct.c).
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

/* --direct @list is refused with exactly @msg, and changes nothing. */
static void expect_option_error(const char *list, const char *msg)
{
	struct vm_config cfg;

	config_init(&cfg);
	err_clear();
	assert_int_equal(config_add_direct_option(&cfg, list), -1);
	assert_string_equal(err_msg(), msg);
	assert_int_equal(cfg.direct, 0);
	config_free(&cfg);
}

/* config_load() refuses @text with exactly "VM config <file>: @msg". */
static void expect_load_exact(const char *text, const char *msg)
{
	struct vm_config cfg;
	char want[2048];
	const char *path = test_put_file(test_dir, "bad.json", text);

	snprintf(want, sizeof(want), "VM config %s: %s", path, msg);
	config_init(&cfg);
	cfg.direct = VM_DIRECT_TIMER;
	assert_int_equal(config_load(&cfg, path), -1);
	assert_string_equal(err_msg(), want);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER);	/* the list before is kept */
	config_free(&cfg);
}

static void names(void **state)
{
	char buf[64];

	assert_string_equal(config_direct_name(0), "timer");
	assert_string_equal(config_direct_name(1), "pmu");
	assert_string_equal(config_direct_name(2), "irq");
	assert_string_equal(config_direct_name(3), "ipi");
	assert_null(config_direct_name(4));
	assert_null(config_direct_name(-1));
	assert_int_equal(VM_DIRECT_TIMER, 1U << 0);
	assert_int_equal(VM_DIRECT_PMU, 1U << 1);
	assert_int_equal(VM_DIRECT_IRQ, 1U << 2);
	assert_int_equal(VM_DIRECT_IPI, 1U << 3);
	assert_int_equal(VM_DIRECT_ALL, VM_DIRECT_TIMER | VM_DIRECT_PMU | VM_DIRECT_IRQ | VM_DIRECT_IPI);
	assert_string_equal(config_direct_list(VM_DIRECT_TIMER, ",", buf, sizeof(buf)), "timer");
	assert_string_equal(config_direct_list(VM_DIRECT_PMU, ",", buf, sizeof(buf)), "pmu");
	assert_string_equal(config_direct_list(VM_DIRECT_ALL, ",", buf, sizeof(buf)), "timer,pmu,irq,ipi");
	assert_string_equal(config_direct_list(0, ",", buf, sizeof(buf)), "");
	/* bits no feature has are not names */
	assert_string_equal(config_direct_list(~0U, ", ", buf, sizeof(buf)), "timer, pmu, irq, ipi");
}

static void option(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(cfg.direct, 0);
	assert_int_equal(config_add_direct_option(&cfg, "timer"), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER);
	/* a second --direct adds; a name it repeats is refused */
	assert_int_equal(config_add_direct_option(&cfg, "timer"), -1);
	assert_string_equal(err_msg(),
			    "--direct timer: 'timer' is given twice: give each feature once");
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER);
	/* pmu joins it; then both are there, and either again is refused */
	assert_int_equal(config_add_direct_option(&cfg, "pmu"), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER | VM_DIRECT_PMU);
	assert_int_equal(config_add_direct_option(&cfg, "pmu"), -1);
	assert_string_equal(err_msg(), "--direct pmu: 'pmu' is given twice: give each feature once");
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER | VM_DIRECT_PMU);
	config_free(&cfg);

	/* both in one list, in either order */
	config_init(&cfg);
	assert_int_equal(config_add_direct_option(&cfg, "timer,pmu"), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER | VM_DIRECT_PMU);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(config_add_direct_option(&cfg, "pmu,timer"), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER | VM_DIRECT_PMU);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(config_add_direct_option(&cfg, "pmu"), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_PMU);
	config_free(&cfg);
}

static void option_errors(void **state)
{
	/* the later stages' names are not known yet: one line naming the known ones */
	expect_option_error("nmi",
			    "--direct nmi: unknown direct feature 'nmi': this slicevm knows timer, pmu, irq, ipi");
	expect_option_error("timer,nmi",
			    "--direct timer,nmi: unknown direct feature 'nmi': this slicevm knows timer, pmu, irq, ipi");
	expect_option_error("Timer",
			    "--direct Timer: unknown direct feature 'Timer': this slicevm knows timer, pmu, irq, ipi");
	expect_option_error("PMU",
			    "--direct PMU: unknown direct feature 'PMU': this slicevm knows timer, pmu, irq, ipi");
	expect_option_error("timer,pmu,irq,ipi,nmi",
			    "--direct timer,pmu,irq,ipi,nmi: unknown direct feature 'nmi': this slicevm knows timer, pmu, irq, ipi");
	expect_option_error("irq,timer,irq",
			    "--direct irq,timer,irq: 'irq' is given twice: give each feature once");
	expect_option_error("timer,timer",
			    "--direct timer,timer: 'timer' is given twice: give each feature once");
	expect_option_error("pmu,timer,pmu",
			    "--direct pmu,timer,pmu: 'pmu' is given twice: give each feature once");
	expect_option_error("timer,",
			    "--direct timer,: an empty feature name (an extra ','): remove it");
	expect_option_error(",timer",
			    "--direct ,timer: an empty feature name (an extra ','): remove it");
	expect_option_error("timer ",
			    "--direct timer : unknown direct feature 'timer ': this slicevm knows timer, pmu, irq, ipi");
	expect_option_error("", "--direct: no feature given: give a list like --direct timer");
}

static void load(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm.json",
		"{\"slice\": \"db\", \"direct\": [\"timer\"]}")), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER);
	/* the same file again: no repeat */
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm.json",
		"{\"direct\": [\"timer\"]}")), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER);
	/* a file without the key keeps it; an empty list clears it */
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm2.json",
		"{\"cpus\": 2}")), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm3.json",
		"{\"direct\": []}")), 0);
	assert_int_equal(cfg.direct, 0);
	/* the PMU alone, and both */
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm4.json",
		"{\"direct\": [\"pmu\"]}")), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_PMU);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm5.json",
		"{\"direct\": [\"pmu\", \"timer\"]}")), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER | VM_DIRECT_PMU);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm6.json",
		"{\"direct\": [\"irq\", \"timer\"]}")), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER | VM_DIRECT_IRQ);
	config_free(&cfg);
}

static void load_errors(void **state)
{
	expect_load_exact("{\"direct\": \"timer\"}", "\"direct\" must be an array, like [\"timer\"]");
	expect_load_exact("{\"direct\": true}", "\"direct\" must be an array, like [\"timer\"]");
	expect_load_exact("{\"direct\": {\"timer\": true}}",
			  "\"direct\" must be an array, like [\"timer\"]");
	expect_load_exact("{\"direct\": [1]}",
			  "\"direct\"[0] must be a feature name like \"timer\"");
	expect_load_exact("{\"direct\": [\"timer\", null]}",
			  "\"direct\"[1] must be a feature name like \"timer\"");
	expect_load_exact("{\"direct\": [[\"timer\"]]}",
			  "\"direct\"[0] must be a feature name like \"timer\"");
	expect_load_exact("{\"direct\": [\"timer\\u0000\"]}",
			  "\"direct\"[0] must be a feature name like \"timer\"");
	expect_load_exact("{\"direct\": [\"timer\", \"nmi\"]}",
			  "\"direct\"[1]: unknown direct feature 'nmi': this slicevm knows timer, pmu, irq, ipi");
	expect_load_exact("{\"direct\": [\"pmu\", \"timer\", \"pmu\"]}",
			  "\"direct\"[2]: 'pmu' is given twice: give each feature once");
	expect_load_exact("{\"direct\": [\"timer\", \"timer\"]}",
			  "\"direct\"[1]: 'timer' is given twice: give each feature once");
	expect_load_exact("{\"direct\": [\"timer,pmu\"]}",
			  "\"direct\"[0]: unknown direct feature 'timer,pmu': this slicevm knows timer, pmu, irq, ipi");
	expect_load_exact("{\"direct\": [\"\"]}",
			  "\"direct\"[0]: an empty feature name (an extra ','): remove it");
	/* the list of keys names it */
	expect_load_error("{\"directs\": []}", "cmdline, cpus, memory, slice, pvh, disks, nets, devices, direct");
}

static void finish_needs_slice(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	config_set_str(&cfg.kernel, "/k");
	assert_int_equal(config_add_direct_option(&cfg, "timer"), 0);
	err_clear();
	assert_int_equal(config_finish(&cfg), -1);
	assert_string_equal(err_msg(),
			    "--direct timer needs a slice: give --slice NAME (a direct feature needs each vCPU alone on an isolated CPU of its own)");
	config_set_str(&cfg.slice, "db");
	assert_int_equal(config_finish(&cfg), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER);
	config_free(&cfg);

	/* from the file alike */
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm.json",
		"{\"kernel\": \"/k\", \"direct\": [\"timer\"]}")), 0);
	assert_int_equal(config_finish(&cfg), -1);
	expect_error_has("--direct timer needs a slice");
	config_free(&cfg);

	/* the line names every feature asked */
	config_init(&cfg);
	config_set_str(&cfg.kernel, "/k");
	assert_int_equal(config_add_direct_option(&cfg, "pmu"), 0);
	assert_int_equal(config_finish(&cfg), -1);
	assert_string_equal(err_msg(),
			    "--direct pmu needs a slice: give --slice NAME (a direct feature needs each vCPU alone on an isolated CPU of its own)");
	assert_int_equal(config_add_direct_option(&cfg, "timer"), 0);
	assert_int_equal(config_finish(&cfg), -1);
	assert_string_equal(err_msg(),
			    "--direct timer,pmu needs a slice: give --slice NAME (a direct feature needs each vCPU alone on an isolated CPU of its own)");
	config_free(&cfg);
}

/* Direct IPIs arrive in direct-interrupt entries: ipi needs irq and timer. */
static void finish_ipi_needs_irq(void **state)
{
	static const char *const lacking[] = { "ipi", "timer,ipi", "irq,ipi", "pmu,ipi" };
	struct vm_config cfg;

	for (size_t i = 0; i < sizeof(lacking) / sizeof(lacking[0]); i++) {
		config_init(&cfg);
		config_set_str(&cfg.kernel, "/k");
		config_set_str(&cfg.slice, "db");
		assert_int_equal(config_add_direct_option(&cfg, lacking[i]), 0);
		err_clear();
		assert_int_equal(config_finish(&cfg), -1);
		/* irq without timer says so first */
		if (!strcmp(lacking[i], "irq,ipi"))
			expect_error_has("--direct irq needs the direct timer too");
		else
			assert_string_equal(err_msg(),
					    "--direct ipi needs direct interrupts and the direct timer too, the entries in which a vCPU takes IPIs without exits: give --direct timer,irq,ipi");
		config_free(&cfg);
	}
	config_init(&cfg);
	config_set_str(&cfg.kernel, "/k");
	config_set_str(&cfg.slice, "db");
	assert_int_equal(config_add_direct_option(&cfg, "ipi,irq,timer"), 0);
	assert_int_equal(config_finish(&cfg), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_TIMER | VM_DIRECT_IRQ | VM_DIRECT_IPI);
	config_free(&cfg);
}

/* Direct interrupts are the direct timer's expiries: irq alone is refused. */
static void finish_irq_needs_timer(void **state)
{
	struct vm_config cfg;

	config_init(&cfg);
	config_set_str(&cfg.kernel, "/k");
	config_set_str(&cfg.slice, "db");
	assert_int_equal(config_add_direct_option(&cfg, "irq"), 0);
	err_clear();
	assert_int_equal(config_finish(&cfg), -1);
	assert_string_equal(err_msg(),
			    "--direct irq needs the direct timer too, whose expiries it delivers without exits: give --direct timer,irq");
	assert_int_equal(config_add_direct_option(&cfg, "pmu"), 0);
	assert_int_equal(config_finish(&cfg), -1);
	expect_error_has("give --direct timer,irq");
	assert_int_equal(config_add_direct_option(&cfg, "timer"), 0);
	assert_int_equal(config_finish(&cfg), 0);
	assert_int_equal(cfg.direct, VM_DIRECT_ALL & ~VM_DIRECT_IPI);
	config_free(&cfg);

	/* from the file alike */
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, test_put_file(test_dir, "vm.json",
		"{\"kernel\": \"/k\", \"slice\": \"db\", \"direct\": [\"irq\"]}")), 0);
	assert_int_equal(config_finish(&cfg), -1);
	expect_error_has("--direct irq needs the direct timer too");
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(option),
		cmocka_unit_test(option_errors),
		cmocka_unit_test(load),
		cmocka_unit_test(load_errors),
		cmocka_unit_test(finish_needs_slice),
		cmocka_unit_test(finish_irq_needs_timer),
		cmocka_unit_test(finish_ipi_needs_irq),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
