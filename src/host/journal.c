// SPDX-License-Identifier: GPL-2.0
/* Recorded, undoable changes to the host (see journal.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/journal.h"
#include "lib/err.h"

void notes_add(struct notes *n, const char *fmt, ...)
{
	char line[512];
	size_t add;
	char *more;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	add = strlen(line);
	more = realloc(n->text, n->len + add + 2);
	if (!more)
		return;		/* a lost note is not worth failing apply */
	n->text = more;
	memcpy(n->text + n->len, line, add);
	n->len += add;
	n->text[n->len++] = '\n';
	n->text[n->len] = '\0';
}

void notes_free(struct notes *n)
{
	free(n->text);
	n->text = NULL;
	n->len = 0;
}

/*
 * The change failed: forget its record, keeping the host's error and errno.
 * Forgetting succeeds without touching err_msg(); a ledger failure replaces
 * the error, which is then the one that matters.
 */
static int refused(struct journal *j, int64_t seq)
{
	int saved = errno;

	if (ledger_drop_change(j->ledger, seq))
		return -1;
	j->refused = true;
	errno = saved;
	return -1;
}

int journal_write(struct journal *j, const char *path, const char *val, const char *undo,
		  const char *what)
{
	char old[4096];
	int64_t seq;

	j->refused = false;
	if (!undo) {
		if (hostfs_read(path, old, sizeof(old))) {
			j->refused = true;
			return -1;
		}
		if (!strcmp(old, val))
			return 0;
		undo = old;
	}
	if (ledger_record(j->ledger, CHANGE_WRITE, path, undo, what, &seq))
		return -1;
	if (hostfs_write(j->hp, path, val))
		return refused(j, seq);
	j->changes++;
	return 0;
}

int journal_mkdir(struct journal *j, const char *path, const char *what)
{
	int64_t seq;

	j->refused = false;
	if (ledger_record(j->ledger, CHANGE_MKDIR, path, NULL, what, &seq))
		return -1;
	if (hostfs_mkdir(j->hp, path))
		return refused(j, seq);
	j->changes++;
	return 0;
}

static int undo_one(struct journal *j, const struct ledger_change *c, FILE *out)
{
	if (c->kind == CHANGE_MKDIR) {
		if (hostfs_rmdir(j->hp, c->path) == 0 || errno == ENOENT)
			return 0;
		fprintf(out, "kept: %s (%s): %s\n", c->path, c->what, err_msg());
		return 1;
	}
	if (hostfs_write(j->hp, c->path, c->old) == 0 || errno == ENOENT)
		return 0;
	/* Retrying later would not help: say so and move on. */
	fprintf(out, "not restored: %s (%s) to '%s': %s\n", c->path, c->what, c->old,
		err_msg());
	return 0;
}

int journal_undo(struct journal *j, FILE *out)
{
	struct ledger_change *c;
	int n, kept = 0;

	if (ledger_changes(j->ledger, &c, &n))
		return -1;
	for (int i = 0; i < n; i++) {
		int r = undo_one(j, &c[i], out);

		if (r > 0) {
			kept++;
			continue;
		}
		j->undone++;
		if (ledger_drop_change(j->ledger, c[i].seq)) {
			ledger_changes_free(c, n);
			return -1;
		}
	}
	ledger_changes_free(c, n);
	return kept ? 1 : 0;
}
