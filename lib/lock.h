/*
 * lock: the state folder's flock(2) locks.  check-drift and run-deploy
 * share STATE_DIR/lock; deploy-notebooks has STATE_DIR/notebooks.lock.
 * The lock lives as long as the descriptor: a killed run frees it.
 *
 *   int fd;
 *   switch (lock_take(&fd, path, wait_seconds, err)) {
 *   case 0: ...work...; lock_release(fd); break;
 *   case LOCK_BUSY: exit 75;  case -1: exit 74;
 *   }
 */
#ifndef AUTODEPLOY_LOCK_H
#define AUTODEPLOY_LOCK_H

#include <limits.h>

#define LOCK_BUSY 1
/* wait_seconds of a program that has no --wait: do not wait, and do not
 * suggest the option in the busy message. */
#define LOCK_NO_WAIT LONG_MIN

/* Create the folder of path if needed, open path (mode 0644, close-on-exec)
 * and take an exclusive flock, waiting up to wait_seconds (0 or LOCK_NO_WAIT: do not wait).  Returns 0 with *fd
 * set, LOCK_BUSY when still held by another process after the wait (err
 * says so: "another run holds 'PATH' (pid N); try again later or pass
 * --wait SECONDS"), -1 on an I/O error.  The holder's pid is written into
 * the file for that message; lock_release empties it.  While waiting the
 * lock is tried every 100 ms (no signals, so threads do not matter). */
int lock_take(int *fd, const char *path, long wait_seconds, char *err);
void lock_release(int fd);

#endif
