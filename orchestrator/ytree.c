/*
 * ytree.c - YAML bytes into a positioned node tree (see ytree.h).  The
 * bytes are checked as text before libyaml sees them, so that a stray byte
 * is reported where it is rather than as a confusing syntax error.  The
 * scenario and inventory loaders both read through it, so that both file
 * formats speak alike.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "orchestrator/ytree.h"

struct builder {
	const char *path, *what;
	struct verr *e;
	struct ytree_node *root;
	struct ytree_node *stack[YTREE_DEPTH_MAX];
	int depth;
	int docs;
	bool done;
};

int ytree_vfail(struct verr *e, const char *path, unsigned line, unsigned col,
		const char *fmt, va_list ap)
{
	char msg[VERR_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	verr_set(e, "%s:%u:%u: %s", path, line, col, msg);
	return -EINVAL;
}

int ytree_fail(struct verr *e, const char *path, unsigned line, unsigned col,
	       const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ytree_vfail(e, path, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

static int oom(struct builder *b)
{
	verr_set(b->e, "%s: out of memory", b->path);
	return -ENOMEM;
}

static unsigned mark_line(yaml_mark_t m)
{
	return (unsigned)m.line + 1;
}

static unsigned mark_col(yaml_mark_t m)
{
	return (unsigned)m.column + 1;
}

/* ---- the nodes ---- */

void ytree_free(struct ytree_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ytree_free(n->kid[i]);
	free(n->kid);
	free(n->text);
	free(n);
}

size_t ytree_map_len(const struct ytree_node *m)
{
	return m->n / 2;
}

const struct ytree_node *ytree_map_key(const struct ytree_node *m, size_t i)
{
	return m->kid[2 * i];
}

const struct ytree_node *ytree_map_val(const struct ytree_node *m, size_t i)
{
	return m->kid[2 * i + 1];
}

const struct ytree_node *ytree_map_get(const struct ytree_node *m,
				       const char *key,
				       const struct ytree_node **keynode)
{
	for (size_t i = 0; i < ytree_map_len(m); i++) {
		if (strcmp(ytree_map_key(m, i)->text, key) == 0) {
			if (keynode)
				*keynode = ytree_map_key(m, i);
			return ytree_map_val(m, i);
		}
	}
	return NULL;
}

const char *ytree_kind_name(const struct ytree_node *n)
{
	switch (n->kind) {
	case YTREE_MAP:
		return "a mapping";
	case YTREE_SEQ:
		return "a list";
	default:
		return "a single value";
	}
}

static struct ytree_node *node_new(enum ytree_kind kind, yaml_mark_t m)
{
	struct ytree_node *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->line = mark_line(m);
		n->col = mark_col(m);
	}
	return n;
}

static int node_append(struct ytree_node *p, struct ytree_node *kid)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct ytree_node **k = realloc(p->kid, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		p->kid = k;
		p->cap = cap;
	}
	p->kid[p->n++] = kid;
	return 0;
}

/* Sort order for scalars: text, then position, so a duplicate meets its first. */
static int key_cmp(const void *a, const void *b)
{
	const struct ytree_node *x = *(const struct ytree_node *const *)a;
	const struct ytree_node *y = *(const struct ytree_node *const *)b;
	int r = strcmp(x->text, y->text);

	if (r)
		return r;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

static bool before(const struct ytree_node *a, const struct ytree_node *b)
{
	return a->line < b->line || (a->line == b->line && a->col < b->col);
}

int ytree_find_dup(const struct ytree_node *const *v, size_t n,
		   const struct ytree_node **dup, const struct ytree_node **first)
{
	const struct ytree_node **s;

	*dup = NULL;
	if (n < 2)
		return 0;
	/* Sorting keeps a mapping of 100,000 keys cheap. */
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), key_cmp);
	for (size_t i = 1, g = 0; i < n; i++) {
		if (strcmp(s[i]->text, s[g]->text) != 0) {
			g = i;
			continue;
		}
		if (!*dup || before(s[i], *dup)) {
			*dup = s[i];
			*first = s[g];
		}
	}
	free(s);
	return *dup != NULL;
}

/* The earliest repeated key of mapping @m is reported with its first appearance. */
static int map_check_dups(struct builder *b, const struct ytree_node *m)
{
	size_t n = ytree_map_len(m);
	const struct ytree_node **keys, *dup, *first;
	int r;

	if (n < 2)
		return 0;
	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return oom(b);
	for (size_t i = 0; i < n; i++)
		keys[i] = ytree_map_key(m, i);
	r = ytree_find_dup(keys, n, &dup, &first);
	free(keys);
	if (r < 0)
		return oom(b);
	if (!r)
		return 0;
	return ytree_fail(b->e, b->path, dup->line, dup->col,
			  "duplicate key '%s' (first at %u:%u)", dup->text,
			  first->line, first->col);
}

/* ---- text, before libyaml ---- */

/* Line and column (in characters) of byte @off. */
static void byte_pos(const char *buf, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* Length of the well-formed UTF-8 sequence at @p (RFC 3629 §4), else 0. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	static const uint32_t least[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t cp;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool is_control(unsigned char c)
{
	return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
}

static int text_check(struct builder *b, const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;
	unsigned line, col;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_len(p + i, len - i);

		if (n == 1 && !is_control(p[i])) {
			i++;
			continue;
		}
		if (n > 1) {
			i += n;
			continue;
		}
		byte_pos(buf, i, &line, &col);
		if (!n)
			return ytree_fail(b->e, b->path, line, col,
					  "file is not UTF-8 text (byte 0x%02x)", p[i]);
		return ytree_fail(b->e, b->path, line, col,
				  "control character 0x%02x is not allowed", p[i]);
	}
	return 0;
}

/* ---- libyaml events into nodes ---- */

static int syntax_error(struct builder *b, const yaml_parser_t *p,
			const char *buf)
{
	const char *problem = p->problem ? p->problem : "unreadable input";
	unsigned line, col;

	if (p->error == YAML_MEMORY_ERROR)
		return oom(b);
	if (p->error == YAML_READER_ERROR) {
		byte_pos(buf, p->problem_offset, &line, &col);
		return ytree_fail(b->e, b->path, line, col,
				  "YAML syntax error: %s", problem);
	}
	line = mark_line(p->problem_mark);
	col = mark_col(p->problem_mark);
	if (p->context)
		return ytree_fail(b->e, b->path, line, col,
				  "YAML syntax error: %s (%s at line %u)", problem,
				  p->context, mark_line(p->context_mark));
	return ytree_fail(b->e, b->path, line, col, "YAML syntax error: %s",
			  problem);
}

/* One way to write each thing: no anchors, no tags. */
static int check_props(struct builder *b, yaml_mark_t m,
		       const yaml_char_t *anchor, const yaml_char_t *tag)
{
	if (anchor)
		return ytree_fail(b->e, b->path, mark_line(m), mark_col(m),
				  "anchors (&%s) are not supported", anchor);
	if (tag)
		return ytree_fail(b->e, b->path, mark_line(m), mark_col(m),
				  "tags (%s) are not supported", tag);
	return 0;
}

static int attach(struct builder *b, struct ytree_node *n)
{
	struct ytree_node *p;

	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	p = b->stack[b->depth - 1];
	if (p->kind == YTREE_MAP && p->n % 2 == 0 && n->kind != YTREE_SCALAR) {
		int r = ytree_fail(b->e, b->path, n->line, n->col,
				   "mapping keys must be plain text, not %s",
				   ytree_kind_name(n));

		ytree_free(n);
		return r;
	}
	if (node_append(p, n)) {
		ytree_free(n);
		return oom(b);
	}
	return 0;
}

static int add_scalar(struct builder *b, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	struct ytree_node *n;

	/* A "\0" escape in a quoted scalar: refused rather than cut short. */
	if (strlen(v) != ev->data.scalar.length)
		return ytree_fail(b->e, b->path, mark_line(ev->start_mark),
				  mark_col(ev->start_mark),
				  "NUL characters are not allowed");
	n = node_new(YTREE_SCALAR, ev->start_mark);
	if (!n)
		return oom(b);
	n->text = strdup(v);
	if (!n->text) {
		ytree_free(n);
		return oom(b);
	}
	return attach(b, n);
}

static int open_collection(struct builder *b, const yaml_event_t *ev,
			   enum ytree_kind kind)
{
	struct ytree_node *n;
	int r;

	if (b->depth == YTREE_DEPTH_MAX)
		return ytree_fail(b->e, b->path, mark_line(ev->start_mark),
				  mark_col(ev->start_mark),
				  "nesting deeper than %d levels", YTREE_DEPTH_MAX);
	n = node_new(kind, ev->start_mark);
	if (!n)
		return oom(b);
	r = attach(b, n);
	if (!r)
		b->stack[b->depth++] = n;
	return r;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	yaml_mark_t m = ev->start_mark;
	int r;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->docs > 1)
			return ytree_fail(b->e, b->path, mark_line(m), mark_col(m),
					  "more than one YAML document (expected one %s per file)",
					  b->what);
		return 0;
	case YAML_STREAM_END_EVENT:
		b->done = true;
		return 0;
	case YAML_ALIAS_EVENT:
		return ytree_fail(b->e, b->path, mark_line(m), mark_col(m),
				  "aliases (*%s) are not supported",
				  ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		r = check_props(b, m, ev->data.scalar.anchor, ev->data.scalar.tag);
		return r ? r : add_scalar(b, ev);
	case YAML_MAPPING_START_EVENT:
		r = check_props(b, m, ev->data.mapping_start.anchor,
				ev->data.mapping_start.tag);
		return r ? r : open_collection(b, ev, YTREE_MAP);
	case YAML_SEQUENCE_START_EVENT:
		r = check_props(b, m, ev->data.sequence_start.anchor,
				ev->data.sequence_start.tag);
		return r ? r : open_collection(b, ev, YTREE_SEQ);
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		return map_check_dups(b, b->stack[b->depth]);
	case YAML_SEQUENCE_END_EVENT:
		b->depth--;
		return 0;
	default:
		return 0;
	}
}

int ytree_parse(const char *path, const char *what, const char *buf,
		size_t len, struct ytree_node **root, struct verr *e)
{
	struct builder b = { .path = path, .what = what, .e = e };
	yaml_parser_t p;
	yaml_event_t ev;
	int r;

	*root = NULL;
	r = text_check(&b, buf, len);
	if (r)
		return r;
	if (!yaml_parser_initialize(&p))
		return oom(&b);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	while (!r && !b.done) {
		if (!yaml_parser_parse(&p, &ev)) {
			r = syntax_error(&b, &p, buf);
			break;
		}
		r = on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (r) {
		ytree_free(b.root);
		return r;
	}
	*root = b.root;
	return 0;
}
