/* pack: record and key encoding. */
#include "engine/pack.h"

#include <stdlib.h>
#include <string.h>

void rt_pack_u8(rt_pack *p, uint8_t v) { rt_pack_bytes(p, &v, 1); }

void rt_pack_u64le(rt_pack *p, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    rt_pack_bytes(p, b, 8);
}

void rt_pack_str(rt_pack *p, const char *s)
{
    size_t n = strlen(s);
    rt_pack_uvarint(p, n);
    rt_pack_bytes(p, s, n);
}

void rt_pack_key_str(rt_pack *p, const char *s) { rt_pack_bytes(p, s, strlen(s) + 1); }

void rt_pack_key_u64(rt_pack *p, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (56 - 8 * i));
    rt_pack_bytes(p, b, 8);
}

void rt_pack_key_i64(rt_pack *p, int64_t v) { rt_pack_key_u64(p, (uint64_t)v ^ (UINT64_C(1) << 63)); }

uint8_t rt_unpack_u8(rt_unpack *u)
{
    if (u->p >= u->end) {
        u->bad = true;
        return 0;
    }
    return *u->p++;
}

uint64_t rt_unpack_uvarint(rt_unpack *u)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (u->p >= u->end) break;
        unsigned char b = *u->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    u->bad = true;
    return 0;
}

int64_t rt_unpack_svarint(rt_unpack *u)
{
    uint64_t z = rt_unpack_uvarint(u);
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

uint64_t rt_unpack_u64le(rt_unpack *u)
{
    if (u->end - u->p < 8) {
        u->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)u->p[i] << (8 * i);
    u->p += 8;
    return v;
}

const char *rt_unpack_str(rt_unpack *u, size_t *len)
{
    uint64_t n = rt_unpack_uvarint(u);
    if (u->bad || (uint64_t)(u->end - u->p) < n) {
        u->bad = true;
        *len = 0;
        return "";
    }
    const char *s = (const char *)u->p;
    u->p += n;
    *len = (size_t)n;
    return s;
}

const char *rt_unpack_key_str(rt_unpack *u, size_t *len)
{
    const unsigned char *z = memchr(u->p, 0, (size_t)(u->end - u->p));
    if (!z) {
        u->bad = true;
        *len = 0;
        return "";
    }
    const char *s = (const char *)u->p;
    *len = (size_t)(z - u->p);
    u->p = z + 1;
    return s;
}

uint64_t rt_unpack_key_u64(rt_unpack *u)
{
    if (u->end - u->p < 8) {
        u->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | u->p[i];
    u->p += 8;
    return v;
}

int64_t rt_unpack_key_i64(rt_unpack *u)
{
    return (int64_t)(rt_unpack_key_u64(u) ^ (UINT64_C(1) << 63));
}
