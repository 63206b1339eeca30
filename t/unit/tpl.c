/* tpl: template filling and the quoting of values for unit files. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tpl.h"
#include "util.h"

static void render_is(const char *text, const char *const *vars, const char *want, const char *title)
{
	char *got = tpl_render_text(text, vars);
	is_str(got, want, "%s", title);
	free(got);
}

static void quote_is(const char *cmd, const char *want, const char *title)
{
	char err[ERR_MAX] = "";
	char *got = tpl_unit_quote("K", cmd, err);
	is_str(got ? got : err, want, "%s", title);
	free(got);
}

int main(void)
{
	const char *vars[] = { "A", "1", "LONG_NAME", "a much longer value", "EMPTY", "", NULL };
	char err[ERR_MAX];
	char *s;

	render_is("x=@A@ y=@LONG_NAME@.", vars, "x=1 y=a much longer value.", "keys are replaced, text grows");
	render_is("@A@@A@", vars, "11", "adjacent keys");
	render_is("[@EMPTY@]", vars, "[]", "a key may be empty");
	render_is("mail me@host or @NOPE@ @", vars, "mail me@host or @NOPE@ @",
	          "an unknown key and a lone '@' stay as written");
	render_is("a@b@A@", vars, "a@b1", "the first '@' that opens no key is kept as text");
	render_is("", vars, "", "an empty template");

	quote_is("echo hi", "\"echo hi\"", "a plain command is one quoted argument");
	quote_is("date +%F $HOME", "\"date +%%F $$HOME\"", "'%' and '$' are doubled");
	quote_is("say \"a\\b\"", "\"say \\\"a\\\\b\\\"\"", "quote and backslash are escaped");
	quote_is("a\nb\tc", "\"a\\nb\\tc\"", "newline and tab are written as escapes");
	quote_is("a\rb", "K: the command holds a control character", "another control character is refused");

	s = tpl_unit_path("K", "/srv/a%b", err);
	is_str(s, "/srv/a%%b", "a unit path has '%%' doubled");
	free(s);
	ok(tpl_unit_path("K", "srv/a", err) == NULL && strstr(err, "not an absolute path"),
	   "a relative path is refused");
	ok(tpl_unit_path("K", "/srv/a b", err) == NULL && strstr(err, "K: '/srv/a b' holds a blank"),
	   "a blank is refused, naming the key");
	ok(tpl_check_path("K", "/srv/\"x", NULL, err) < 0, "a quote is refused");
	ok(tpl_check_path("K", "/var/log/x", "*?[]{}", err) == 0, "a plain path passes the glob check");
	ok(tpl_check_path("K", "/var/log/[x]", "*?[]{}", err) < 0 && strstr(err, "'['"),
	   "a glob character is refused when asked, naming it");
	return done_testing();
}
