// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
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

/* ---- duplicate keys ---- */

/*
 * json-c keeps the last of two equal keys in an object and says nothing, so
 * a configuration with "memory" twice would silently lose one. Once json-c
 * has accepted the text (so it is well-formed), this walks it again and
 * collects each object's keys, decoded, to find repeats.
 */

#define JSON_DEPTH_MAX	64	/* json-c refuses deeper nesting anyway */

struct json_key {
	char *name;		/* decoded, may hold NULs */
	size_t len;
	size_t off;		/* offset of its opening quote */
};

struct json_frame {
	bool object;
	bool want_key;		/* the next string is a key */
	size_t n, cap;
	struct json_key *keys;
};

struct json_dup {
	size_t first, second;	/* offsets; second == SIZE_MAX: none found */
	char name[48];		/* printable, shortened */
	size_t single_quote;	/* offset of a ' outside a string; SIZE_MAX: none */
};

static void put_utf8(char *out, size_t *n, uint32_t c)
{
	if (c < 0x80) {
		out[(*n)++] = (char)c;
	} else if (c < 0x800) {
		out[(*n)++] = (char)(0xc0 | c >> 6);
		out[(*n)++] = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		out[(*n)++] = (char)(0xe0 | c >> 12);
		out[(*n)++] = (char)(0x80 | (c >> 6 & 0x3f));
		out[(*n)++] = (char)(0x80 | (c & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | c >> 18);
		out[(*n)++] = (char)(0x80 | (c >> 12 & 0x3f));
		out[(*n)++] = (char)(0x80 | (c >> 6 & 0x3f));
		out[(*n)++] = (char)(0x80 | (c & 0x3f));
	}
}

static uint32_t hex4(const char *s)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v = v << 4 | (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/* One \uXXXX (or a surrogate pair) at @s + *i (after the 'u'). */
static uint32_t unicode_escape(const char *s, size_t *i)
{
	uint32_t c = hex4(s + *i);

	*i += 4;
	if (c >= 0xd800 && c < 0xdc00 && s[*i] == '\\' && s[*i + 1] == 'u') {
		uint32_t lo = hex4(s + *i + 2);

		if (lo >= 0xdc00 && lo < 0xe000) {
			*i += 6;
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
		}
	}
	return c;
}

/* Moves *i from a string's opening quote to past its closing one. */
static void skip_string(const char *s, size_t *i)
{
	/* bounded by the NUL too: never trust the text more than needed */
	for (++*i; s[*i] && s[*i] != '"'; *i += s[*i] == '\\' && s[*i + 1] ? 2 : 1)
		;
	if (s[*i])
		++*i;
}

/*
 * The string whose opening quote is at @s[*i], decoded into a new buffer
 * (NULL when out of memory); *i ends past the closing quote. The text is
 * well-formed JSON, so every escape is complete.
 */
static char *decode_string(const char *s, size_t *i, size_t *len)
{
	size_t start = ++*i, n = 0;
	char *out;

	while (s[*i] && s[*i] != '"')
		*i += s[*i] == '\\' && s[*i + 1] ? 2 : 1;
	/* A \uXXXX (6 bytes) decodes to at most 4; others shrink too. */
	out = malloc(*i - start + 1);
	if (!out)
		return NULL;
	for (size_t k = start; k < *i;) {
		char c = s[k++];

		if (c != '\\') {
			out[n++] = c;
			continue;
		}
		c = s[k++];
		switch (c) {
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u': put_utf8(out, &n, unicode_escape(s, &k)); break;
		default: out[n++] = c; break;	/* \" \\ \/ */
		}
	}
	++*i;
	*len = n;
	return out;
}

static int key_cmp(const void *a, const void *b)
{
	const struct json_key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int r = memcmp(x->name, y->name, n);

	if (r)
		return r;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* An object closes: its earliest repeated key, if earlier than @dup's. */
static void close_object(struct json_frame *f, struct json_dup *dup)
{
	/* qsort() must never see the NULL array of an empty object */
	if (f->n > 1)
		qsort(f->keys, f->n, sizeof(*f->keys), key_cmp);
	for (size_t k = 1; k < f->n; k++) {
		const struct json_key *a = &f->keys[k - 1], *b = &f->keys[k];
		size_t j;

		if (a->len != b->len || memcmp(a->name, b->name, a->len) ||
		    b->off >= dup->second)
			continue;
		/* sorted by offset within a name: a is the first, b the second */
		dup->first = a->off;
		dup->second = b->off;
		for (j = 0; j < a->len && j < sizeof(dup->name) - 4; j++)
			dup->name[j] = isprint((unsigned char)a->name[j]) ? a->name[j] : '?';
		if (j < a->len)
			memcpy(dup->name + j, "...", 4);
		else
			dup->name[j] = '\0';
	}
	for (size_t k = 0; k < f->n; k++)
		free(f->keys[k].name);
	free(f->keys);
	memset(f, 0, sizeof(*f));
}

static int add_key(struct json_frame *f, char *name, size_t len, size_t off)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct json_key *k = realloc(f->keys, cap * sizeof(*k));

		if (!k)
			return -1;
		f->keys = k;
		f->cap = cap;
	}
	f->keys[f->n++] = (struct json_key){ name, len, off };
	return 0;
}

/* Scans well-formed @text; -1 when out of memory. */
static int scan_keys(const char *text, struct json_dup *dup)
{
	struct json_frame st[JSON_DEPTH_MAX];
	int depth = 0, ret = 0;

	dup->second = SIZE_MAX;
	dup->single_quote = SIZE_MAX;
	for (size_t i = 0; text[i] && !ret;) {
		struct json_frame *top = depth ? &st[depth - 1] : NULL;
		char c = text[i];

		if (c == '"') {
			size_t off = i, len;
			char *name;

			if (!top || !top->object || !top->want_key) {
				skip_string(text, &i);
				continue;
			}
			name = decode_string(text, &i, &len);
			if (!name || add_key(top, name, len, off)) {
				free(name);
				ret = -1;
			}
			top->want_key = false;
			continue;
		}
		/*
		 * json-c takes single-quoted strings even when strict; JSON has
		 * none, and this scan could not follow them: refuse them.
		 */
		if (c == '\'') {
			dup->single_quote = i;
			break;
		}
		if ((c == '{' || c == '[') && depth == JSON_DEPTH_MAX)
			break;
		if (c == '{' || c == '[')
			st[depth++] = (struct json_frame){ .object = c == '{', .want_key = true };
		else if ((c == '}' || c == ']') && top)
			close_object(&st[--depth], dup);
		else if (c == ',' && top)
			top->want_key = true;
		i++;
	}
	while (depth)
		close_object(&st[--depth], dup);
	return ret;
}

/* Refuses a key given twice in one object, naming it and both places. */
static int check_duplicate_keys(const char *text, const char *name)
{
	struct json_dup dup;
	int line, col, line1, col1;

	if (scan_keys(text, &dup))
		return err_set("out of memory parsing %s", name);
	if (dup.single_quote != SIZE_MAX) {
		line_col(text, dup.single_quote, &line, &col);
		return err_set("%s:%d:%d: a single-quoted string is not JSON: use double quotes",
			       name, line, col);
	}
	if (dup.second == SIZE_MAX)
		return 0;
	line_col(text, dup.second, &line, &col);
	line_col(text, dup.first, &line1, &col1);
	return err_set("%s:%d:%d: key \"%s\" is given twice in one object (first at "
		       "%d:%d; JSON would keep only the last): remove one of them",
		       name, line, col, dup.name, line1, col1);
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
	/*
	 * Strict: no comments, nothing after the value. (json-c still takes
	 * single quotes: check_duplicate_keys() refuses them.)
	 */
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
	if (obj && e == json_tokener_success) {
		if (!check_duplicate_keys(text, name))
			return obj;
		json_object_put(obj);
		return NULL;
	}
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
