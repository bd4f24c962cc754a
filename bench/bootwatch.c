// SPDX-License-Identifier: GPL-2.0
/*
 * bootwatch: time a VMM from its start to a marker line on its console.
 *
 *   bootwatch [-i] [-w SECS] [-l LOG] MARKER -- VMM [ARG...]
 *
 * Runs VMM with stdin on a pipe that stays open (so the guest's shell waits
 * instead of seeing end of file) and stdout + stderr on a pipe it reads.
 * Prints, flushed, on stdout (times in ms of CLOCK_MONOTONIC since just
 * before the fork):
 *   ready MS PID     when MARKER first shows up in the output
 *   exit MS STATUS   when VMM ended (STATUS: exit code, or 128+signal)
 *   timeout MS       when VMM was stopped because -w ran out
 * Without -i, VMM is waited for until it exits or -w SECS (default 60)
 * pass after its start. With -i (idle), VMM is stopped once bootwatch gets
 * SIGTERM/SIGINT or -w SECS pass. Every byte of output goes to LOG.
 * Built statically into the lab's L1 by bench/boot.sh; part of the
 * benchmark only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static double now_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static int status_code(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* SIGTERM first so QEMU and slicevm can clean up; SIGKILL after 2 s. */
static int stop_child(pid_t pid)
{
	int st, i;

	kill(pid, SIGTERM);
	for (i = 0; i < 200; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return status_code(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return status_code(st);
}

static pid_t spawn(char **argv, int *out_fd, int *in_fd)
{
	int out[2], in[2];
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) || pipe2(in, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execvp(argv[0], argv);
		fprintf(stderr, "bootwatch: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(in[0]);
	*out_fd = out[0];
	*in_fd = in[1];
	return pid;
}

/* Look for the marker in the tail of what came before plus the new bytes. */
static int seen_marker(const char *marker, char *win, size_t *win_len,
		       const char *buf, size_t n)
{
	size_t mlen = strlen(marker), keep = mlen - 1;
	char joined[8192 + 256];
	size_t len;
	int found;

	memcpy(joined, win, *win_len);
	memcpy(joined + *win_len, buf, n);
	len = *win_len + n;
	found = memmem(joined, len, marker, mlen) != NULL;
	*win_len = len < keep ? len : keep;
	memcpy(win, joined + len - *win_len, *win_len);
	return found;
}

static void usage(void)
{
	fprintf(stderr, "usage: bootwatch [-i] [-w SECS] [-l LOG] MARKER -- VMM [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *log_path = NULL, *marker;
	int idle = 0, secs = 60, fd, in_fd, log_fd = -1, ready = 0, st, opt;
	char buf[8192], win[256];
	size_t win_len = 0;
	struct sigaction sa;
	struct timespec t0;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+iw:l:")) != -1) {
		if (opt == 'i')
			idle = 1;
		else if (opt == 'w')
			secs = atoi(optarg);
		else if (opt == 'l')
			log_path = optarg;
		else
			usage();
	}
	if (optind + 2 >= argc || strcmp(argv[optind + 1], "--"))
		usage();
	marker = argv[optind];
	if (!*marker || strlen(marker) >= sizeof(win))
		usage();
	if (log_path) {
		log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (log_fd < 0) {
			perror(log_path);
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: poll() must return */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = spawn(argv + optind + 2, &fd, &in_fd);
	if (pid < 0) {
		perror("bootwatch: fork");
		return 2;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = secs * 1e3 - now_ms(&t0);
		ssize_t n;

		if (stop_asked || left <= 0) {
			printf("timeout %.1f\n", now_ms(&t0));
			printf("exit %.1f %d\n", now_ms(&t0), stop_child(pid));
			return 0;
		}
		if (poll(&p, 1, left > 200 ? 200 : (int)left + 1) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the VMM closed its output: it is ending */
		if (log_fd >= 0 && write(log_fd, buf, n) != n)
			perror("bootwatch: log");
		if (!ready && seen_marker(marker, win, &win_len, buf, n)) {
			ready = 1;
			printf("ready %.1f %d\n", now_ms(&t0), (int)pid);
		}
	}
	waitpid(pid, &st, 0);
	printf("exit %.1f %d\n", now_ms(&t0), status_code(st));
	close(in_fd);
	return idle && !ready ? 1 : 0;
}
