// SPDX-License-Identifier: GPL-2.0
/* Who holds what: process identity from /proc/PID/stat (see procstat.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/hostfs.h"
#include "host/procstat.h"
#include "lib/err.h"

int procstat_start_time(const char *proc_root, pid_t pid, uint64_t *start)
{
	char path[256], buf[1024];
	unsigned long long ticks;
	char *p, *end;
	char state;

	if (pid <= 0)
		return 1;
	if (hostfs_path(path, sizeof(path), "%s/%d/stat", proc_root, (int)pid))
		return -1;
	if (hostfs_read(path, buf, sizeof(buf)) < 0)
		return errno == ENOENT || errno == ESRCH ? 1 : -1;
	/*
	 * "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so
	 * the fields start after the LAST ')'. STATE is field 3, the start
	 * time field 22: 19 fields after STATE.
	 */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c", &state) != 1)
		return err_set("%s is malformed: is %s a procfs mount?", path, proc_root);
	if (state == 'Z' || state == 'X')
		return 1;	/* dead, only not reaped yet */
	p += 2;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return err_set("%s has fewer than 22 fields", path);
		p++;
	}
	errno = 0;
	ticks = strtoull(p, &end, 10);
	if (errno || end == p)
		return err_set("%s: field 22 (start time) is not a number", path);
	*start = ticks;
	return 0;
}

int procstat_alive(const char *proc_root, pid_t pid, uint64_t start)
{
	uint64_t now;
	int r = procstat_start_time(proc_root, pid, &now);

	if (r < 0)
		return err_set("cannot tell whether pid %d runs: %s", (int)pid, err_msg());
	return r == 0 && now == start;
}

uint64_t procstat_pidns(const char *proc_root)
{
	char path[256];
	struct stat sb;

	if (hostfs_path(path, sizeof(path), "%s/self/ns/pid", proc_root) ||
	    stat(path, &sb) < 0)
		return 0;
	return (uint64_t)sb.st_ino;
}

int procstat_boot_id(const char *proc_root, char *buf, size_t len)
{
	char path[256];

	if (hostfs_path(path, sizeof(path), "%s/sys/kernel/random/boot_id", proc_root))
		return -1;
	return hostfs_read(path, buf, len);
}
