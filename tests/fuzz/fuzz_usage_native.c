/* fuzz_usage_native: any bytes as a native usage file (header, footer index, blocks) and as
 * one block: the reader must report damage, never crash or read past its buffers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/usage_native.h"

static void read_file(const char *path)
{
    rt_usage_reader *r;
    rt_error err;
    if (rt_usage_native_open(path, 0, &r, &err) != RT_OK) return;
    rt_chunk chunk;
    memset(&chunk, 0, sizeof chunk);
    rt_event_batch b;
    rt_event_batch_init(&b);
    int eof = 0;
    while (r->ops->next_chunk(r, &chunk, &eof, &err) == RT_OK && !eof) {
        rt_event_batch_clear(&b);
        if (r->ops->parse_chunk(r, &chunk, &b, &err) != RT_OK) break;
        for (size_t i = 0; i < b.count; i++) /* touch every string */
            if (b.events[i].event_id_len + b.events[i].account_len + b.events[i].called_len == 0)
                abort();
    }
    rt_event_batch_free(&b);
    free(chunk.data);
    r->ops->close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_event_batch b;
    rt_event_batch_init(&b);
    rt_error err;
    rt_usage_native_decode_block(data, size, &b, &err);
    rt_event_batch_free(&b);

    char path[] = "/tmp/fuzz_usage_native_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data, size) == (ssize_t)size) read_file(path);
    close(fd);
    unlink(path);
    return 0;
}
