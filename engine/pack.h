/* pack: compact binary encoding of records stored in LMDB.
 *
 * Owns a growable byte buffer with writers for varints, fixed-width integers and strings,
 * a bounds-checked reader for the same, and order-preserving key encoding (big-endian,
 * sign-flipped integers; NUL-terminated strings) so that LMDB's bytewise key order is the
 * natural order of the values. It does not know what any record means. */
#ifndef RT_PACK_H
#define RT_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/buf.h"
#include "engine/status.h"

/* Records are built in a byte buffer; an allocation failure is remembered in `failed`. */
typedef rt_buf rt_pack;

static inline void rt_pack_init(rt_pack *p) { rt_buf_init(p); }
static inline void rt_pack_free(rt_pack *p) { rt_buf_free(p); }
static inline void rt_pack_reset(rt_pack *p) { rt_buf_reset(p); }
static inline void rt_pack_bytes(rt_pack *p, const void *data, size_t len)
{
    rt_buf_append(p, data, len);
}
void rt_pack_u8(rt_pack *p, uint8_t v);
/* Varints are written per field of every invoice line the registry stores (tens of millions
 * a run), so they are inline and write straight into the buffer. */
static inline void rt_pack_uvarint(rt_pack *p, uint64_t v)
{
    if (!rt_buf_reserve(p, 10)) return;
    unsigned char *b = (unsigned char *)p->data + p->len;
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (unsigned char)v;
    p->len += n;
}
/* zigzag */
static inline void rt_pack_svarint(rt_pack *p, int64_t v)
{
    rt_pack_uvarint(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}
void rt_pack_u64le(rt_pack *p, uint64_t v);
void rt_pack_str(rt_pack *p, const char *s); /* varint length + bytes */
/* Key parts: order-preserving. */
void rt_pack_key_str(rt_pack *p, const char *s); /* bytes + NUL */
void rt_pack_key_i64(rt_pack *p, int64_t v);     /* big-endian, sign bit flipped */
void rt_pack_key_u64(rt_pack *p, uint64_t v);    /* big-endian */
/* RT_ENOMEM when any write failed, RT_OK otherwise. */
static inline rt_status rt_pack_status(const rt_pack *p) { return p->failed ? RT_ENOMEM : RT_OK; }

typedef struct rt_unpack {
    const unsigned char *p;
    const unsigned char *end;
    bool bad; /* read past the end or malformed: the record is corrupt */
} rt_unpack;

static inline void rt_unpack_init(rt_unpack *u, const void *data, size_t len)
{
    u->p = data;
    u->end = u->p + len;
    u->bad = false;
}
uint8_t rt_unpack_u8(rt_unpack *u);
uint64_t rt_unpack_uvarint(rt_unpack *u);
int64_t rt_unpack_svarint(rt_unpack *u);
uint64_t rt_unpack_u64le(rt_unpack *u);
/* A string view into the record (not NUL-terminated): valid as long as the record bytes. */
const char *rt_unpack_str(rt_unpack *u, size_t *len);
const char *rt_unpack_key_str(rt_unpack *u, size_t *len);
int64_t rt_unpack_key_i64(rt_unpack *u);
uint64_t rt_unpack_key_u64(rt_unpack *u);
/* RT_OK when every read was in bounds and the record was consumed exactly. */
static inline rt_status rt_unpack_done(const rt_unpack *u)
{
    return (u->bad || u->p != u->end) ? RT_ECORRUPT : RT_OK;
}

#endif
