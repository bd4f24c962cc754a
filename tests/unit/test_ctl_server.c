// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket: names taken and refused, stale sockets cleaned up,
 * requests answered, versions and oversized lines refused, the console
 * streamed both ways. Clients run in forked children; the server's loop
 * runs in the test's process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "ctl/ctl.h"
#include "lib/err.h"

static unsigned char typed[64];
static size_t ntyped;

static json_object *answer(void *arg, const char *cmd, json_object *req)
{
	json_object *o;

	if (!strcmp(cmd, "big")) {
		/* more than a socket buffer holds: sent as the client reads */
		static char blob[600000];

		memset(blob, 'x', sizeof(blob) - 1);
		o = json_object_new_object();
		json_object_object_add(o, "blob", json_object_new_string(blob));
		return o;
	}
	if (strcmp(cmd, "info")) {
		err_set("unknown request '%s'", cmd);
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string((const char *)arg));
	return o;
}

static size_t take_input(void *arg, const unsigned char *buf, size_t len)
{
	size_t n = len < 2 ? len : 2;	/* a slow guest: two bytes at a time */

	memcpy(typed + ntyped, buf, n);
	ntyped += n;
	return n;
}

static size_t backlog(void *arg, unsigned char *buf, size_t len)
{
	memcpy(buf, "old output\n", 11);
	return 11;
}

static const struct ctl_ops ops = {
	.request = answer, .console_input = take_input, .console_backlog = backlog,
	.arg = "db",
};

/* Runs the loop until child @pid ends; its exit status. */
static int serve_until(struct evloop *loop, struct ctl_server *s, pid_t pid)
{
	int status;

	for (;;) {
		evloop_run_once(loop, 20);
		ctl_server_console_resume(s);
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
	}
}

static void test_request_and_refusals(void **state)
{
	struct ctl_server *s, *other;
	struct evloop loop;
	pid_t pid;

	setenv("SLICEVM_RUN_DIR", test_dir, 1);
	assert_int_equal(evloop_init(&loop), 0);
	assert_int_equal(ctl_server_open(&s, "db", &loop, &ops), 0);
	/* the name is taken */
	assert_int_equal(ctl_server_open(&other, "db", &loop, &ops), -1);
	assert_non_null(strstr(err_msg(), "a VM named db is already running (pid "));
	assert_non_null(strstr(err_msg(), "give another --name, or stop it with 'slicevm stop db'"));
	assert_int_equal(ctl_server_open(&other, "../x", &loop, &ops), -1);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = ctl_connect("db");
		json_object *r = fd < 0 ? NULL : ctl_request(fd, "info");
		char line[64000];
		ssize_t n;

		if (!r || strcmp(json_object_get_string(json_object_object_get(r, "name")), "db"))
			_exit(1);
		if (ctl_request(fd, "reboot-the-world") ||
		    !strstr(err_msg(), "the VM refused 'reboot-the-world': unknown request"))
			_exit(2);
		/* another protocol version */
		if (write(fd, "{\"v\": 9, \"cmd\": \"info\"}\n", 24) != 24)
			_exit(3);
		n = read(fd, line, sizeof(line) - 1);
		line[n > 0 ? n : 0] = '\0';
		if (!strstr(line, "protocol version 9 is not this VMM's (1)"))
			_exit(4);
		/* a line with no end is cut off with an error, then the connection */
		memset(line, 'x', sizeof(line));
		(void)!send(fd, line, sizeof(line), MSG_NOSIGNAL);
		/* the answer may come in pieces on a busy machine: read to the end */
		for (size_t got = 0; got < sizeof(line) - 1; got += n) {
			n = read(fd, line + got, sizeof(line) - 1 - got);
			line[got + (n > 0 ? n : 0)] = '\0';
			if (n <= 0 || strstr(line, "longer than 4095 bytes"))
				break;
		}
		if (!strstr(line, "longer than 4095 bytes"))
			_exit(5);
		{
			int fd2 = ctl_connect("db");
			json_object *big = fd2 < 0 ? NULL : ctl_request(fd2, "big");

			if (!big || strlen(json_object_get_string(json_object_object_get(big, "blob"))) !=
			    599999)
				_exit(7);
			json_object_put(big);
			close(fd2);
		}
		if (ctl_connect("nosuch") != -1 ||
		    !strstr(err_msg(), "no VM named nosuch is running: see 'slicevm ls'"))
			_exit(6);
		_exit(0);
	}
	assert_int_equal(serve_until(&loop, s, pid), 0);
	ctl_server_close(s, 0, "powered off");
	evloop_close(&loop);
}

static void test_console_both_ways(void **state)
{
	struct ctl_server *s;
	struct evloop loop;
	pid_t pid;

	setenv("SLICEVM_RUN_DIR", test_dir, 1);
	ntyped = 0;
	assert_int_equal(evloop_init(&loop), 0);
	assert_int_equal(ctl_server_open(&s, "con", &loop, &ops), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = ctl_connect("con");
		json_object *r = fd < 0 ? NULL : ctl_request(fd, "console");
		char buf[64] = "";
		size_t got = 0;

		if (!r)
			_exit(1);
		while (got < 11) {
			ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);

			if (n <= 0)
				_exit(2);
			got += (size_t)n;
		}
		if (strncmp(buf, "old output\n", 11))
			_exit(3);
		if (send(fd, "hello", 5, MSG_NOSIGNAL) != 5)
			_exit(4);
		/* the server sends "live" once it has all five bytes */
		if (read(fd, buf, 4) != 4 || strncmp(buf, "live", 4))
			_exit(5);
		_exit(0);
	}
	for (;;) {
		int status;

		evloop_run_once(&loop, 20);
		ctl_server_console_resume(s);
		if (ntyped == 5) {
			ctl_server_console_output(s, (const unsigned char *)"live", 4);
			ntyped++;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
			break;
		}
	}
	assert_memory_equal(typed, "hello", 5);
	ctl_server_close(s, 0, NULL);
	evloop_close(&loop);
}

/* A VMM killed with SIGKILL leaves its socket and lock: the next one takes them over. */
static void test_stale_socket_taken_over(void **state)
{
	struct ctl_server *s;
	struct evloop loop;
	char path[512], exit_path[512];
	struct stat sb;
	int status;
	pid_t pid;

	setenv("SLICEVM_RUN_DIR", test_dir, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct evloop l;

		if (evloop_init(&l) || ctl_server_open(&s, "old", &l, &ops))
			_exit(1);
		raise(SIGKILL);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	snprintf(path, sizeof(path), "%s/old.sock", test_dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(ctl_connect("old"), -1);
	assert_non_null(strstr(err_msg(), "no VM named old is running"));

	assert_int_equal(evloop_init(&loop), 0);
	assert_int_equal(ctl_server_open(&s, "old", &loop, &ops), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	ctl_server_close(s, 3, "crashed");
	/* gone, with the exit recorded */
	assert_int_equal(stat(path, &sb), -1);
	snprintf(exit_path, sizeof(exit_path), "%s/old.exit", test_dir);
	assert_int_equal(stat(exit_path, &sb), 0);
	evloop_close(&loop);
}

/*
 * NAME.exit of an earlier VM stays until a new VM of that name runs: a start
 * refused after taking the name (a slice check, say) changes nothing.
 */
static void test_exit_record_kept_until_started(void **state)
{
	struct ctl_server *s;
	struct evloop loop;
	char exit_path[512];
	struct stat sb;

	setenv("SLICEVM_RUN_DIR", test_dir, 1);
	assert_int_equal(evloop_init(&loop), 0);
	ctl_record_exit("rec", 1234, 0, NULL);
	snprintf(exit_path, sizeof(exit_path), "%s/rec.exit", test_dir);
	assert_int_equal(stat(exit_path, &sb), 0);

	assert_int_equal(ctl_server_open(&s, "rec", &loop, &ops), 0);
	ctl_server_close(s, -1, NULL);		/* refused: never ran */
	assert_int_equal(stat(exit_path, &sb), 0);

	assert_int_equal(ctl_server_open(&s, "rec", &loop, &ops), 0);
	ctl_server_started(s);
	assert_int_equal(stat(exit_path, &sb), -1);	/* the earlier VM's is gone */
	ctl_server_close(s, 2, "rebooted");
	assert_int_equal(stat(exit_path, &sb), 0);	/* this one's */
	evloop_close(&loop);
}

static void test_list(void **state)
{
	char **names;
	int n;
	struct ctl_server *a, *b;
	struct evloop loop;

	setenv("SLICEVM_RUN_DIR", test_dir, 1);
	assert_int_equal(evloop_init(&loop), 0);
	assert_int_equal(ctl_server_open(&b, "web", &loop, &ops), 0);
	assert_int_equal(ctl_server_open(&a, "api", &loop, &ops), 0);
	assert_int_equal(ctl_list(&names, &n), 0);
	assert_true(n >= 2);
	assert_string_equal(names[0], "api");
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	ctl_server_close(a, 0, NULL);
	ctl_server_close(b, 0, NULL);
	evloop_close(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_and_refusals),
		cmocka_unit_test(test_console_both_ways),
		cmocka_unit_test(test_stale_socket_taken_over),
		cmocka_unit_test(test_exit_record_kept_until_started),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, test_dir_setup, test_dir_teardown);
}
