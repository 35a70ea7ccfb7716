/* json: escaping and a strict recursive-descent-free parser (an explicit stack). */
#include "formats/json.h"

#include <string.h>

void rt_json_str(rt_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    rt_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        rt_buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': rt_buf_puts(b, "\\\""); break;
        case '\\': rt_buf_puts(b, "\\\\"); break;
        case '\n': rt_buf_puts(b, "\\n"); break;
        case '\r': rt_buf_puts(b, "\\r"); break;
        case '\t': rt_buf_puts(b, "\\t"); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rt_buf_append(b, u, 6);
        }
        }
    }
    rt_buf_append(b, s + run, len - run);
    rt_buf_putc(b, '"');
}

/* ---- parser ---- */

typedef struct parser {
    const char *p, *start, *end;
    rt_arena *arena;
} parser;

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t utf8_put(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int read_hex4(parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(ps->p[i]);
        if (h < 0) return 0;
        v = v << 4 | (unsigned)h;
    }
    ps->p += 4;
    *out = v;
    return 1;
}

static int parse_string(parser *ps, const char **out, size_t *out_len)
{
    if (ps->p >= ps->end || *ps->p != '"') return 0;
    ps->p++;
    const char *q = ps->p;
    /* The unescaped text is never longer than the escaped text. */
    while (q < ps->end && *q != '"') q += (*q == '\\') ? 2 : 1;
    if (q >= ps->end) return 0;
    char *buf = rt_arena_alloc(ps->arena, (size_t)(q - ps->p) + 1);
    if (!buf) return 0;
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20) return 0;
        if (c != '\\') {
            buf[n++] = (char)c;
            continue;
        }
        if (ps->p >= ps->end) return 0;
        char e = *ps->p++;
        switch (e) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!read_hex4(ps, &cp)) return 0;
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') return 0;
                ps->p += 2;
                if (!read_hex4(ps, &lo) || lo < 0xDC00 || lo > 0xDFFF) return 0;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                return 0;
            }
            /* 6 escaped bytes ("\uXXXX") always cover up to 3 UTF-8 bytes; a surrogate pair
             * spends 12 for 4. */
            n += utf8_put(buf + n, cp);
            break;
        }
        default: return 0;
        }
    }
    if (ps->p >= ps->end) return 0;
    ps->p++;
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return 1;
}

static int parse_number(parser *ps, rt_json *v)
{
    const char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    if (ps->p >= ps->end) return 0;
    if (*ps->p == '0') {
        ps->p++;
    } else if (*ps->p >= '1' && *ps->p <= '9') {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    } else {
        return 0;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        const char *d = ps->p;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
        if (ps->p == d) return 0;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        const char *d = ps->p;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
        if (ps->p == d) return 0;
    }
    char *t = rt_arena_strndup(ps->arena, s, (size_t)(ps->p - s));
    if (!t) return 0;
    v->type = RT_JSON_NUMBER;
    v->text = t;
    v->len = (size_t)(ps->p - s);
    return 1;
}

static int literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return 0;
    ps->p += n;
    return 1;
}

/* Parse a scalar into v, or open a container (v->type ARRAY/OBJECT with no children yet). */
static int parse_value_head(parser *ps, rt_json *v)
{
    skip_ws(ps);
    if (ps->p >= ps->end) return 0;
    switch (*ps->p) {
    case '{': ps->p++; v->type = RT_JSON_OBJECT; return 1;
    case '[': ps->p++; v->type = RT_JSON_ARRAY; return 1;
    case '"': v->type = RT_JSON_STRING; return parse_string(ps, &v->text, &v->len);
    case 't': v->type = RT_JSON_BOOL; v->boolean = 1; return literal(ps, "true");
    case 'f': v->type = RT_JSON_BOOL; v->boolean = 0; return literal(ps, "false");
    case 'n': v->type = RT_JSON_NULL; return literal(ps, "null");
    default: return parse_number(ps, v);
    }
}

rt_status rt_json_parse(const char *text, size_t len, rt_arena *arena, rt_json **root,
                        size_t *where)
{
    parser ps = {text, text, text + len, arena};
    rt_json *stack[RT_JSON_DEPTH_MAX];
    rt_json *last[RT_JSON_DEPTH_MAX];
    int depth = 0;
    rt_json *top = rt_arena_alloc(arena, sizeof *top);
    if (!top) return RT_ENOMEM;
    memset(top, 0, sizeof *top);
    if (!parse_value_head(&ps, top)) goto fail;
    if (top->type == RT_JSON_OBJECT || top->type == RT_JSON_ARRAY) {
        stack[0] = top;
        last[0] = NULL;
        depth = 1;
    }
    while (depth > 0) {
        rt_json *c = stack[depth - 1];
        skip_ws(&ps);
        if (ps.p >= ps.end) goto fail;
        char close = c->type == RT_JSON_OBJECT ? '}' : ']';
        if (*ps.p == close) {
            ps.p++;
            depth--;
            continue;
        }
        if (last[depth - 1]) {
            if (*ps.p != ',') goto fail;
            ps.p++;
            skip_ws(&ps);
        }
        rt_json *v = rt_arena_alloc(arena, sizeof *v);
        if (!v) return RT_ENOMEM;
        memset(v, 0, sizeof *v);
        if (c->type == RT_JSON_OBJECT) {
            size_t klen;
            if (!parse_string(&ps, &v->key, &klen)) goto fail;
            skip_ws(&ps);
            if (ps.p >= ps.end || *ps.p != ':') goto fail;
            ps.p++;
        }
        if (!parse_value_head(&ps, v)) goto fail;
        if (last[depth - 1])
            last[depth - 1]->next = v;
        else
            c->child = v;
        last[depth - 1] = v;
        if (v->type == RT_JSON_OBJECT || v->type == RT_JSON_ARRAY) {
            if (depth == RT_JSON_DEPTH_MAX) goto fail;
            stack[depth] = v;
            last[depth] = NULL;
            depth++;
        }
    }
    skip_ws(&ps);
    if (ps.p != ps.end) goto fail;
    *root = top;
    return RT_OK;
fail:
    if (where) *where = (size_t)(ps.p - ps.start);
    return RT_EPARSE;
}

const rt_json *rt_json_get(const rt_json *obj, const char *key)
{
    if (!obj || obj->type != RT_JSON_OBJECT) return NULL;
    for (const rt_json *m = obj->child; m; m = m->next)
        if (strcmp(m->key, key) == 0) return m;
    return NULL;
}

rt_status rt_json_u64(const rt_json *obj, const char *key, uint64_t *out)
{
    const rt_json *v = rt_json_get(obj, key);
    if (!v || v->type != RT_JSON_NUMBER || v->len == 0 || v->len > 20) return RT_EPARSE;
    uint64_t x = 0;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->text[i];
        if (c < '0' || c > '9') return RT_EPARSE;
        if (x > (UINT64_MAX - (uint64_t)(c - '0')) / 10) return RT_EPARSE;
        x = x * 10 + (uint64_t)(c - '0');
    }
    *out = x;
    return RT_OK;
}

const char *rt_json_string(const rt_json *obj, const char *key)
{
    const rt_json *v = rt_json_get(obj, key);
    return v && v->type == RT_JSON_STRING ? v->text : NULL;
}
