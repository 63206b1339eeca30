/* version: the suite's version, printed by --version. */
#ifndef AUTODEPLOY_VERSION_H
#define AUTODEPLOY_VERSION_H
#define AUTODEPLOY_VERSION "0.1.0"
#endif
