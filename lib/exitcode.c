/* exitcode: see exitcode.h. */
#include "exitcode.h"

const char *exitcode_meaning(int code)
{
	switch (code) {
	case EXIT_OK:          return "done";
	case EXIT_DUE:         return "work is due";
	case EXIT_ROLLED_BACK: return "deploy failed, old commits restored and started";
	case EXIT_BROKEN:      return "deploy failed, could not restore: a person must look";
	case EXIT_USAGE:       return "bad command line";
	case EXIT_DATAERR:     return "bad input data";
	case EXIT_UNAVAILABLE: return "remote unreachable, credentials refused or host key not trusted";
	case EXIT_IOERR:       return "i/o error";
	case EXIT_BUSY:        return "busy: another run holds the lock";
	case EXIT_CONFIG:      return "bad configuration or a checkout that may not be touched";
	case 255:              return "error";
	default:               return "unknown exit code";
	}
}
