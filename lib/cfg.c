/*
 * cfg: env.local is read with the quoting rules of sh, but never run.
 *
 * The parser is one pass over the buffer: a statement is `KEY=value` or
 * `export KEY=value` (or `export NAME...`, a no-op), and a value is a
 * sequence of unquoted text, '...', "..." and $expansions ending at
 * unquoted whitespace.  Everything sh would treat as a command (a bare
 * word, a pipe, `;`, a redirection, a substitution) is refused with
 * FILE:LINE, so that sourcing the file and parsing it can never disagree
 * silently.  See env.local(5) for the choices where sh is vague.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfg.h"
#include "strbuf.h"
#include "util.h"

/* Expansion can double a value on every line (A=$A$A): a bound on the bytes
 * that expansions copy keeps memory proportional to the input. */
#define EXPAND_MAX (1u << 20)

struct entry {
	char *key;
	char *val;
	int line;
};

struct cfg {
	char *name;
	struct entry *e;
	size_t n, cap;
	size_t expanded;
	/* Open-addressed index of the keys: 1 + the entry that set a key
	 * last, 0 for a free slot.  A file of N assignments that each
	 * expand an earlier key is then read in O(N), not O(N^2). */
	size_t *slot;
	size_t nslots;          /* a power of two, at least twice the keys */
	size_t nkeys;
};

struct parser {
	struct cfg *c;
	const char *p, *end;
	int line;
	char *err;
	struct strbuf val;
};

/* Replace control characters so that a message stays one printable line. */
static void clean_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static int verr(char *err, const char *name, int line, const char *key,
                const char *fmt, va_list ap)
{
	int n = snprintf(err, ERR_MAX, "%s:%d: %s%s", name, line, key ? key : "", key ? ": " : "");
	if (n < 0)
		n = 0;
	if (n < ERR_MAX)
		vsnprintf(err + n, ERR_MAX - n, fmt, ap);
	clean_line(err);
	return -1;
}

static int perr(struct parser *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr(struct parser *ps, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(ps->err, ps->c->name, line, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int cfg_error(const struct cfg *c, const char *key, char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(err, c->name, cfg_line(c, key), key, fmt, ap);
	va_end(ap);
	return -1;
}

/* A short, printable excerpt of text for a message. */
static const char *excerpt(char *buf, size_t size, const char *s, size_t n)
{
	size_t max = size - 4;
	if (n > max) {
		memcpy(buf, s, max);
		memcpy(buf + max, "...", 4);
	} else {
		memcpy(buf, s, n);
		buf[n] = '\0';
	}
	clean_line(buf);
	return buf;
}

static int is_blank(char ch) { return ch == ' ' || ch == '\t'; }
static int is_alpha_(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}
static int is_namech(char ch) { return is_alpha_(ch) || (ch >= '0' && ch <= '9'); }
static int in(const char *set, char ch) { return ch && strchr(set, ch) != NULL; }
static int is_meta(char ch) { return in(";&|<>()", ch); }

static int valid_name(const char *s, size_t n)
{
	if (n == 0 || !is_alpha_(s[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_namech(s[i]))
			return 0;
	return 1;
}

/* Characters that end the first word of a statement. */
static int ends_word(char ch)
{
	return is_blank(ch) || ch == '\n' || ch == '\r' || ch == '=' || is_meta(ch) ||
	       ch == '`' || ch == '$' || ch == '"' || ch == '\'' || ch == '\\';
}

static int meta_error(struct parser *ps, char ch)
{
	return perr(ps, ps->line, "'%c' outside quotes is not allowed "
	            "(only KEY=value assignments; quote a value that holds it)", ch);
}

static int cr_error(struct parser *ps)
{
	return perr(ps, ps->line, "carriage return outside quotes "
	            "(DOS line endings? convert the file with dos2unix)");
}

static int subst_error(struct parser *ps, const char *what)
{
	return perr(ps, ps->line, "command substitution %s is not allowed "
	            "(the file is parsed, never run)", what);
}

static size_t hash(const char *s)
{
	size_t h = 2166136261u;         /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of key: the one holding it, or the free one it would take. */
static size_t *slot_of(const struct cfg *c, const char *key)
{
	size_t mask = c->nslots - 1;
	for (size_t i = hash(key) & mask;; i = (i + 1) & mask)
		if (!c->slot[i] || strcmp(c->e[c->slot[i] - 1].key, key) == 0)
			return &c->slot[i];
}

static const struct entry *find(const struct cfg *c, const char *key)
{
	if (!c->nslots)
		return NULL;
	size_t at = *slot_of(c, key);
	return at ? &c->e[at - 1] : NULL;
}

static const char *lookup(const struct cfg *c, const char *key)
{
	const struct entry *e = find(c, key);
	return e ? e->val : NULL;
}

/* Point key's slot at entry i, growing the index as it fills. */
static void index_entry(struct cfg *c, size_t i)
{
	if (2 * (c->nkeys + 1) > c->nslots) {
		size_t old = c->nslots, *slots = c->slot;
		c->nslots = old ? old * 2 : 64;
		c->slot = xcalloc(c->nslots, sizeof(*c->slot));
		for (size_t k = 0; k < old; k++)
			if (slots[k])
				*slot_of(c, c->e[slots[k] - 1].key) = slots[k];
		free(slots);
	}
	size_t *at = slot_of(c, c->e[i].key);
	if (!*at)
		c->nkeys++;
	*at = i + 1;
}

static int append_expanded(struct parser *ps, const char *s)
{
	size_t n = strlen(s);
	if (n > EXPAND_MAX - ps->c->expanded)
		return perr(ps, ps->line, "expansions make the configuration too large (over %u MiB)",
		            EXPAND_MAX >> 20);
	ps->c->expanded += n;
	strbuf_add(&ps->val, s, n);
	return 0;
}

/* ${NAME} or $NAME: a key set earlier in the file, else the environment,
 * else empty. */
static int expand(struct parser *ps, const char *name, size_t n)
{
	char *key = xmemdupz(name, n);
	const char *v = lookup(ps->c, key);
	if (!v)
		v = getenv(key);
	free(key);
	return append_expanded(ps, v ? v : "");
}

static int dollar(struct parser *ps)
{
	const char *q = ps->p + 1;
	char buf[64];

	if (q == ps->end) {
		strbuf_addch(&ps->val, '$');
		ps->p = q;
		return 0;
	}
	if (*q == '(')
		return subst_error(ps, "'$(...)'");
	if (*q == '{') {
		const char *r = q + 1;
		while (r < ps->end && is_namech(*r))
			r++;
		if (r < ps->end && *r == '}' && valid_name(q + 1, r - q - 1)) {
			ps->p = r + 1;
			return expand(ps, q + 1, r - q - 1);
		}
		while (r < ps->end && *r != '}' && *r != '\n')
			r++;
		if (r < ps->end && *r == '}')
			r++;
		return perr(ps, ps->line, "unsupported parameter expansion '%s' "
		            "(only ${NAME} and $NAME are supported)",
		            excerpt(buf, sizeof(buf), ps->p, r - ps->p));
	}
	if (is_alpha_(*q)) {
		const char *r = q;
		while (r < ps->end && is_namech(*r))
			r++;
		ps->p = r;
		return expand(ps, q, r - q);
	}
	if ((*q >= '0' && *q <= '9') || in("@*#?$!-", *q))
		return perr(ps, ps->line, "positional or special parameter '$%c' is not supported "
		            "(write '\\$' or quote with '...' for a literal dollar)", *q);
	/* `$` before anything else (a space, a quote, '/', the end) is literal,
	 * as in POSIX sh. */
	strbuf_addch(&ps->val, '$');
	ps->p = q;
	return 0;
}

static int single_quoted(struct parser *ps)
{
	int open = ps->line;
	const char *s = ps->p + 1, *q = s;

	while (q < ps->end && *q != '\'') {
		if (*q == '\n')
			ps->line++;
		q++;
	}
	if (q == ps->end)
		return perr(ps, open, "unterminated single quote (opened here)");
	strbuf_add(&ps->val, s, q - s);
	ps->p = q + 1;
	return 0;
}

static int double_quoted(struct parser *ps)
{
	int open = ps->line;

	ps->p++;
	for (;;) {
		if (ps->p == ps->end)
			return perr(ps, open, "unterminated double quote (opened here)");
		char ch = *ps->p;
		if (ch == '"') {
			ps->p++;
			return 0;
		} else if (ch == '\\' && ps->p + 1 < ps->end && in("\"\\$`\n", ps->p[1])) {
			/* As in sh: only these are escaped; backslash-newline
			 * joins lines; any other backslash stays. */
			if (ps->p[1] == '\n')
				ps->line++;
			else
				strbuf_addch(&ps->val, ps->p[1]);
			ps->p += 2;
		} else if (ch == '$') {
			if (dollar(ps) < 0)
				return -1;
		} else if (ch == '`') {
			return subst_error(ps, "'`...`'");
		} else {
			if (ch == '\n')
				ps->line++;
			strbuf_addch(&ps->val, ch);
			ps->p++;
		}
	}
}

static const char *home_dir(void)
{
	const char *h = util_home();
	return h ? h : "";
}

/* The value after `=`: ends at unquoted whitespace or the end. */
static int value(struct parser *ps)
{
	const char *start = ps->p;

	strbuf_reset(&ps->val);
	while (ps->p < ps->end) {
		char ch = *ps->p;
		if (is_blank(ch) || ch == '\n')
			break;
		if (ch == '\r')
			return cr_error(ps);
		if (is_meta(ch))
			return meta_error(ps, ch);
		if (ch == '`')
			return subst_error(ps, "'`...`'");
		if (ch == '\'') {
			if (single_quoted(ps) < 0)
				return -1;
		} else if (ch == '"') {
			if (double_quoted(ps) < 0)
				return -1;
		} else if (ch == '$') {
			if (dollar(ps) < 0)
				return -1;
		} else if (ch == '\\') {
			ps->p++;
			if (ps->p == ps->end) {
				strbuf_addch(&ps->val, '\\');
			} else if (*ps->p == '\n') {
				ps->line++;
				ps->p++;
			} else {
				strbuf_addch(&ps->val, *ps->p++);
			}
		} else if (ch == '~' && ps->p == start &&
		           (ps->p + 1 == ps->end || in("/ \t\n", ps->p[1]))) {
			/* sh expands a leading ~ in an assignment; ~user is
			 * left literal (it would need a password lookup). */
			if (append_expanded(ps, home_dir()) < 0)
				return -1;
			ps->p++;
		} else {
			strbuf_addch(&ps->val, ch);
			ps->p++;
		}
	}
	return 0;
}

static void skip_blanks(struct parser *ps)
{
	while (ps->p < ps->end && is_blank(*ps->p))
		ps->p++;
}

static void skip_comment(struct parser *ps)
{
	const char *nl = memchr(ps->p, '\n', ps->end - ps->p);
	ps->p = nl ? nl : ps->end;
}

/* After a statement: blanks, then a comment, a newline or the end. */
static int end_of_statement(struct parser *ps)
{
	char buf[64];

	skip_blanks(ps);
	if (ps->p == ps->end || *ps->p == '\n')
		return 0;
	if (*ps->p == '#') {
		skip_comment(ps);
		return 0;
	}
	if (*ps->p == '\r')
		return cr_error(ps);
	if (is_meta(*ps->p))
		return meta_error(ps, *ps->p);
	const char *q = ps->p;
	while (q < ps->end && !is_blank(*q) && *q != '\n')
		q++;
	return perr(ps, ps->line, "unexpected '%s' after the value "
	            "(quote a value that holds spaces)",
	            excerpt(buf, sizeof(buf), ps->p, q - ps->p));
}

static void store(struct cfg *c, char *key, char *val, int line)
{
	ARRAY_GROW(c->e, c->n, c->cap);
	c->e[c->n].key = key;
	c->e[c->n].val = val;
	c->e[c->n].line = line;
	index_entry(c, c->n++);
}

static int statement(struct parser *ps)
{
	char buf[64];
	int after_export = 0;

	for (;;) {
		const char *tok = ps->p, *q = tok;
		while (q < ps->end && !ends_word(*q))
			q++;
		size_t n = q - tok;

		if (q < ps->end && *q == '=') {
			if (n == 0)
				return perr(ps, ps->line, "missing key before '='");
			if (!valid_name(tok, n))
				return perr(ps, ps->line, "invalid key '%s' (expected [A-Za-z_][A-Za-z0-9_]*)",
				            excerpt(buf, sizeof(buf), tok, n));
			int line = ps->line;
			ps->p = q + 1;
			if (value(ps) < 0)
				return -1;
			store(ps->c, xmemdupz(tok, n), strbuf_detach(&ps->val, NULL), line);
			return end_of_statement(ps);
		}
		if (!after_export && n == 6 && memcmp(tok, "export", 6) == 0 &&
		    q < ps->end && is_blank(*q)) {
			ps->p = q;
			skip_blanks(ps);
			if (ps->p == ps->end || *ps->p == '\n' || *ps->p == '#')
				return perr(ps, ps->line, "'export' without a KEY=value");
			after_export = 1;
			continue;
		}
		if (after_export && valid_name(tok, n) &&
		    (q == ps->end || is_blank(*q) || *q == '\n')) {
			/* `export NAME...` only marks names for export:
			 * nothing to store, but every word must be a name. */
			ps->p = q;
			skip_blanks(ps);
			if (ps->p == ps->end || *ps->p == '\n' || *ps->p == '#')
				return end_of_statement(ps);
			continue;
		}
		if (q < ps->end && is_meta(*q))
			return meta_error(ps, *q);
		if (n == 0 && q < ps->end) {
			if (*q == '`' || (*q == '$' && q + 1 < ps->end && q[1] == '('))
				return subst_error(ps, *q == '`' ? "'`...`'" : "'$(...)'");
			if (*q == '\r')
				return cr_error(ps);
		}
		/* Name the whole first word: `if`, `echo`, `"A"=b`. */
		while (q < ps->end && !is_blank(*q) && *q != '\n')
			q++;
		return perr(ps, ps->line, "not an assignment: '%s' (expected KEY=value)",
		            excerpt(buf, sizeof(buf), tok, q - tok));
	}
}

int cfg_parse(struct cfg **out, const char *name, const char *buf, size_t len, char *err)
{
	struct cfg *c = xmalloc(sizeof(*c));
	struct parser ps = { .c = c, .p = buf, .end = buf + len, .line = 1, .err = err };

	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	*out = NULL;

	/* A NUL byte means this is not a text file; refuse it before
	 * anything else, naming its line. */
	const char *nul = memchr(buf, '\0', len);
	if (nul) {
		for (const char *s = buf; s < nul; s++)
			if (*s == '\n')
				ps.line++;
		perr(&ps, ps.line, "NUL byte (not a text file?)");
		goto fail;
	}
	while (ps.p < ps.end) {
		skip_blanks(&ps);
		if (ps.p == ps.end)
			break;
		if (*ps.p == '\n') {
			ps.line++;
			ps.p++;
		} else if (*ps.p == '#') {
			skip_comment(&ps);
		} else if (statement(&ps) < 0) {
			goto fail;
		}
	}
	strbuf_release(&ps.val);
	*out = c;
	return 0;
fail:
	strbuf_release(&ps.val);
	cfg_free(c);
	return -1;
}

static int read_error(char *err, const char *path, int e)
{
	snprintf(err, ERR_MAX, "cannot read '%s': %s", path, strerror(e));
	clean_line(err);
	return -1;
}

int cfg_load(struct cfg **out, const char *path, char *err)
{
	struct strbuf b = STRBUF_INIT;
	char chunk[65536];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return read_error(err, path, errno);
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			strbuf_release(&b);
			return read_error(err, path, e);
		}
		strbuf_add(&b, chunk, (size_t)r);
	}
	close(fd);
	int ret = cfg_parse(out, path, strbuf_str(&b), b.len, err);
	strbuf_release(&b);
	return ret;
}

const char *cfg_default_path(const char *override)
{
	if (override)
		return override;
	const char *env = getenv("AUTODEPLOY_CONFIG");
	if (env && *env)
		return env;
	return "/etc/autodeploy/env.local";
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].key);
		free(c->e[i].val);
	}
	free(c->e);
	free(c->slot);
	free(c->name);
	free(c);
}

const char *cfg_get(const struct cfg *c, const char *key)
{
	return lookup(c, key);
}

int cfg_line(const struct cfg *c, const char *key)
{
	const struct entry *e = find(c, key);
	return e ? e->line : 0;
}

const char *cfg_name(const struct cfg *c) { return c->name; }
size_t cfg_count(const struct cfg *c) { return c->n; }
const char *cfg_key_at(const struct cfg *c, size_t i) { return i < c->n ? c->e[i].key : NULL; }
const char *cfg_value_at(const struct cfg *c, size_t i) { return i < c->n ? c->e[i].val : NULL; }

const char *cfg_str(const struct cfg *c, const char *key, const char *def)
{
	const char *v = lookup(c, key);
	return v && *v ? v : def;
}
