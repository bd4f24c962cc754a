// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/file.h"
#include "lib/json.h"

/* Configuration files are small; anything larger is not one. */
#define JSON_FILE_MAX	(16ULL << 20)

/* Offset -> "LINE:COLUMN", both from 1; a tab counts as one column. */
static void line_col(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Mistakes json-c would only call "unexpected character" or "too early". */
static bool explain_unusable_text(const char *text, const char *name)
{
	size_t blank = strspn(text, " \t\r\n");

	if (!strncmp(text, "\xef\xbb\xbf", 3)) {
		err_set("%s:1:1: the file starts with a UTF-8 byte-order mark: save it without one",
			name);
		return true;
	}
	if (!text[blank]) {
		err_set("%s has no JSON in it: write a JSON object", name);
		return true;
	}
	return false;
}

json_object *json_parse_text(const char *text, const char *name)
{
	struct json_tokener *tok;
	size_t len = strlen(text), end;
	enum json_tokener_error e;
	json_object *obj;
	int line, col;

	if (explain_unusable_text(text, name))
		return NULL;
	tok = json_tokener_new();
	if (!tok) {
		err_set("out of memory parsing %s", name);
		return NULL;
	}
	/* Strict: no single quotes, no comments, nothing after the value. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (e == json_tokener_continue) {
		/* A bare number needs its end; anything else is cut short. */
		obj = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	if (obj && e == json_tokener_success)
		return obj;
	json_object_put(obj);
	line_col(text, end, &line, &col);
	if (e == json_tokener_error_parse_eof)
		err_set("%s:%d:%d: the JSON ends too early: close every { [ and \"",
			name, line, col);
	else
		err_set("%s:%d:%d: malformed JSON (%s): fix the text there", name, line,
			col, json_tokener_error_desc(e));
	return NULL;
}

json_object *json_parse_file(const char *path, const char *what)
{
	uint8_t *data;
	size_t size;
	char *text;
	json_object *obj;

	if (file_read_all(what, path, "give the path of a JSON file", JSON_FILE_MAX,
			  &data, &size))
		return NULL;
	text = realloc(data, size + 1);
	if (!text) {
		free(data);
		err_set("out of memory reading %s %s", what, path);
		return NULL;
	}
	text[size] = '\0';
	if (strlen(text) != size) {
		free(text);
		err_set("%s %s contains a NUL byte: give a JSON text file", what, path);
		return NULL;
	}
	obj = json_parse_text(text, path);
	free(text);
	return obj;
}
