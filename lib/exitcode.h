/*
 * exitcode: the exit codes every program shares (SPEC.md's table, after
 * sysexits.h), and their meaning in words.
 */
#ifndef AUTODEPLOY_EXITCODE_H
#define AUTODEPLOY_EXITCODE_H

enum {
	EXIT_OK = 0,
	EXIT_DUE = 1,          /* check-drift: work is due */
	EXIT_ROLLED_BACK = 2,  /* deploy failed, old commits restored and started */
	EXIT_BROKEN = 3,       /* deploy failed, could not restore: a person must look */
	EXIT_USAGE = 64,
	EXIT_DATAERR = 65,
	EXIT_UNAVAILABLE = 69,
	EXIT_IOERR = 74,
	EXIT_BUSY = 75,
	EXIT_CONFIG = 78
};

/* The words for code in the end-of-run log line and last-deploy.json. */
const char *exitcode_meaning(int code);

#endif
