/*
 * Small helpers the image loaders share: little-endian fields of a file
 * image, and error messages that start with the name of the file at fault.
 */
#ifndef TRAPEZE_BIOS_LOADER_UTIL_H
#define TRAPEZE_BIOS_LOADER_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Writes "WHO: message" into err and returns -1 (the loaders' error value). */
__attribute__((format(printf, 4, 5))) static inline int loader_error(char *err, size_t errlen,
                                                                      const char *who,
                                                                      const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "%s: ", who);
    if (n < 0 || (size_t)n >= errlen)
        return -1;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

#endif
