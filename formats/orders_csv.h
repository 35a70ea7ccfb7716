/* orders_csv: order files (the quote-to-cash export), plain or zstd-compressed CSV.
 *
 * Owns the order file layout (documented in formats/README.md, "Order files"): a header row
 * naming the columns order_id, line, subscription_id, action, account_id, product_id,
 * effective_date, booked_date, quantity, price, discount_percent, end_date, description, in any
 * order. Each row becomes an rt_order_line; a row that cannot be read becomes a reject with
 * its reason, file and line. Checks that need the price book are engine/orders'. */
#ifndef RT_ORDERS_CSV_H
#define RT_ORDERS_CSV_H

#include "engine/orders.h"
#include "engine/usage.h"

/* Read one order file into ob (source = its index among the run's order files); its size and
 * checksum go to info. RT_ENOTFOUND, RT_EIO, RT_ECORRUPT, RT_EPARSE (header without a
 * required column), RT_ENOMEM; bad rows are rejects, not errors. */
rt_status rt_orders_csv_read(const char *path, uint32_t source, rt_order_book *ob,
                             rt_input_info *info, rt_error *err);

/* Parse order rows from memory (header included), for tests and fuzzing. */
rt_status rt_orders_csv_parse(const char *data, size_t len, uint32_t source, rt_order_book *ob,
                              rt_error *err);

#endif
