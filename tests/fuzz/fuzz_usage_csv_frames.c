/* fuzz_usage_csv_frames: any bytes as a compressed usage CSV read frame by frame (ratel
 * frame indexes, skippable frames, frames cut anywhere): errors, never a crash or a read
 * past a buffer, and every record read is an event or a reject. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/usage_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_usage_csv_frames_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) goto done;
    rt_usage_reader *r;
    rt_error err;
    if (rt_usage_csv_open(path, 256, &r, &err) != RT_OK) goto done;
    rt_chunk chunk;
    memset(&chunk, 0, sizeof chunk);
    rt_event_batch b;
    rt_event_batch_init(&b);
    int eof = 0;
    while (r->ops->next_chunk(r, &chunk, &eof, &err) == RT_OK && !eof) {
        rt_event_batch_clear(&b);
        if (r->ops->parse_chunk(r, &chunk, &b, &err) != RT_OK) break;
        if (b.count + b.reject_count != b.records) abort();
    }
    rt_event_batch_free(&b);
    free(chunk.data);
    r->ops->close(r);
done:
    close(fd);
    unlink(path);
    return 0;
}
