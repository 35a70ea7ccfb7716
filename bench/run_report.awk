# Markdown tables of bench/run.sh from its measurement files (POSIX awk: runs under mawk).
#
# results.tsv (ratel runs), one row per run:
#   1 format  2 records  3 threads  4 rep  5 wall_s  6 rss_kb  7 user_s  8 sys_s  9 read
#   10 load  11 read  12 rate  13 dedup  14 output  15 bill  16 commit   (stage seconds)
#   17 books  18 usage detail  19 tables  20 documents  21 registry  22 sync   (commit's parts,
#   "-" when the binary does not print them)
#   23 decompress  24 parse  25 rate  26 aggregate  27 encode  28 write   (thread-seconds of
#   read .. output by step, "-" likewise)
# floor.tsv: records seconds (one `zstd -dc` each)
# peer.tsv: records threads rep wall_s rss_kb user_s sys_s key=value... (peer.mjs's PEER line)
# followups.tsv: format records case threads rep wall_s rss_kb user_s sys_s books_s
#   credit_notes new_invoices unchanged (case: verify, rerun-same, rerun-changed; "-" where
#   the case has none)
#
# awk -f run_report.awk -v section=main|stages|commit|threads|scaling results.tsv
# awk -f run_report.awk -v section=floor floor.tsv results.tsv
# awk -f run_report.awk -v section=peer peer.tsv results.tsv
# awk -f run_report.awk -v section=followups followups.tsv results.tsv

# ---- helpers ----

# Sorts the n values of list (a string of space-separated numbers) and sets lo, med, hi.
function stats(list,    v, n, i, j, x) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) {
        x = v[i] + 0
        for (j = i - 1; j >= 1 && v[j] + 0 > x; j--) v[j + 1] = v[j]
        v[j + 1] = x
    }
    lo = v[1] + 0
    hi = v[n] + 0
    med = n % 2 ? v[(n + 1) / 2] + 0 : (v[n / 2] + v[n / 2 + 1]) / 2
    return n
}
# M records/s, with more decimals below 1 M/s so that slow stages still show a figure.
function mrate(records, secs,    r) {
    if (secs <= 0) return "-"
    r = records / secs / 1e6
    return sprintf(r < 1 ? "%.3f" : "%.2f", r)
}
function add(arr, key, val) { arr[key] = key in arr ? arr[key] " " val : val }
# A stage table: its introduction, then the heading of the case columns and of `stages`
# (separated by " | "), then one row per case (see stage_rows).
function stage_table(intro, stages, from, to, rates) {
    table_head(intro, "input | records | threads | " stages)
    stage_rows(from, to, rates)
}

# One table row per case: the median seconds of stage columns from..to, with the stage's
# M records/s (min / median / max) when rates is set; "-" for a stage the run did not report.
function stage_rows(from, to, rates,    g, f, line, s, k) {
    for (g = 1; g <= ng; g++) {
        k = order[g]
        split(k, f, SUBSEP)
        line = sprintf("| %s | %s | %s |", label(f[1]), f[2], f[3])
        for (s = from; s <= to; s++) {
            if (!((k, s) in stage) || stage[k, s] ~ /-/) { line = line " - |"; continue }
            stats(stage[k, s])
            if (rates)
                line = line sprintf(" %.2f s: %s / %s / %s |", med, mrate(nread[k], hi),
                                    mrate(nread[k], med), mrate(nread[k], lo))
            else
                line = line sprintf(" %.2f |", med)
        }
        print line
    }
}
# A table's introduction (none when empty), then its heading: columns separated by " | ".
function table_head(intro, columns,    n, i, rule, cols) {
    if (intro != "") { print intro; print "" }
    print "| " columns " |"
    n = split(columns, cols, " \\| ")
    rule = "|"
    for (i = 1; i <= n; i++) rule = rule "---|"
    print rule
}
function label(fmt) { return fmt == "csv" ? "CSV.zst" : fmt == "native" ? "native .rtu" : fmt }
function num(x) { return x == "-" || x == "" ? "" : x }

# ---- input ----

FNR == NR && (section == "floor" || section == "peer" || section == "followups" || section == "outfloor") {
    if (section == "floor") add(floor, $1, $2)
    else if (section == "outfloor") {
        if (!($1 in oseen)) { oseen[$1] = 1; oorder[++no] = $1 }
        ofiles[$1] = ofiles[$1] SUBSEP $2 " " $3 " " $4 " " $5
    }
    else if (section == "followups") {
        k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
        if (!(k in fseen)) { fseen[k] = 1; forder[++nf] = k }
        add(fwall, k, $6)
        if ($7 != "-" && $7 + 0 > frss[k] + 0) frss[k] = $7
        if ($10 != "-") add(fbooks, k, $10)
        fdocs[k] = $11 == "-" ? "-" : sprintf("%s, %s, %s", $11, $12, $13)
    } else {
        k = $1 SUBSEP $2
        add(pwall, k, $4)
        if ($5 != "-") prss[k] = $5 > prss[k] ? $5 : prss[k]
        for (i = 8; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] == "job_s") add(pjob, k, kv[2])
            else peerkv[k, kv[1]] = kv[2]
        }
        if (!(k in pseen)) { pseen[k] = 1; porder[++np] = k }
    }
    next
}
{
    k = $1 SUBSEP $2 SUBSEP $3
    if (!(k in seen)) { seen[k] = 1; order[++ng] = k }
    add(wall, k, $5)
    add(cpu, k, (num($7) + num($8)))
    if ($6 != "-" && $6 + 0 > rss[k] + 0) rss[k] = $6
    nread[k] = $9
    for (s = 10; s <= 28 && s <= NF; s++) add(stage, k SUBSEP s, $s)
}

# ---- tables ----

END {
    if (section == "main") {
        print "| input | records | threads | runs | wall s (min / median / max) | M records/s end to end (min / median / max) | CPU s (median) | peak RSS MiB |"
        print "|---|---|---|---|---|---|---|---|"
        for (g = 1; g <= ng; g++) {
            split(order[g], f, SUBSEP)
            n = stats(wall[order[g]])
            w = sprintf("%.2f / %.2f / %.2f", lo, med, hi)
            r = sprintf("%s / **%s** / %s", mrate(nread[order[g]], hi), mrate(nread[order[g]], med), mrate(nread[order[g]], lo))
            stats(cpu[order[g]])
            c = sprintf("%.2f", med)
            m = order[g] in rss ? sprintf("%.0f", rss[order[g]] / 1024) : "-"
            printf "| %s | %s | %s | %d | %s | %s | %s | %s |\n", label(f[1]), f[2], f[3], n, w, r, c, m
        }
    } else if (section == "stages") {
        stage_table("Per stage (run summary): median seconds, then M records/s over the stage (min / median / max).",
                    "load | read | rate (decompress, parse, rate) | dedup | output | bill | commit", 10, 16, 1)
    } else if (section == "commit") {
        stage_table("The commit stage's parts (run summary's `commit` line), median seconds: books (corrections, invoice numbers, journal), then tables (invoice tables, journal, FEC), usage detail and documents (UBL and HTML archives) one after another (since the twelfth session in that order; the columns keep the summary's); the registry's part (billed events, invoices in effect) alongside the documents with 2+ threads, after them with one; sync (marker, fsyncs, registry commit, rename).",
                    "commit | books | usage detail | tables | documents | registry | sync", 16, 22, 0)
    } else if (section == "threads") {
        stage_table("The work of the read .. output stages by step (run summary's `threads` line), in thread-seconds (summed over the threads, so with 2 threads up to twice the stages' wall time): median, then M records per thread-second (min / median / max). decompress: the usage chunks' zstd frames (within parsing; 0 for plain input); parse: text or columns to events; rate: plans, charges, prices, the committed runs' billed events; aggregate: events added to the per-account lines; encode: the per-event outputs (rated usage, rejects, duplicates, the usage detail's spill); write: those written to their files.",
                    "decompress | parse | rate | aggregate | encode | write", 23, 28, 1)
    } else if (section == "scaling") {
        print "| input | records | M records/s, 1 thread (median) | 2 threads (median) | 2 vs 1 (target >= 1.8) |"
        print "|---|---|---|---|---|"
        for (g = 1; g <= ng; g++) {
            split(order[g], f, SUBSEP)
            if (f[3] != 1) continue
            k2 = f[1] SUBSEP f[2] SUBSEP 2
            if (!(k2 in wall)) continue
            stats(wall[order[g]]); w1 = med
            stats(wall[k2]); w2 = med
            printf "| %s | %s | %s | %s | %.2fx |\n", label(f[1]), f[2], mrate(nread[order[g]], w1),
                   mrate(nread[k2], w2), w1 / w2
        }
    } else if (section == "floor") {
        table_head("Physical floor: `zstd -dc usage.csv.zst > /dev/null` (one thread) on the same file.",
                   "records | zstd -dc s (min / median / max) | floor M records/s | ratel CSV.zst threads | ratel wall s (median) | ratel / floor (target <= 2)")
        for (g = 1; g <= ng; g++) {
            split(order[g], f, SUBSEP)
            if (f[1] != "csv" || !(f[2] in floor)) continue
            stats(floor[f[2]]); fl = sprintf("%.3f / %.3f / %.3f", lo, med, hi); fmed = med
            stats(wall[order[g]])
            printf "| %s | %s | %s | %s | %.2f | %.2fx |\n", f[2], fl, mrate(nread[order[g]], fmed), f[3], med, med / fmed
        }
    } else if (section == "outfloor") {
        print "Outputs' floor: the text of every output the CSV.zst run at " threads " thread(s) wrote (its last run of the size), and what compressing that text takes zstd alone at level 1, ratel's level, in 1 MiB blocks (`zstd -b1 -B1M` on the first 256 MiB of each file's text, one core; plain files are only written). No run that writes these outputs can take less than that CPU time spread over the threads; ratel's wall time also formats the text, rates, bills and commits."
        print ""
        for (o = 1; o <= no; o++) {
            r = oorder[o]
            print "| " r " records: file | text MB | stored MB | zstd -1 MB/s | zstd -1 thread-s |"
            print "|---|---|---|---|---|"
            n = split(ofiles[r], rows, SUBSEP)
            ttext = 0; tstored = 0; tsec = 0
            for (i = 2; i <= n; i++) {
                split(rows[i], oc, " ")
                sec = oc[4] == "-" ? 0 : oc[2] / 1e6 / oc[4]
                ttext += oc[2]; tstored += oc[3]; tsec += sec
                printf "| %s | %.1f | %.1f | %s | %s |\n", oc[1], oc[2] / 1e6, oc[3] / 1e6, oc[4] == "-" ? "-" : oc[4], oc[4] == "-" ? "-" : sprintf("%.2f", sec)
            }
            printf "| all | **%.1f** | %.1f | | **%.2f** |\n", ttext / 1e6, tstored / 1e6, tsec
            k = "csv" SUBSEP r SUBSEP threads
            if ((k in wall) && tsec > 0) {
                stats(wall[k])
                printf "\nAt %s records: compression alone, %.2f thread-seconds, is at least %.2f s on %s thread(s) (%.3f M records/s at most); ratel's median wall time %.2f s is %.2fx that.\n", r, tsec, tsec / threads, threads, nread[k] / (tsec / threads) / 1e6, med, med / (tsec / threads)
            }
            print ""
        }
    } else if (section == "followups") {
        table_head("After the run: `ratel verify OUT --book BOOK` of the case's last output, then `ratel run ... --rerun` on fresh copies of the book that holds it, with the same inputs (rerun-same: every invoice carried) and without the order file (rerun-changed: every invoice that billed an order credited and issued again). books: the rerun's comparison, credit notes, numbers and journal (the commit's first part).",
                   "input | records | after the run | threads | runs | wall s (min / median / max) | the run itself, wall s (median) | books s (median) | credit notes, new invoices, unchanged | peak RSS MiB")
        for (g = 1; g <= nf; g++) {
            k = forder[g]
            split(k, f, SUBSEP)
            n = stats(fwall[k]); w = sprintf("%.2f / %.2f / %.2f", lo, med, hi)
            rk = f[1] SUBSEP f[2] SUBSEP f[4]
            rw = "-"
            if (rk in wall) { stats(wall[rk]); rw = sprintf("%.2f", med) }
            b = "-"
            if (k in fbooks) { stats(fbooks[k]); b = sprintf("%.2f", med) }
            m = k in frss ? sprintf("%.0f", frss[k] / 1024) : "-"
            printf "| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s |\n", label(f[1]), f[2], f[3], f[4], n, w, rw, b, fdocs[k], m
        }
    } else if (section == "peer") {
        print "Peer: the same rating job as SQL in DuckDB (bench/peer/peer.mjs) over the same CSV.zst file; wall time of the whole `node` process (DuckDB start, price book tables, rating, per-account totals), its SQL job alone, and ratel's CSV.zst run with the same threads. totals: per-account sums of the event amounts of the compared charges, DuckDB vs ratel's usage_detail_index.csv."
        print ""
        print ""
        print "The SQL job does what ratel's load, read, rate and dedup stages do (no invoices, documents, journal or commit), so it is also set beside the sum of those stages."
        print ""
        print "| records | threads | DuckDB wall s (min / median / max) | DuckDB SQL s (median) | DuckDB peak RSS MiB | ratel wall s (median) | DuckDB / ratel, wall | ratel load+read+rate+dedup s (median) | DuckDB SQL / those stages | totals |"
        print "|---|---|---|---|---|---|---|---|---|---|"
        for (p = 1; p <= np; p++) {
            split(porder[p], f, SUBSEP)
            stats(pwall[porder[p]]); pw = sprintf("%.2f / %.2f / %.2f", lo, med, hi); pmed = med
            stats(pjob[porder[p]]); pj = sprintf("%.2f", med)
            k = "csv" SUBSEP f[1] SUBSEP f[2]
            rw = "-"; ratio = "-"
            rs = "-"; rratio = "-"
            if (k in wall) {
                stats(wall[k]); rw = sprintf("%.2f", med); ratio = sprintf("%.2fx", pmed / med)
                split(stage[k, 10], s10, " "); split(stage[k, 11], s11, " ")
                split(stage[k, 12], s12, " "); split(stage[k, 13], s13, " ")
                sums = ""
                for (i = 1; i in s10; i++) sums = sums " " (s10[i] + s11[i] + s12[i] + s13[i])
                stats(sums); rs = sprintf("%.2f", med); rratio = med > 0 ? sprintf("%.2fx", pj / med) : "-"
            }
            m = porder[p] in prss ? sprintf("%.0f", prss[porder[p]] / 1024) : "-"
            tot = peerkv[porder[p], "match"] == "yes" ? "match exactly" : "**differ**"
            tot = tot sprintf(" (%s accounts, %s events)", peerkv[porder[p], "accounts"], peerkv[porder[p], "events"])
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f[1], f[2], pw, pj, m, rw, ratio, rs, rratio, tot
        }
    }
}
