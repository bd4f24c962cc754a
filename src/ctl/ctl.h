/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_CTL_CTL_H
#define SLICEVM_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "lib/evloop.h"

/*
 * The control protocol between a running VM (its VMM) and `slicevm ls`,
 * `stop`, `stats` and `console`: a Unix stream socket per VM,
 * RUN_DIR/NAME.sock (mode 0600, so only its owner, root for a slice VM,
 * may talk to it), carrying JSON lines:
 *
 *   request   {"v": 1, "cmd": "info" | "stop" | "quit" | "stats" | "console"}
 *   response  {"v": 1, "ok": true, ...}  or  {"v": 1, "ok": false, "error": "..."}
 *
 * After {"cmd": "console"} is answered, the connection carries the guest's
 * serial console both ways, raw, until either side closes it.
 * A request of another version is refused with an error naming both.
 *
 * RUN_DIR is $SLICEVM_RUN_DIR, else /run/slicevm for root, else
 * $XDG_RUNTIME_DIR/slicevm, else /tmp/slicevm-UID. NAME.lock (held with
 * flock for the VMM's life) makes a name unique; NAME.exit records how the
 * VM ended.
 */

#define CTL_VERSION	1
#define CTL_LINE_MAX	4096	/* longest request line */
#define CTL_CLIENTS_MAX	16
#define VM_NAME_MAX	32

/* The run directory (see above), created 0755 when @create. -1 on error. */
int ctl_run_dir(char *buf, size_t len, bool create);

/* RUN_DIR/NAME.SUFFIX ("sock", "lock", "exit"). */
int ctl_path(char *buf, size_t len, const char *name, const char *suffix);

/* 1-31 of [A-Za-z0-9_.-], starting with a letter or digit. */
int ctl_check_name(const char *name);

/* ---- the VMM's side ---- */

struct ctl_server;

struct ctl_ops {
	/* A request (parsed, version checked): the response's fields (ok is added). */
	json_object *(*request)(void *arg, const char *cmd, json_object *req);
	/* Bytes a console client typed, for the guest. Returns how many it took.
	 * NULL: this VM's console cannot be attached (it runs in the foreground). */
	size_t (*console_input)(void *arg, const unsigned char *buf, size_t len);
	/* A console client attached: bytes of recent output to send it first. */
	size_t (*console_backlog)(void *arg, unsigned char *buf, size_t len);
	void *arg;
};

/*
 * Takes the name (refused, one line, when a live VM has it: "a VM named db
 * is already running (pid 1234): give another --name") and listens on its
 * socket, joining @loop. A socket or lock left by a VMM that was killed is
 * cleaned up.
 */
int ctl_server_open(struct ctl_server **out, const char *name, struct evloop *loop,
		    const struct ctl_ops *ops);

/*
 * The VM runs: the record of an earlier VM of this name (NAME.exit) goes,
 * so that one killed later is not taken for it. A start refused before
 * this leaves that record as it was.
 */
void ctl_server_started(struct ctl_server *s);

/* The loop no longer runs (teardown): stop accepting, drop clients; the name stays held. */
void ctl_server_stop_listening(struct ctl_server *s);

/* Sends guest console output to every attached console client (lossy if one is slow). */
void ctl_server_console_output(struct ctl_server *s, const unsigned char *buf, size_t len);

/* Input from console clients waits while the guest cannot take it; call when it can. */
void ctl_server_console_resume(struct ctl_server *s);

/*
 * Records how the VM ended (RUN_DIR/NAME.exit; not when @exit_status < 0,
 * for a VM that never ran), removes the socket and the lock (and the run
 * directory if nothing else is left in it), and closes every connection.
 */
void ctl_server_close(struct ctl_server *s, int exit_status, const char *reason);

/* Writes RUN_DIR/NAME.exit: {"name", "pid", "status", "reason", "ended_at"}. */
void ctl_record_exit(const char *name, pid_t pid, int status, const char *reason);

/* ---- the client's side ---- */

/* Connects to VM @name: -1 with "no VM named db is running (see 'slicevm ls')". */
int ctl_connect(const char *name);

/* Sends {"v":1,"cmd":@cmd} and reads one response; NULL on error (err_msg()). */
json_object *ctl_request(int fd, const char *cmd);

/* Names of VMs with a socket in the run directory; free() each and the array. */
int ctl_list(char ***names, int *n);

#endif
