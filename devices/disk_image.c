/* Raw disk images (see disk_image.h). */
#include "disk_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LBA28_SECTORS (1ull << 28)

int disk_image_open(struct disk_image *img, const char *path, enum disk_image_kind kind,
                    char *err, size_t errlen)
{
    const char *what = kind == DISK_IMAGE_CD ? "CD-ROM image" : "disk image";
    memset(img, 0, sizeof(*img));
    img->fd = -1;
    img->path = path;
    img->sector_size = kind == DISK_IMAGE_CD ? 2048 : 512;
    struct stat st;
    /* A directory or device node would fail later with a less useful errno. */
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        snprintf(err, errlen, "%s: %s is not a regular file or block device", path, what);
        return -1;
    }
    int fd = -1;
    if (kind == DISK_IMAGE_HD) {
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM))
            img->read_only = true;
    }
    if (fd < 0 && (kind == DISK_IMAGE_CD || img->read_only)) {
        img->read_only = true;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open %s: %s", path, what, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    uint64_t size;
    if (S_ISREG(st.st_mode)) {
        size = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            goto fail;
        }
        size = (uint64_t)end;
    } else {
        snprintf(err, errlen, "%s: %s is not a regular file or block device", path, what);
        goto fail;
    }
    if (size == 0) {
        snprintf(err, errlen, "%s: empty %s", path, what);
        goto fail;
    }
    if (size % img->sector_size) {
        snprintf(err, errlen,
                 "%s: %s size %llu is not a multiple of %u bytes (truncated or not a %s?)", path,
                 what, (unsigned long long)size, img->sector_size,
                 kind == DISK_IMAGE_CD ? "ISO image" : "raw disk image");
        goto fail;
    }
    if (kind == DISK_IMAGE_HD && size / 512 > LBA28_SECTORS) {
        snprintf(err, errlen, "%s: disk image of %llu bytes exceeds the LBA28 limit (128 GiB)",
                 path, (unsigned long long)size);
        goto fail;
    }
    img->fd = fd;
    img->size = size;
    return 0;
fail:
    close(fd);
    return -1;
}

void disk_image_close(struct disk_image *img)
{
    if (img->fd >= 0)
        close(img->fd);
    img->fd = -1;
}

int disk_image_pread(struct disk_image *img, uint64_t offset, void *buf, size_t n)
{
    if (img->fd < 0 || offset > img->size || n > img->size - offset)
        return -1;
    uint8_t *p = buf;
    while (n) {
        ssize_t r = pread(img->fd, p, n, (off_t)offset);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1; /* error, or the file shrank under us */
        p += r;
        n -= (size_t)r;
        offset += (uint64_t)r;
    }
    return 0;
}

int disk_image_read(struct disk_image *img, uint64_t lba, void *buf, uint32_t count)
{
    return disk_image_pread(img, lba * img->sector_size, buf, (size_t)count * img->sector_size);
}

int disk_image_write(struct disk_image *img, uint64_t lba, const void *buf, uint32_t count)
{
    uint64_t offset = lba * img->sector_size;
    size_t n = (size_t)count * img->sector_size;
    if (img->fd < 0 || img->read_only || offset > img->size || n > img->size - offset)
        return -1;
    const uint8_t *p = buf;
    while (n) {
        ssize_t r = pwrite(img->fd, p, n, (off_t)offset);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
        offset += (uint64_t)r;
    }
    return 0;
}

int disk_image_flush(struct disk_image *img)
{
    if (img->fd < 0 || img->read_only)
        return 0;
    return fdatasync(img->fd);
}
