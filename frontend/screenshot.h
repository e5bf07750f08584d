/* PNG screenshots of the window or a tile, through libpng. */
#ifndef TRAPEZE_FRONTEND_SCREENSHOT_H
#define TRAPEZE_FRONTEND_SCREENSHOT_H

#include <stddef.h>
#include <stdint.h>

/* Writes w x h pixels (0xAARRGGBB, rows of pitch pixels) to path as an RGB
 * PNG. Returns 0, or -1 with a message naming the file in err. */
int screenshot_write_png(const char *path, const uint32_t *pix, int w, int h, int pitch, char *err,
                         size_t errlen);

#endif
