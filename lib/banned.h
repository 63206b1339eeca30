/*
 * banned: functions that make overflows easy are compile errors in our
 * code (as git's banned.h).  Included last by util.h, after the system
 * headers, so their declarations are untouched; use snprintf, memcpy with a
 * checked length, or strtok_r instead.
 */
#ifndef AUTODEPLOY_BANNED_H
#define AUTODEPLOY_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_use_snprintf_or_memcpy

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef gets
#define gets(x) BANNED(gets)

#endif
