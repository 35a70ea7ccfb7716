/* tar: ustar writer and streaming reader. */
#include "formats/tar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/zio.h"

static void octal(char *field, size_t width, uint64_t v)
{
    /* width - 1 octal digits, zero-padded, then a NUL. */
    field[width - 1] = '\0';
    for (size_t i = width - 1; i-- > 0;) {
        field[i] = (char)('0' + (v & 7));
        v >>= 3;
    }
}

static unsigned header_sum(const unsigned char *h)
{
    /* Once per archive member: a plain sum the compiler vectorises, then the checksum field
     * counted as eight spaces. */
    unsigned sum = 0;
    for (int i = 0; i < RT_TAR_BLOCK; i++) sum += h[i];
    for (int i = 148; i < 156; i++) sum += (unsigned)' ' - h[i];
    return sum;
}

size_t rt_tar_open_member(rt_buf *out)
{
    static const unsigned char zeros[RT_TAR_BLOCK];
    size_t at = out->len;
    rt_buf_append(out, zeros, sizeof zeros);
    return at;
}

rt_status rt_tar_close_member(rt_buf *out, size_t at, const char *name, int64_t mtime_s)
{
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > RT_TAR_NAME_MAX) return RT_ELIMIT;
    if (out->failed) return RT_ENOMEM;
    RT_ASSERT(at + RT_TAR_BLOCK <= out->len);
    size_t len = out->len - at - RT_TAR_BLOCK;
    unsigned char *h = (unsigned char *)out->data + at;
    memset(h, 0, RT_TAR_BLOCK);
    memcpy(h, name, nlen);
    octal((char *)h + 100, 8, 0644);
    octal((char *)h + 108, 8, 0);
    octal((char *)h + 116, 8, 0);
    octal((char *)h + 124, 12, len);
    octal((char *)h + 136, 12, mtime_s > 0 ? (uint64_t)mtime_s : 0);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    char sum[8];
    octal(sum, 7, header_sum(h));
    memcpy(h + 148, sum, 7);
    h[155] = ' ';
    static const unsigned char zeros[RT_TAR_BLOCK];
    size_t pad = (RT_TAR_BLOCK - len % RT_TAR_BLOCK) % RT_TAR_BLOCK;
    rt_buf_append(out, zeros, pad);
    return rt_buf_status(out);
}

rt_status rt_tar_member(rt_buf *out, const char *name, const void *data, size_t len,
                        int64_t mtime_s)
{
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > RT_TAR_NAME_MAX) return RT_ELIMIT;
    size_t at = rt_tar_open_member(out);
    rt_buf_append(out, data, len);
    return rt_tar_close_member(out, at, name, mtime_s);
}

void rt_tar_end(rt_buf *out)
{
    static const unsigned char zeros[2 * RT_TAR_BLOCK];
    rt_buf_append(out, zeros, sizeof zeros);
}

/* ---- reading ---- */

static int parse_octal(const unsigned char *f, size_t width, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < width && f[i] == ' ') i++;
    size_t digits = 0;
    for (; i < width && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
        if (v >> 61) return 0;
        v = v << 3 | (uint64_t)(f[i] - '0');
    }
    for (; i < width; i++)
        if (f[i] != ' ' && f[i] != '\0') return 0;
    *out = v;
    return digits > 0;
}

/* Read exactly n bytes (or report a truncated archive). */
static rt_status read_exact(rt_zreader *z, void *buf, size_t n, const char *path, rt_error *err)
{
    size_t done = 0;
    while (done < n) {
        size_t got;
        rt_status st = rt_zreader_read(z, (char *)buf + done, n - done, &got, err);
        if (st != RT_OK) return st;
        if (got == 0)
            return rt_error_set(err, RT_ECORRUPT, path, 0, 0, NULL, "truncated tar archive");
        done += got;
    }
    return RT_OK;
}

rt_status rt_tar_each(const char *path, size_t member_max, rt_tar_member_fn fn, void *ctx,
                      rt_error *err)
{
    rt_zreader *z;
    rt_status st = rt_zreader_open(path, &z, err);
    if (st != RT_OK) return st;
    char *data = NULL;
    unsigned char h[RT_TAR_BLOCK];
    uint64_t member = 0;
    for (;;) {
        if ((st = read_exact(z, h, sizeof h, path, err)) != RT_OK) break;
        bool zero = true;
        for (int i = 0; i < RT_TAR_BLOCK && zero; i++) zero = h[i] == 0;
        if (zero) {
            /* The end: a second zero block must follow. */
            st = read_exact(z, h, sizeof h, path, err);
            break;
        }
        uint64_t size, sum;
        if (!parse_octal(h + 124, 12, &size) || !parse_octal(h + 148, 8, &sum) ||
            sum != header_sum(h) || memcmp(h + 257, "ustar", 5) != 0) {
            st = rt_error_set(err, RT_ECORRUPT, path, 0, 0, NULL,
                              "member %llu: not a valid ustar header", (unsigned long long)member + 1);
            break;
        }
        if (size > member_max) {
            st = rt_error_set(err, RT_ECORRUPT, path, 0, 0, NULL,
                              "member %llu is larger than %zu bytes", (unsigned long long)member + 1,
                              member_max);
            break;
        }
        size_t padded = (size_t)((size + RT_TAR_BLOCK - 1) / RT_TAR_BLOCK * RT_TAR_BLOCK);
        char *d = realloc(data, padded + 1);
        if (!d) {
            st = rt_error_set(err, RT_ENOMEM, path, 0, 0, NULL, "out of memory");
            break;
        }
        data = d;
        if ((st = read_exact(z, data, padded, path, err)) != RT_OK) break;
        data[size] = '\0';
        char name[RT_TAR_NAME_MAX + 1];
        memcpy(name, h, RT_TAR_NAME_MAX);
        name[RT_TAR_NAME_MAX] = '\0';
        member++;
        if ((st = fn(ctx, name, data, (size_t)size)) != RT_OK) break;
    }
    free(data);
    rt_zreader_close(z);
    return st;
}
