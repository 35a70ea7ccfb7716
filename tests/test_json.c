/* test_json: the strict parser (nesting, escapes including \u surrogate pairs, numbers kept
 * as text, invalid documents with their offset, the depth limit, the u64 and string
 * accessors) and the writer's escaping, round-tripped through the parser. */
#include <criterion/criterion.h>
#include <string.h>

#include "formats/json.h"

static rt_arena arena;
static void setup(void) { rt_arena_init(&arena, 4096); }
static void teardown(void) { rt_arena_free(&arena); }
TestSuite(json, .init = setup, .fini = teardown);

static rt_json *ok(const char *text)
{
    rt_json *root = NULL;
    size_t where = 0;
    rt_status st = rt_json_parse(text, strlen(text), &arena, &root, &where);
    cr_assert_eq(st, RT_OK, "'%s' failed at byte %zu", text, where);
    return root;
}

static size_t bad(const char *text)
{
    rt_json *root = NULL;
    size_t where = 9999;
    cr_assert_eq(rt_json_parse(text, strlen(text), &arena, &root, &where), RT_EPARSE,
                 "'%s' should be refused", text);
    cr_assert_leq(where, strlen(text));
    return where;
}

static const char *string_of(const char *doc)
{
    rt_json *v = ok(doc);
    cr_assert_eq(v->type, RT_JSON_STRING);
    return v->text;
}

Test(json, nesting_and_access)
{
    rt_json *r = ok(" {\"run\": 3, \"inputs\": [{\"path\": \"a.csv\", \"records\": 10}, "
                    "{\"path\": \"b.csv\"}], \"empty\": {}, \"none\": [], \"ok\": true, "
                    "\"no\": false, \"nil\": null}\n");
    cr_assert_eq(r->type, RT_JSON_OBJECT);
    uint64_t run;
    cr_assert_eq(rt_json_u64(r, "run", &run), RT_OK);
    cr_assert_eq(run, 3);
    const rt_json *in = rt_json_get(r, "inputs");
    cr_assert_eq(in->type, RT_JSON_ARRAY);
    const rt_json *first = in->child, *second = first->next;
    cr_assert_str_eq(rt_json_string(first, "path"), "a.csv");
    cr_assert_str_eq(rt_json_string(second, "path"), "b.csv");
    cr_assert_null(second->next);
    cr_assert_null(rt_json_get(second, "records"));
    cr_assert_eq(rt_json_get(r, "empty")->type, RT_JSON_OBJECT);
    cr_assert_null(rt_json_get(r, "empty")->child);
    cr_assert_null(rt_json_get(r, "none")->child);
    cr_assert(rt_json_get(r, "ok")->type == RT_JSON_BOOL && rt_json_get(r, "ok")->boolean == 1);
    cr_assert(rt_json_get(r, "no")->boolean == 0);
    cr_assert_eq(rt_json_get(r, "nil")->type, RT_JSON_NULL);
    cr_assert_null(rt_json_get(r, "missing"));
    cr_assert_null(rt_json_get(in, "path"), "an array has no members");
    cr_assert_null(rt_json_get(NULL, "x"));
    /* Scalars are documents too. */
    cr_assert_eq(ok("42")->type, RT_JSON_NUMBER);
    cr_assert_eq(ok(" \"s\" ")->type, RT_JSON_STRING);
    cr_assert_eq(ok("null")->type, RT_JSON_NULL);
    cr_assert_eq(ok("[[[]],[{}]]")->type, RT_JSON_ARRAY);
}

Test(json, string_escapes)
{
    cr_assert_str_eq(string_of("\"a\\\"b\\\\c\\/d\""), "a\"b\\c/d");
    cr_assert_str_eq(string_of("\"\\b\\f\\n\\r\\t\""), "\b\f\n\r\t");
    cr_assert_str_eq(string_of("\"caf\\u00e9\""), "caf\xc3\xa9");
    cr_assert_str_eq(string_of("\"\\u20AC\""), "\xe2\x82\xac", "upper-case hex");
    cr_assert_str_eq(string_of("\"\\u0041\""), "A");
    /* U+1F600 as a surrogate pair: 4 UTF-8 bytes. */
    cr_assert_str_eq(string_of("\"\\ud83d\\ude00!\""), "\xf0\x9f\x98\x80!");
    cr_assert_str_eq(string_of("\"\\uD800\\uDC00\""), "\xf0\x90\x80\x80", "U+10000");
    cr_assert_str_eq(string_of("\"\\udbff\\udfff\""), "\xf4\x8f\xbf\xbf", "U+10FFFF");
    cr_assert_str_eq(string_of("\"caf\xc3\xa9\""), "caf\xc3\xa9", "raw UTF-8 passes");
    /* An escaped NUL is kept, with the length telling the truth. */
    rt_json *v = ok("\"a\\u0000b\"");
    cr_assert_eq(v->len, 3);
    cr_assert(memcmp(v->text, "a\0b", 3) == 0);
}

Test(json, bad_strings)
{
    bad("\"\\ud83d\"");          /* lone high surrogate */
    bad("\"\\ud83dx\"");
    bad("\"\\ud83d\\u0041\"");   /* high surrogate then not a low one */
    bad("\"\\ude00\"");          /* lone low surrogate */
    bad("\"\\u12\"");            /* short escape */
    bad("\"\\u12g4\"");
    bad("\"\\x41\"");            /* unknown escape */
    bad("\"a\nb\"");             /* raw control character */
    bad("\"abc");                /* unterminated */
    bad("\"abc\\");
    bad("\"abc\\\"");
}

Test(json, numbers_are_kept_as_text)
{
    static const char *const nums[] = {"0", "-0", "12.50", "-0.10", "1e-7", "2E+10",
                                       "123456789012345678901234567890.000000001"};
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        rt_json *v = ok(nums[i]);
        cr_assert_eq(v->type, RT_JSON_NUMBER);
        cr_assert_str_eq(v->text, nums[i], "the text, not a binary float");
        cr_assert_eq(v->len, strlen(nums[i]));
    }
    static const char *const notnums[] = {"01", "-", "1.", ".5", "+1", "1e", "1e+", "--1",
                                          "0x10", "NaN", "Infinity", "1.5.2"};
    for (size_t i = 0; i < sizeof notnums / sizeof *notnums; i++) bad(notnums[i]);
}

Test(json, invalid_documents_and_offsets)
{
    cr_assert_eq(bad(""), 0);
    cr_assert_eq(bad("   "), 3);
    cr_assert_eq(bad("[1,]"), 3);
    cr_assert_eq(bad("{\"a\" 1}"), 5);
    cr_assert_eq(bad("{\"a\":1,}"), 7);
    cr_assert_eq(bad("[1 2]"), 3);
    cr_assert_eq(bad("{} x"), 3);
    bad("{");
    bad("[");
    bad("{\"a\":1");
    bad("{1:2}");
    bad("{\"a\"}");
    bad("[1,,2]");
    bad("tru");
    bad("nul");
    bad("falsey");
    bad("1 2");
    bad("]");
    bad("{\"a\":1]");
}

static char *nested(size_t depth, char open, char close)
{
    char *s = malloc(2 * depth + 1);
    for (size_t i = 0; i < depth; i++) {
        s[i] = open;
        s[2 * depth - 1 - i] = close;
    }
    s[2 * depth] = '\0';
    return s;
}

Test(json, depth_limit)
{
    char *ok32 = nested(RT_JSON_DEPTH_MAX, '[', ']');
    rt_json *r = ok(ok32);
    size_t d = 0;
    for (const rt_json *v = r; v; v = v->child) d++;
    cr_assert_eq(d, RT_JSON_DEPTH_MAX);
    free(ok32);
    char *deep = nested(RT_JSON_DEPTH_MAX + 1, '[', ']');
    bad(deep);
    free(deep);
    /* Far deeper input is refused without recursion or a crash. */
    char *abyss = nested(100000, '[', ']');
    bad(abyss);
    free(abyss);
}

Test(json, u64_and_string_accessors)
{
    rt_json *r = ok("{\"a\": 18446744073709551615, \"b\": 18446744073709551616, \"c\": -1, "
                    "\"d\": 1.0, \"e\": \"7\", \"f\": 1e3, \"g\": 0}");
    uint64_t v;
    cr_assert_eq(rt_json_u64(r, "a", &v), RT_OK);
    cr_assert_eq(v, UINT64_MAX);
    cr_assert_eq(rt_json_u64(r, "b", &v), RT_EPARSE, "overflow");
    cr_assert_eq(rt_json_u64(r, "c", &v), RT_EPARSE);
    cr_assert_eq(rt_json_u64(r, "d", &v), RT_EPARSE);
    cr_assert_eq(rt_json_u64(r, "e", &v), RT_EPARSE, "a string is not a number");
    cr_assert_eq(rt_json_u64(r, "f", &v), RT_EPARSE);
    cr_assert_eq(rt_json_u64(r, "zz", &v), RT_EPARSE);
    cr_assert_eq(rt_json_u64(r, "g", &v), RT_OK);
    cr_assert_eq(v, 0);
    cr_assert_str_eq(rt_json_string(r, "e"), "7");
    cr_assert_null(rt_json_string(r, "a"));
}

static rt_buf esc;

static const char *escaped(const char *s, size_t n)
{
    rt_buf_reset(&esc);
    rt_json_str(&esc, s, n);
    rt_buf_putc(&esc, '\0');
    return esc.data;
}

Test(json, writer_escaping)
{
    cr_assert_str_eq(escaped("plain", 5), "\"plain\"");
    cr_assert_str_eq(escaped("", 0), "\"\"");
    cr_assert_str_eq(escaped("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    cr_assert_str_eq(escaped("l1\nl2\r\t", 7), "\"l1\\nl2\\r\\t\"");
    cr_assert_str_eq(escaped("\x01\x1f\b\f", 4), "\"\\u0001\\u001f\\u0008\\u000c\"");
    cr_assert_str_eq(escaped("a\0b", 3), "\"a\\u0000b\"");
    cr_assert_str_eq(escaped("caf\xc3\xa9\x7f/", 7), "\"caf\xc3\xa9\x7f/\"", "UTF-8 and DEL pass");
    rt_buf b;
    rt_buf_init(&b);
    rt_json_cstr(&b, "x\"y");
    cr_assert_eq(b.len, 6);
    cr_assert(memcmp(b.data, "\"x\\\"y\"", 6) == 0);
    rt_buf_free(&b);
    rt_buf_free(&esc);
}

Test(json, written_strings_parse_back)
{
    /* Every byte value from 1 to 255 (and NUL) through the writer and back. */
    char all[256];
    for (int i = 0; i < 256; i++) all[i] = (char)i;
    rt_buf b;
    rt_buf_init(&b);
    rt_json_str(&b, all, 128); /* ASCII and controls: valid UTF-8 on their own */
    rt_json *v = NULL;
    size_t where;
    cr_assert_eq(rt_json_parse(b.data, b.len, &arena, &v, &where), RT_OK);
    cr_assert_eq(v->len, 128);
    cr_assert(memcmp(v->text, all, 128) == 0);
    rt_buf_free(&b);
}
