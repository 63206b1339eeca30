/*
 * tpl: fill install-units' templates (systemd-units/NAME.in,
 * logrotate.d/autodeploy.in) and make values safe to put into them.
 *
 *   const char *vars[] = { "CONFIG", config, "BINDIR", bindir, NULL };
 *   char *text;
 *   if (tpl_render(&text, "/usr/share/autodeploy/systemd-units/x.in", vars, err) < 0)
 *       -> the template cannot be read (err names it)
 *   ... free(text);
 *
 * A template names a value as @KEY@; vars is a NULL-terminated list of
 * KEY, value pairs.  An @...@ whose KEY is not in vars is left as written,
 * so a literal '@' needs no escape.  Values are inserted as given: pass
 * them through tpl_unit_path / tpl_unit_quote / tpl_check_path first.
 *
 * The quoting functions return a malloc'd string, or NULL with err naming
 * key (the setting the value came from) and what is wrong.
 */
#ifndef AUTODEPLOY_TPL_H
#define AUTODEPLOY_TPL_H

/* Replace every @KEY@ of the template file at path; *out is malloc'd. */
int tpl_render(char **out, const char *path, const char *const *vars, char *err);

/* The same on a string in memory (never fails). */
char *tpl_render_text(const char *text, const char *const *vars);

/* 0 when path is absolute and holds no blank, quote, backslash or control
 * character, nor any character of also_refused (may be NULL or ""): such a
 * path can be written into a unit file or a logrotate snippet unquoted. */
int tpl_check_path(const char *key, const char *path, const char *also_refused, char *err);

/* A checked path (tpl_check_path) with '%' doubled, so that systemd reads
 * no specifier in it. */
char *tpl_unit_path(const char *key, const char *path, char *err);

/* An operator's shell command as one double-quoted ExecStart= argument:
 * '"' and '\' escaped, newline and tab as \n and \t, '%' and '$' doubled
 * (no specifier, no environment variable); other control characters are
 * refused. */
char *tpl_unit_quote(const char *key, const char *cmd, char *err);

#endif
