/* env.local parsing: every accepted form, every refusal with its line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "tap.h"
#include "util.h"
#include "value.h"

static char err[ERR_MAX];

static struct cfg *parse(const char *text)
{
	struct cfg *c;
	err[0] = '\0';
	if (cfg_parse(&c, "env.local", text, strlen(text), err) < 0) {
		diag("unexpected error: %s", err);
		return NULL;
	}
	return c;
}

/* The value of key after parsing text (static copy), or "<error>". */
static const char *value_of(const char *text, const char *key)
{
	static char buf[4096];
	struct cfg *c = parse(text);
	if (!c)
		return "<error>";
	const char *v = cfg_get(c, key);
	snprintf(buf, sizeof(buf), "%s", v ? v : "<unset>");
	cfg_free(c);
	return buf;
}

/* text must be refused with a message starting "env.local:LINE: " and
 * holding want. */
static void refused(const char *text, size_t len, int line, const char *want, const char *title)
{
	struct cfg *c = NULL;
	char prefix[64];
	err[0] = '\0';
	int rc = cfg_parse(&c, "env.local", text, len, err);
	snprintf(prefix, sizeof(prefix), "env.local:%d: ", line);
	int good = rc == -1 && c == NULL && strncmp(err, prefix, strlen(prefix)) == 0 &&
	           strstr(err, want) != NULL;
	ok(good, "refused: %s", title);
	if (!good)
		diag("rc=%d err='%s' (want '%s...%s')", rc, err, prefix, want);
	cfg_free(c);
}
#define REFUSED(text, line, want, title) refused(text, strlen(text), line, want, title)

static void accepted_forms(void)
{
	is_str(value_of("A=b\n", "A"), "b", "plain KEY=value");
	is_str(value_of("export A=b\n", "A"), "b", "export KEY=value");
	is_str(value_of("  export\tA=b  \n", "A"), "b", "blanks around export and after the value");
	is_str(value_of("A=\"b c\"\n", "A"), "b c", "double-quoted value keeps spaces");
	is_str(value_of("A='b $X `c` \\n'\n", "A"), "b $X `c` \\n", "single quotes are literal");
	is_str(value_of("A=a\"b\"'c'd\n", "A"), "abcd", "mixed concatenation a\"b\"'c'd");
	is_str(value_of("A=\"q\\\" b\\\\ d\\$ t\\` x\\y\"\n", "A"), "q\" b\\ d$ t` x\\y",
	       "backslash escapes in double quotes as in sh");
	is_str(value_of("A=\"one \\\ntwo\"\n", "A"), "one two", "backslash-newline in double quotes joins lines");
	is_str(value_of("A=b\\ c\n", "A"), "b c", "backslash escapes a space outside quotes");
	is_str(value_of("A=\n", "A"), "", "empty value");
	is_str(value_of("A= # nothing\n", "A"), "", "empty value then a comment");
	is_str(value_of("# comment\n\n   \n\t# indented comment\nA=b\n", "A"), "b",
	       "blank lines and comments are skipped");
	is_str(value_of("A=b # comment\n", "A"), "b", "comment after whitespace");
	is_str(value_of("A=b#c\n", "A"), "b#c", "# inside a word is literal, as in sh");
	is_str(value_of("A=\"b # c\"\n", "A"), "b # c", "# inside quotes is literal");
	is_str(value_of("A=b", "A"), "b", "no newline at the end of the file");
	is_str(value_of("A=1\nA=2\n", "A"), "2", "last assignment wins");
	is_str(value_of("A=x=y\n", "A"), "x=y", "= inside a value");
	is_str(value_of("A=$\n", "A"), "$", "a lone $ at the end is literal");
	is_str(value_of("A=\"$ x\"\n", "A"), "$ x", "$ before a space is literal");
	is_str(value_of("A=a$/b\n", "A"), "a$/b", "$ before / is literal");
	is_str(value_of("A=~/x\n", "A"), "/home/test/x", "leading ~/ is the home folder");
	is_str(value_of("A='~/x'\n", "A"), "~/x", "quoted ~ is literal");
	is_str(value_of("A=a~b\n", "A"), "a~b", "~ inside a word is literal");
	is_str(value_of("export A B\nC=1\n", "C"), "1", "export NAME... is accepted and ignored");
	is_str(value_of("A=\"\"\n", "A"), "", "empty double quotes");

	struct cfg *c = parse("L=\"one\ntwo\n  three\"\nB=x\nC=\"\n\n\"\nD=$oops\n");
	ok(c != NULL, "multi-line double-quoted values parse");
	if (c) {
		is_str(cfg_get(c, "L"), "one\ntwo\n  three", "multi-line value keeps its newlines");
		is_int(cfg_line(c, "L"), 1, "a multi-line value's line is where it starts");
		is_int(cfg_line(c, "B"), 4, "lines after a multi-line value are counted right");
		is_int(cfg_line(c, "D"), 8, "lines after two multi-line values are counted right");
		cfg_free(c);
	}
	REFUSED("A=\"a\nb\nc`x`\"\n", 3, "command substitution", "error inside a multi-line value names its own line");
}

static void expansion(void)
{
	setenv("CFG_T_ENV", "from-env", 1);
	unsetenv("CFG_T_UNSET");
	setenv("HOME", "/home/test", 1);

	is_str(value_of("A=x\nB=${A}/y\n", "B"), "x/y", "${KEY} expands an earlier key");
	is_str(value_of("A=x\nB=$A/y\n", "B"), "x/y", "$KEY expands an earlier key");
	is_str(value_of("A=x\nB=\"[$A]\"\n", "B"), "[x]", "expansion inside double quotes");
	is_str(value_of("B=$CFG_T_ENV\n", "B"), "from-env", "$KEY falls back to the environment");
	is_str(value_of("CFG_T_ENV=file\nB=$CFG_T_ENV\n", "B"), "file", "an earlier key wins over the environment");
	is_str(value_of("B=a${CFG_T_UNSET}b\n", "B"), "ab", "an unknown key expands to empty");
	is_str(value_of("A=x\nB='$A ${A}'\n", "B"), "$A ${A}", "no expansion in single quotes");
	is_str(value_of("A=x\nB=\\$A\n", "B"), "$A", "backslash-dollar is literal");
	is_str(value_of("B=$A\nA=x\n", "B"), "", "a key set later does not expand");
	is_str(value_of("A=1\nA=$A$A\nA=${A}2\n", "A"), "112", "a key expands its own previous value");
	is_str(value_of("A=x\nB=$A_y\n", "B"), "", "$NAME takes every name character, as sh does");
	is_str(value_of("A=\"x y\"\nB=$A\n", "B"), "x y", "expansion keeps spaces (no word splitting)");

	/* Doubling on every line would need 2^40 bytes: a bound refuses it
	 * instead of exhausting memory. */
	char big[2048] = "A=xxxxxxxxxxxxxxxx\n";
	size_t used = strlen(big);
	for (int i = 0; i < 40; i++)
		used += (size_t)snprintf(big + used, sizeof big - used, "A=$A$A\n");
	REFUSED(big, 17, "too large", "exponential expansion is bounded");
}

static void refusals(void)
{
	REFUSED("A=1\nB=$(date)\n", 2, "command substitution '$(...)'", "$(...)");
	REFUSED("A=1\n\nB=\"x $(date)\"\n", 3, "command substitution", "$(...) inside double quotes");
	REFUSED("B=`date`\n", 1, "command substitution '`...`'", "backticks");
	REFUSED("A=1\nB=\"`date`\"\n", 2, "command substitution", "backticks inside double quotes");
	REFUSED("$(rm -rf /)\n", 1, "command substitution", "$(...) as a statement");
	REFUSED("A=1\nB='abc\nC=2\n", 2, "unterminated single quote (opened here)", "unterminated '");
	REFUSED("A=1\n\nB=\"abc\nC=2\n\n", 3, "unterminated double quote (opened here)", "unterminated \"");
	REFUSED("A=\"abc\\\"", 1, "unterminated double quote", "escaped quote does not close");
	REFUSED("A=1\n1A=2\n", 2, "invalid key '1A' (expected [A-Za-z_][A-Za-z0-9_]*)", "key starting with a digit");
	REFUSED("A-B=2\n", 1, "invalid key 'A-B'", "key with a dash");
	REFUSED("=2\n", 1, "missing key", "no key");
	REFUSED("A=1\nif true; then A=2; fi\n", 2, "not an assignment: 'if'", "if");
	REFUSED("A=1\nfoo\n", 2, "not an assignment: 'foo'", "bare word");
	REFUSED("export\n", 1, "not an assignment: 'export'", "export alone");
	REFUSED("export A=1 B\n", 1, "unexpected 'B' after the value", "export with a word after the value");
	REFUSED("export 1A\n", 1, "not an assignment", "export of a non-name");
	REFUSED("A=b | tee x\n", 1, "'|' outside quotes", "pipe after a value");
	REFUSED("A=b|c\n", 1, "'|' outside quotes", "pipe inside a value");
	REFUSED("| A=b\n", 1, "'|' outside quotes", "pipe as a statement");
	REFUSED("A=1\nls|sh\n", 2, "'|' outside quotes", "pipe after a bare word");
	REFUSED("A=1\nA=b; B=c\n", 2, "';' outside quotes", "semicolon");
	REFUSED("A=b &\n", 1, "'&' outside quotes", "ampersand");
	REFUSED("A=b>x\n", 1, "'>' outside quotes", "redirection >");
	REFUSED("A=b <x\n", 1, "'<' outside quotes", "redirection <");
	REFUSED("A=(a b)\n", 1, "'(' outside quotes", "array syntax");
	REFUSED("A=1\nA=b c\n", 2, "unexpected 'c' after the value", "trailing word");
	REFUSED("A=1\nB=2 C=3\n", 2, "unexpected 'C=3'", "two assignments on one line");
	REFUSED("A=1\nB=\"a\nb\" c\n", 3, "unexpected 'c'", "trailing word after a multi-line value");
	REFUSED("A=1\nB=${A:-x}\n", 2, "unsupported parameter expansion '${A:-x}'", "${X:-y}");
	REFUSED("B=\"${A#x}\"\n", 1, "unsupported parameter expansion", "${X#y} in double quotes");
	REFUSED("B=${}\n", 1, "unsupported parameter expansion", "${}");
	REFUSED("B=${A\n", 1, "unsupported parameter expansion", "unclosed ${");
	REFUSED("B=$1\n", 1, "parameter '$1' is not supported", "positional parameter");
	REFUSED("B=\"$@\"\n", 1, "parameter '$@' is not supported", "special parameter");
	REFUSED("A=1\r\n", 1, "carriage return", "DOS line ending");
	REFUSED("A=1\nB=2\n\n# c\n\\A=1\n", 5, "not an assignment", "backslash before a key");
	REFUSED("\"A\"=1\n", 1, "not an assignment: '\"A\"=1'", "quoted key");

	static const char nul[] = "A=1\nB=2\nC=x\0y\n";
	refused(nul, sizeof(nul) - 1, 3, "NUL byte", "NUL byte");
	static const char nul2[] = "A='1\n\0'\n";
	refused(nul2, sizeof(nul2) - 1, 2, "NUL byte", "NUL byte inside quotes");
}

static void load(void)
{
	char dir[] = "/tmp/cfg-unit.XXXXXX";
	char path[64], missing[64];
	struct cfg *c = NULL;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/env.local", dir);
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	FILE *f = fopen(path, "w");
	fputs("# test\nexport AUTODEPLOY_COMPOSE_DIR=/srv/stack\nX='a\nb'\nY=$X\nbad key\n", f);
	fclose(f);

	is_int(cfg_load(&c, path, err), -1, "cfg_load refuses a bad file");
	char want[128];
	snprintf(want, sizeof(want), "%s:6: not an assignment: 'bad'", path);
	ok(strncmp(err, want, strlen(want)) == 0, "cfg_load names the file and line");
	if (strncmp(err, want, strlen(want)))
		diag("got '%s'", err);

	f = fopen(path, "w");
	fputs("# test\nexport AUTODEPLOY_COMPOSE_DIR=/srv/stack\nX='a\nb'\nY=$X\nX=again\n", f);
	fclose(f);
	is_int(cfg_load(&c, path, err), 0, "cfg_load reads a good file");
	if (c) {
		is_str(cfg_name(c), path, "cfg_name is the path");
		is_str(cfg_get(c, "AUTODEPLOY_COMPOSE_DIR"), "/srv/stack", "cfg_get");
		is_str(cfg_get(c, "Y"), "a\nb", "expansion of a multi-line value");
		ok(cfg_get(c, "NOPE") == NULL, "cfg_get of an unset key is NULL");
		is_int(cfg_line(c, "AUTODEPLOY_COMPOSE_DIR"), 2, "cfg_line");
		is_int(cfg_line(c, "X"), 6, "cfg_line is the last assignment's line");
		is_int(cfg_line(c, "NOPE"), 0, "cfg_line of an unset key is 0");
		is_int((long long)cfg_count(c), 4, "cfg_count counts every assignment");
		is_str(cfg_key_at(c, 1), "X", "cfg_key_at in file order");
		is_str(cfg_value_at(c, 1), "a\nb", "cfg_value_at in file order");
		is_str(cfg_key_at(c, 3), "X", "cfg_key_at keeps repeated keys");
		ok(cfg_key_at(c, 4) == NULL, "cfg_key_at past the end is NULL");
		cfg_free(c);
	}

	is_int(cfg_load(&c, missing, err), -1, "cfg_load of a missing file fails");
	snprintf(want, sizeof(want), "cannot read '%s': No such file or directory", missing);
	is_str(err, want, "missing file message");
	is_int(cfg_load(&c, dir, err), -1, "cfg_load of a folder fails");
	snprintf(want, sizeof(want), "cannot read '%s': Is a directory", dir);
	is_str(err, want, "folder message");

	unlink(path);
	rmdir(dir);

	unsetenv("AUTODEPLOY_CONFIG");
	is_str(cfg_default_path(NULL), "/etc/autodeploy/env.local", "default path");
	setenv("AUTODEPLOY_CONFIG", "", 1);
	is_str(cfg_default_path(NULL), "/etc/autodeploy/env.local", "empty AUTODEPLOY_CONFIG is ignored");
	setenv("AUTODEPLOY_CONFIG", "/x/env", 1);
	is_str(cfg_default_path(NULL), "/x/env", "AUTODEPLOY_CONFIG");
	is_str(cfg_default_path("/y/env"), "/y/env", "--config wins over AUTODEPLOY_CONFIG");
	unsetenv("AUTODEPLOY_CONFIG");
}

static void typed(void)
{
	struct cfg *c = parse(
		"S1=500k\nS2=10M\nS3=1G\nS4=0\nS5=5x\nS6=123\nS7=99999999999999999999\nS8=2g\nS9=k\n"
		"B1=yes\nB2=No\nB3=true\nB4=off\nB5=maybe\nB6=1\nEMPTY=\n"
		"T1=300\nT2=5m\nT3=2h\nT4=1d\nT5=10s\nT6=5 \nT7=-1\nT8=1w\n"
		"O1=1000:1001\nO2=1000\nO3=a:b\nO4=0:0\nO5=4294967295:0\n"
		"N1=42\nN2=-3\nN3=12a\nN4=100\n"
		"L=\"  a b\n\tc\n\n d  \"\nL2=\"  \"\n");
	uint64_t sz;
	int b;
	long l;
	unsigned uid = 7, gid = 7;
	int set;

	if (!c) {
		ok(0, "typed fixture parses");
		return;
	}
	ok(value_size(&sz, c, "S1", 1, err) == 0 && sz == 500 * 1024, "size 500k");
	ok(value_size(&sz, c, "S2", 1, err) == 0 && sz == 10 << 20, "size 10M");
	ok(value_size(&sz, c, "S3", 1, err) == 0 && sz == 1 << 30, "size 1G");
	ok(value_size(&sz, c, "S4", 1, err) == 0 && sz == 0, "size 0");
	ok(value_size(&sz, c, "S6", 1, err) == 0 && sz == 123, "size in bytes");
	ok(value_size(&sz, c, "S8", 1, err) == 0 && sz == (uint64_t)2 << 30, "size 2g (any case)");
	ok(value_size(&sz, c, "UNSET", 77, err) == 0 && sz == 77, "unset size is the default");
	ok(value_size(&sz, c, "EMPTY", 78, err) == 0 && sz == 78, "empty size is the default");
	is_int(value_size(&sz, c, "S5", 1, err), -1, "size 5x refused");
	is_str(err, "env.local:5: S5: '5x' is not a size (expected bytes, or a number with k, M or G, e.g. 500k)",
	       "size message names file, line, key and value");
	is_int(value_size(&sz, c, "S7", 1, err), -1, "size overflow refused");
	is_int(value_size(&sz, c, "S9", 1, err), -1, "unit without a number refused");

	ok(value_bool(&b, c, "B1", 0, err) == 0 && b == 1, "bool yes");
	ok(value_bool(&b, c, "B2", 1, err) == 0 && b == 0, "bool No (any case)");
	ok(value_bool(&b, c, "B3", 0, err) == 0 && b == 1, "bool true");
	ok(value_bool(&b, c, "B4", 1, err) == 0 && b == 0, "bool off");
	ok(value_bool(&b, c, "B6", 0, err) == 0 && b == 1, "bool 1");
	ok(value_bool(&b, c, "UNSET", 1, err) == 0 && b == 1, "unset bool is the default");
	ok(value_bool(&b, c, "EMPTY", 0, err) == 0 && b == 0, "empty bool is the default");
	is_int(value_bool(&b, c, "B5", 0, err), -1, "bool maybe refused");
	is_str(err, "env.local:14: B5: 'maybe' is not a boolean (expected yes or no)", "bool message");

	ok(value_seconds(&l, c, "T1", 0, err) == 0 && l == 300, "seconds 300");
	ok(value_seconds(&l, c, "T2", 0, err) == 0 && l == 300, "seconds 5m");
	ok(value_seconds(&l, c, "T3", 0, err) == 0 && l == 7200, "seconds 2h");
	ok(value_seconds(&l, c, "T4", 0, err) == 0 && l == 86400, "seconds 1d");
	ok(value_seconds(&l, c, "T5", 0, err) == 0 && l == 10, "seconds 10s");
	ok(value_seconds(&l, c, "UNSET", 9, err) == 0 && l == 9, "unset seconds is the default");
	is_int(value_seconds(&l, c, "T7", 0, err), -1, "negative seconds refused");
	ok(strstr(err, "env.local:23: T7: '-1' is not a duration") == err, "seconds message");
	is_int(value_seconds(&l, c, "T8", 0, err), -1, "unknown unit w refused");

	ok(value_owner(&uid, &gid, &set, c, "O1", err) == 0 && set && uid == 1000 && gid == 1001, "owner 1000:1001");
	ok(value_owner(&uid, &gid, &set, c, "O4", err) == 0 && set && uid == 0 && gid == 0, "owner 0:0");
	ok(value_owner(&uid, &gid, &set, c, "UNSET", err) == 0 && set == 0, "unset owner: set is 0");
	ok(value_owner(&uid, &gid, &set, c, "O2", err) == 0 && set && uid == 1000 && gid == VALUE_GID_UNCHANGED,
	   "owner 1000 alone: the group is kept (chown -R 1000)");
	is_int(value_owner(&uid, &gid, &set, c, "O3", err), -1, "owner names refused");
	is_str(err, "env.local:27: O3: 'a:b' is not an owner (expected a numeric uid or uid:gid, e.g. 1000 or 1000:1000)",
	       "owner message");
	is_int(value_owner(&uid, &gid, &set, c, "O5", err), -1, "owner uid -1 refused");

	ok(value_long(&l, c, "N1", 0, 0, 100, err) == 0 && l == 42, "long 42");
	ok(value_long(&l, c, "N4", 0, 0, 100, err) == 0 && l == 100, "long at max");
	ok(value_long(&l, c, "UNSET", 5, 0, 100, err) == 0 && l == 5, "unset long is the default");
	is_int(value_long(&l, c, "N2", 0, 0, 100, err), -1, "negative long refused");
	is_int(value_long(&l, c, "N3", 0, 0, 100, err), -1, "12a refused");
	is_int(value_long(&l, c, "N4", 0, 0, 99, err), -1, "above max refused");
	is_str(err, "env.local:33: N4: '100' is out of range (expected an integer from 0 to 99)", "range message");

	char **list;
	size_t n = 99;
	value_list(&list, &n, c, "L");
	is_int((long long)n, 4, "multi-line list has 4 items");
	ok(n == 4 && !strcmp(list[0], "a") && !strcmp(list[1], "b") && !strcmp(list[2], "c") &&
	   !strcmp(list[3], "d") && list[4] == NULL, "multi-line list splits on spaces, tabs, newlines");
	value_list_free(list);
	value_list(&list, &n, c, "L2");
	ok(n == 0 && list[0] == NULL, "blank list is empty");
	value_list_free(list);
	value_list(&list, &n, c, "UNSET");
	ok(n == 0 && list[0] == NULL, "unset list is empty");
	value_list_free(list);

	is_str(cfg_str(c, "B1", "d"), "yes", "cfg_str of a set key");
	is_str(cfg_str(c, "EMPTY", "d"), "d", "cfg_str of an empty key is the default");
	is_str(cfg_str(c, "UNSET", "d"), "d", "cfg_str of an unset key is the default");
	ok(cfg_str(c, "UNSET", NULL) == NULL, "cfg_str with a NULL default");

	is_int(cfg_error(c, "B1", err, "bad %s", "thing\nx"), -1, "cfg_error returns -1");
	is_str(err, "env.local:10: B1: bad thing?x", "cfg_error formats one line");
	cfg_free(c);
}

int main(void)
{
	setenv("HOME", "/home/test", 1);
	accepted_forms();
	expansion();
	refusals();
	load();
	typed();
	return done_testing();
}
