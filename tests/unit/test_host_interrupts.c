// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/interrupts parsing and comparison: column mapping through the
 * header (offline CPUs leave gaps), short lines (ERR, MIS), descriptions
 * that start with digits, counters that restart, lines that come and go.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/interrupts.h"
#include "lib/err.h"

/* CPU1 is offline: columns are CPU0, CPU2, CPU3. */
static const char then_text[] =
	"            CPU0       CPU2       CPU3       \n"
	"   0:         44          0          0   IO-APIC   2-edge      timer\n"
	"   8:          0          1          0   IO-APIC   8-edge      rtc0\n"
	"  24:         10         20         30   PCI-MSI 512000-edge      nvme0q0\n"
	" NMI:          0          0          0   Non-maskable interrupts\n"
	" LOC:       1000       2000       3000   Local timer interrupts\n"
	" IWI:          1          2          3   IRQ work interrupts\n"
	" ERR:          0\n"
	" MIS:          0\n";

static const struct irq_line *line(const struct irq_table *t, const char *label)
{
	for (int i = 0; i < t->nlines; i++)
		if (!strcmp(t->lines[i].label, label))
			return &t->lines[i];
	fail_msg("no line %s", label);
	return NULL;
}

static void test_parse(void **state)
{
	struct irq_table t;
	const struct irq_line *l;
	struct cpumask m;

	(void)state;
	if (interrupts_parse(then_text, &t))
		fail_msg("parse: %s", err_msg());
	assert_int_equal(t.ncols, 3);
	assert_int_equal(t.cpu[0], 0);
	assert_int_equal(t.cpu[1], 2);
	assert_int_equal(t.cpu[2], 3);
	assert_int_equal(t.nlines, 8);

	l = line(&t, "0");
	assert_int_equal(l->ncounts, 3);
	assert_true(l->counts[0] == 44);
	/* "2-edge" is a word of the description, not a count. */
	assert_string_equal(l->desc, "IO-APIC 2-edge timer");
	l = line(&t, "24");
	assert_true(l->counts[2] == 30);
	assert_string_equal(l->desc, "PCI-MSI 512000-edge nvme0q0");
	l = line(&t, "ERR");
	assert_int_equal(l->ncounts, 1);
	assert_string_equal(l->desc, "");
	l = line(&t, "LOC");
	assert_string_equal(l->desc, "Local timer interrupts");

	/* Sums go through the header: CPU2 is the second column. */
	cpumask_parse_list("2", &m);
	assert_true(interrupts_sum(&t, line(&t, "LOC"), &m) == 2000);
	cpumask_parse_list("1-3", &m);
	assert_true(interrupts_sum(&t, line(&t, "LOC"), &m) == 5000);
	/* ERR's single number is CPU0's column only. */
	assert_true(interrupts_sum(&t, line(&t, "ERR"), &m) == 0);
	interrupts_free(&t);
}

static void test_diff(void **state)
{
	/* CPU1 came online (a new column), IRQ 8 went away, IRQ 24 was freed and
	 * reused (its count restarted), IRQ 30 is new. */
	static const char now_text[] =
		"            CPU0       CPU1       CPU2       CPU3\n"
		"   0:         50          0          0          0   IO-APIC   2-edge      timer\n"
		"  24:         10          0          4         30   PCI-MSI 512000-edge      nvme0q0\n"
		"  30:          0          0          0          9   PCI-MSI 1-edge      virtio0-input\n"
		" NMI:          0          0          0          0   Non-maskable interrupts\n"
		" LOC:       1100         77       2010       3500   Local timer interrupts\n"
		" IWI:          1          0          2          3   IRQ work interrupts\n"
		" ERR:          0\n"
		" MIS:          0\n";
	struct irq_table then, now;
	struct irq_delta *d;
	struct cpumask m;
	int n;

	(void)state;
	assert_int_equal(interrupts_parse(then_text, &then), 0);
	assert_int_equal(interrupts_parse(now_text, &now), 0);
	cpumask_parse_list("2-3", &m);
	assert_int_equal(interrupts_diff(&then, &now, &m, &d, &n), 0);
	/* LOC 10+500, irq 30: 9, irq 24: restarted on CPU2 (4), same on CPU3. */
	assert_int_equal(n, 3);
	assert_string_equal(d[0].label, "LOC");
	assert_true(d[0].count == 510);
	assert_string_equal(d[1].label, "30");
	assert_true(d[1].count == 9);
	assert_string_equal(d[1].desc, "PCI-MSI 1-edge virtio0-input");
	assert_string_equal(d[2].label, "24");
	assert_true(d[2].count == 4);
	free(d);

	/* A CPU that was offline at the snapshot counts from zero. */
	cpumask_parse_list("1", &m);
	assert_int_equal(interrupts_diff(&then, &now, &m, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_true(d[0].count == 77);
	free(d);
	interrupts_free(&then);
	interrupts_free(&now);
}

static void test_malformed(void **state)
{
	struct irq_table t;

	(void)state;
	assert_int_equal(interrupts_parse("", &t), -1);
	assert_non_null(strstr(err_msg(), "empty"));
	assert_int_equal(interrupts_parse("  0:  1 2 3 timer\n", &t), -1);
	assert_non_null(strstr(err_msg(), "where CPUn belongs"));
	assert_int_equal(interrupts_parse("  CPU0 CPU99999\n", &t), -1);
	/* Lines without a label are skipped; odd lines do not break the rest. */
	assert_int_equal(interrupts_parse("   CPU0   CPU1\n"
					  "garbage without colon\n"
					  "  5: 1\n"
					  "  6: x 1 2 words\n"
					  "  7: 1 2 3 4 5\n", &t), 0);
	assert_int_equal(t.nlines, 3);
	assert_int_equal(t.lines[0].ncounts, 1);
	assert_int_equal(t.lines[1].ncounts, 0);
	assert_string_equal(t.lines[1].desc, "x 1 2 words");
	/* Counts stop at the number of columns. */
	assert_int_equal(t.lines[2].ncounts, 2);
	assert_string_equal(t.lines[2].desc, "3 4 5");
	interrupts_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
