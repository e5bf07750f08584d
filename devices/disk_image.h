/*
 * Raw disk images: a hard-disk image (512-byte sectors) or an ISO 9660
 * CD-ROM image (2048-byte sectors) in a host file or block device.
 *
 * Writes go straight to the file (no copy-on-write): a hard-disk image is
 * opened read-write; if the host refuses that (read-only file or file
 * system) it is opened read-only and the drive aborts writes. A CD image is
 * always read-only. Every size problem is reported at open time with a
 * message naming the file, so the machine refuses to start instead of
 * handing the guest a short disk.
 */
#ifndef TRAPEZE_DEVICES_DISK_IMAGE_H
#define TRAPEZE_DEVICES_DISK_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct disk_image {
    int fd;               /* -1 when closed */
    uint64_t size;        /* bytes, a multiple of sector_size */
    uint32_t sector_size; /* 512 or 2048 */
    bool read_only;
    const char *path;     /* as given (not copied: the caller keeps it alive) */
};

enum disk_image_kind { DISK_IMAGE_HD, DISK_IMAGE_CD };

/* Opens path as a hard-disk or CD image. Returns 0, or -1 with a message
 * naming the file in err: missing or unreadable file, not a regular file or
 * block device, empty, size not a multiple of the sector size, or too large
 * for LBA28 (hard disk: 2^28 sectors). */
int disk_image_open(struct disk_image *img, const char *path, enum disk_image_kind kind,
                    char *err, size_t errlen);
void disk_image_close(struct disk_image *img);

/* Whole sectors: count sectors of the image's sector size from lba.
 * Return 0, or -1 on a host I/O error or a range beyond the image. */
int disk_image_read(struct disk_image *img, uint64_t lba, void *buf, uint32_t count);
int disk_image_write(struct disk_image *img, uint64_t lba, const void *buf, uint32_t count);
/* Byte-granular read within the image (ATAPI transfers in byte-count chunks). */
int disk_image_pread(struct disk_image *img, uint64_t offset, void *buf, size_t n);
/* Makes written data durable (FLUSH CACHE). Returns 0 or -1. */
int disk_image_flush(struct disk_image *img);

static inline uint64_t disk_image_sectors(const struct disk_image *img)
{
    return img->size / img->sector_size;
}

#endif
