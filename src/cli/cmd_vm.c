// SPDX-License-Identifier: GPL-2.0
/*
 * Operating running VMs through their control sockets (ctl/ctl.h):
 * `slicevm ls`, `stop`, `console` and `stats`.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ctl/ctl.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/size.h"
#include "vmm/console.h"
#include "vmm/kvm_stats.h"

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

static int64_t num(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* "0:3,1:4": vCPU index and the host CPU it runs on. */
static void vcpu_list(json_object *info, char *buf, size_t len)
{
	json_object *arr;
	size_t used = 0;

	buf[0] = '\0';
	if (!json_object_object_get_ex(info, "vcpus", &arr))
		return;
	for (size_t i = 0; i < json_object_array_length(arr) && used < len; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		used += (size_t)snprintf(buf + used, len - used, "%s%lld:%lld", i ? "," : "",
					 (long long)num(v, "index"), (long long)num(v, "host_cpu"));
	}
}

/* Info of VM @name, or NULL (a socket left by a VMM that died: ignored). */
static json_object *vm_info(const char *name)
{
	int fd = ctl_connect(name);
	json_object *info;

	if (fd < 0)
		return NULL;
	info = ctl_request(fd, "info");
	close(fd);
	return info;
}

static const char ls_usage[] =
"usage: slicevm ls [--json]\n"
"\n"
"Lists running VMs: name, pid, slice, vCPUs with the host CPUs they run on\n"
"(vCPU:CPU), memory and its backing, state and uptime.\n";

int cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_object *all = json_object_new_array();
	bool json = false;
	char **names;
	int c, n;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			fputs(ls_usage, stdout);
			json_object_put(all);
			return 0;
		} else {
			json_object_put(all);
			return cli_opt_error(c, argv, opts, "ls");
		}
	}
	if (optind < argc) {
		json_object_put(all);
		return cli_error("unexpected argument '%s': ls takes no arguments", argv[optind]);
	}
	if (ctl_list(&names, &n)) {
		json_object_put(all);
		return cli_fail();
	}
	for (int i = 0; i < n; i++) {
		json_object *info = vm_info(names[i]);

		if (info)
			json_object_array_add(all, info);
		free(names[i]);
	}
	free(names);
	if (json) {
		puts(json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("%-16s %-8s %-12s %-16s %-8s %-9s %-14s %s\n", "NAME", "PID", "SLICE",
		       "VCPU:CPU", "MEMORY", "BACKING", "STATE", "UPTIME");
		for (size_t i = 0; i < json_object_array_length(all); i++) {
			json_object *v = json_object_array_get_idx(all, i);
			char cpus[256], mem[32];

			vcpu_list(v, cpus, sizeof(cpus));
			printf("%-16s %-8s %-12s %-16s %-8s %-9s %-14s %llds\n", str(v, "name"),
			       str(v, "pid"), str(v, "slice"), cpus,
			       size_format((uint64_t)num(v, "memory"), mem, sizeof(mem)),
			       str(v, "backing"), str(v, "state"), (long long)num(v, "uptime_s"));
		}
	}
	json_object_put(all);
	return 0;
}

static const char stop_usage[] =
"usage: slicevm stop NAME [--timeout SECONDS] [--force]\n"
"\n"
"Presses the guest's ACPI power button so it shuts down cleanly, waits for the\n"
"VM to end (default 30 s), then kills the VMM (SIGKILL) if it has not.\n"
"--force kills it at once, without asking the guest. Prints how the VM ended.\n";

/* The VMM's pid, from its info. */
static pid_t vm_pid(const char *name)
{
	json_object *info = vm_info(name);
	pid_t pid = info ? (pid_t)num(info, "pid") : 0;

	json_object_put(info);
	return pid;
}

/*
 * The VMM, held by a pidfd taken while it still answers on its socket: a
 * pid number could be another process's by the time it is signalled.
 */
struct vmm_proc {
	pid_t pid;
	int pidfd;	/* -1 on kernels without pidfd_open (then the pid) */
};

static void vmm_hold(struct vmm_proc *v, pid_t pid)
{
	v->pid = pid;
	v->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Waits until the VMM is gone, at most @secs seconds. */
static bool wait_gone(const struct vmm_proc *v, double secs)
{
	struct timespec t0, t;

	if (v->pidfd >= 0) {
		struct pollfd p = { .fd = v->pidfd, .events = POLLIN };

		return poll(&p, 1, (int)(secs * 1000)) == 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (kill(v->pid, 0) && errno == ESRCH)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			return false;
		usleep(50 * 1000);
	}
}

static int vmm_kill(const struct vmm_proc *v)
{
	if (v->pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, v->pidfd, SIGKILL, NULL, 0);
	return kill(v->pid, SIGKILL);
}

static void print_exit(const char *name, bool killed)
{
	char path[4200];
	json_object *rec;

	if (killed) {
		printf("VM %s: killed (SIGKILL)\n", name);
		return;
	}
	if (ctl_path(path, sizeof(path), name, "exit") ||
	    !(rec = json_parse_file(path, "exit record"))) {
		printf("VM %s: ended\n", name);
		return;
	}
	printf("VM %s: ended with status %lld%s%s\n", name, (long long)num(rec, "status"),
	       *str(rec, "reason") ? ": " : "", *str(rec, "reason") ? str(rec, "reason") : "");
	json_object_put(rec);
}

int cmd_stop(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double timeout = 30;
	bool force = false;
	const char *name;
	json_object *resp;
	struct vmm_proc v;
	char *end;
	pid_t pid;
	int c, fd;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:fh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			errno = 0;
			timeout = strtod(optarg, &end);
			if (end == optarg || *end || errno || timeout < 0 || timeout > 86400)
				return cli_error("--timeout '%s' is not a number of seconds from 0 to 86400",
						 optarg);
			break;
		case 'f': force = true; break;
		case 'h':
			fputs(stop_usage, stdout);
			return 0;
		default:
			return cli_opt_error(c, argv, opts, "stop");
		}
	}
	if (optind + 1 != argc)
		return cli_error("give one VM name: slicevm stop NAME (see 'slicevm ls')");
	name = argv[optind];
	fd = ctl_connect(name);
	if (fd < 0)
		return cli_fail();
	close(fd);
	pid = vm_pid(name);
	if (pid <= 0)
		return cli_fail();
	vmm_hold(&v, pid);
	if (!force) {
		fd = ctl_connect(name);
		resp = fd < 0 ? NULL : ctl_request(fd, "stop");
		if (fd >= 0)
			close(fd);
		if (!resp) {
			if (v.pidfd >= 0)
				close(v.pidfd);
			return cli_fail();
		}
		json_object_put(resp);
		if (wait_gone(&v, timeout)) {
			if (v.pidfd >= 0)
				close(v.pidfd);
			print_exit(name, false);
			return 0;
		}
		fprintf(stderr, "slicevm: VM %s did not shut down within %g s: killing it\n",
			name, timeout);
	}
	if (vmm_kill(&v) && errno != ESRCH) {
		int e = errno;

		if (v.pidfd >= 0)
			close(v.pidfd);
		return cli_error("cannot kill VM %s (pid %d): %s", name, (int)pid, strerror(e));
	}
	wait_gone(&v, 10);
	if (v.pidfd >= 0)
		close(v.pidfd);
	ctl_record_exit(name, pid, 128 + SIGKILL, force ? "killed by 'slicevm stop --force'" :
			"killed by 'slicevm stop' after its timeout");
	print_exit(name, true);
	return 0;
}

static const char console_usage[] =
"usage: slicevm console NAME\n"
"\n"
"Attaches this terminal to the serial console of detached VM NAME (recent\n"
"output first). Ctrl-A d detaches, Ctrl-A x quits the VM, Ctrl-A Ctrl-A\n"
"sends one Ctrl-A.\n";

/* Copies the socket to stdout and stdin to the socket until detach, quit or EOF. */
static int console_pump(const char *name, int fd)
{
	struct console con;
	int ret = 0;

	console_open(&con, STDIN_FILENO);
	con.can_detach = true;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			/* a closed input would report POLLHUP for ever: stop polling it */
			{ .fd = con.eof ? -1 : STDIN_FILENO, .events = POLLIN },
		};
		unsigned char buf[4096], out[4097];
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = cli_error("poll failed: %s", strerror(errno));
			break;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;		/* the VM ended */
			if (write(STDOUT_FILENO, buf, (size_t)n) != n)
				break;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			size_t m;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				con.eof = true;
				continue;
			}
			m = console_filter(&con, buf, (size_t)n, out);
			if (m && send(fd, out, m, MSG_NOSIGNAL) < 0)
				break;
			if (con.detach || con.quit)
				break;
		}
	}
	console_close(&con);
	if (con.quit) {
		int q = ctl_connect(name);
		json_object *resp = q < 0 ? NULL : ctl_request(q, "quit");

		if (q >= 0)
			close(q);
		if (!resp)
			return cli_fail();
		json_object_put(resp);
	}
	if (con.detach)
		fprintf(stderr, "\r\nslicevm: detached from %s; 'slicevm console %s' attaches again\r\n",
			name, name);
	return ret;
}

int cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_object *resp, *info;
	int c, fd;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != 'h')
			return cli_opt_error(c, argv, opts, "console");
		fputs(console_usage, stdout);
		return 0;
	}
	if (optind + 1 != argc)
		return cli_error("give one VM name: slicevm console NAME (see 'slicevm ls')");
	info = vm_info(argv[optind]);
	if (!info)
		return cli_fail();
	if (!json_object_get_boolean(json_object_object_get(info, "detached"))) {
		json_object_put(info);
		return cli_error("VM %s runs in the foreground: its console is the terminal that started it; start VMs with --detach to attach later",
				 argv[optind]);
	}
	json_object_put(info);
	fd = ctl_connect(argv[optind]);
	if (fd < 0)
		return cli_fail();
	resp = ctl_request(fd, "console");
	if (!resp) {
		close(fd);
		return cli_fail();
	}
	json_object_put(resp);
	c = console_pump(argv[optind], fd);
	close(fd);
	return c;
}

static const char stats_usage[] =
"usage: slicevm stats NAME [--watch[=SECONDS]] [--json] [--all] [--vcpus]\n"
"\n"
"KVM's statistics of VM NAME (from KVM's binary statistics, no debugfs): the VM's\n"
"counters and each vCPU's (summed), with rates per second, and the host\n"
"interrupts that landed on the VM's CPUs since it started. --watch refreshes\n"
"the table in place every SECONDS (default 1) until Ctrl-C; --all shows\n"
"counters that are 0; --vcpus adds a column per vCPU (the first 8); --json\n"
"prints the VM's and each vCPU's counters under\n"
"KVM's own names (\"exits\", \"halt_exits\", \"pages_4k\", ...).\n";

static json_object *stats_of(const char *name)
{
	int fd = ctl_connect(name);
	json_object *resp = fd < 0 ? NULL : ctl_request(fd, "stats");

	if (fd >= 0)
		close(fd);
	if (resp) {
		json_object_object_del(resp, "v");
		json_object_object_del(resp, "ok");
	}
	return resp;
}

/* The counters of @o's "vm" object, rates from @prev's, as a kvm_stat-like table. */
/* Per-vCPU columns shown at most (all are in --json). */
#define STATS_VCPU_COLUMNS	8

/* @key's value in vCPU @i's object of @cur, or -1 when it has none. */
static int64_t vcpu_value(json_object *cur, size_t i, const char *key)
{
	json_object *arr, *v;

	if (!json_object_object_get_ex(cur, "vcpus", &arr) ||
	    i >= json_object_array_length(arr) ||
	    !json_object_object_get_ex(json_object_array_get_idx(arr, i), key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

static void print_stats(json_object *cur, json_object *prev, bool all, bool per_vcpu,
			FILE *out)
{
	json_object *vm, *pvm = NULL, *irqs, *vcpus;
	size_t ncol = 0;
	double dt = prev ? json_object_get_double(json_object_object_get(cur, "time")) -
			   json_object_get_double(json_object_object_get(prev, "time")) : 0;

	if (!json_object_object_get_ex(cur, "vm", &vm))
		return;
	if (prev)
		json_object_object_get_ex(prev, "vm", &pvm);
	if (per_vcpu && json_object_object_get_ex(cur, "vcpus", &vcpus))
		ncol = json_object_array_length(vcpus) < STATS_VCPU_COLUMNS ?
		       json_object_array_length(vcpus) : STATS_VCPU_COLUMNS;
	fprintf(out, "%-32s %16s %12s", "Event", "Total", prev ? "/s" : "");
	for (size_t i = 0; i < ncol; i++)
		fprintf(out, " %12s%zu", "vcpu", i);
	fputc('\n', out);
	json_object_object_foreach(vm, key, val) {
		json_object *pv;
		int64_t v, rate = 0;

		if (!json_object_is_type(val, json_type_int))
			continue;	/* histograms: in --json */
		v = json_object_get_int64(val);
		if (pvm && dt > 0 && json_object_object_get_ex(pvm, key, &pv))
			rate = (int64_t)((double)(v - json_object_get_int64(pv)) / dt);
		if (!all && !v && !rate)
			continue;
		if (prev)
			fprintf(out, "%-32s %16lld %12lld", key, (long long)v, (long long)rate);
		else
			fprintf(out, "%-32s %16lld %12s", key, (long long)v, "");
		for (size_t i = 0; i < ncol; i++) {
			int64_t x = vcpu_value(cur, i, key);

			if (x < 0)
				fprintf(out, " %13s", "-");
			else
				fprintf(out, " %13lld", (long long)x);
		}
		fputc('\n', out);
	}
	if (json_object_object_get_ex(cur, "host_interrupts", &irqs) && irqs) {
		fprintf(out, "\nhost interrupts on the VM's CPUs since it started:\n");
		for (size_t i = 0; i < json_object_array_length(irqs); i++) {
			json_object *e = json_object_array_get_idx(irqs, i);

			fprintf(out, "  %-8s %12lld  %s\n", str(e, "irq"),
				(long long)num(e, "count"), str(e, "desc"));
		}
	}
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "watch", optional_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "vcpus", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, all = false, watch = false, per_vcpu = false;
	double every = 1;
	json_object *cur, *prev = NULL;
	char *end;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			watch = true;
			if (optarg) {
				every = strtod(optarg, &end);
				if (end == optarg || *end || every < 0.1 || every > 3600)
					return cli_error("--watch '%s' is not a number of seconds from 0.1 to 3600",
							 optarg);
			}
			break;
		case 'j': json = true; break;
		case 'a': all = true; break;
		case 'v': per_vcpu = true; break;
		case 'h':
			fputs(stats_usage, stdout);
			return 0;
		default:
			return cli_opt_error(c, argv, opts, "stats");
		}
	}
	if (optind + 1 != argc)
		return cli_error("give one VM name: slicevm stats NAME (see 'slicevm ls')");
	for (;;) {
		cur = stats_of(argv[optind]);
		if (!cur) {
			json_object_put(prev);
			return prev ? 0 : cli_fail();	/* with --watch, the VM may just have ended */
		}
		if (json) {
			puts(json_object_to_json_string_ext(cur, watch ? JSON_C_TO_STRING_PLAIN :
							    JSON_C_TO_STRING_PRETTY));
		} else {
			if (watch)
				fputs("\033[H\033[2J", stdout);	/* home, clear: refresh in place */
			printf("slicevm stats %s\n\n", argv[optind]);
			print_stats(cur, prev, all, per_vcpu, stdout);
		}
		fflush(stdout);
		json_object_put(prev);
		prev = cur;
		if (!watch)
			break;
		usleep((useconds_t)(every * 1e6));
	}
	json_object_put(prev);
	return 0;
}
