/*
 * A minimal TAP producer for the C unit tests:
 *   ok(cond, "title %d", n); is_int(got, want, "title"); is_str(got, want, "title");
 *   return done_testing();
 */
#ifndef AUTODEPLOY_TAP_H
#define AUTODEPLOY_TAP_H

int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int is_int(long long got, long long want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int is_str(const char *got, const char *want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the plan; returns the exit status for main (0 when all passed). */
int done_testing(void);

#endif
