/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_LIB_JSON_H
#define SLICEVM_LIB_JSON_H

#include <json-c/json.h>

/*
 * Strict JSON for configuration files and stored plans. Errors are one line
 * "NAME:LINE:COLUMN: what is wrong: the fix"; text after the value is an
 * error too, and so is a key given twice in one object (json-c would keep
 * the last silently; keys are compared decoded, so "a" and "\u0061" are the
 * same). Both return NULL with err_msg() set on failure.
 */
json_object *json_parse_text(const char *text, const char *name);

/* Reads @path (a @what: "configuration", "VM config") and parses it. */
json_object *json_parse_file(const char *path, const char *what);

#endif
