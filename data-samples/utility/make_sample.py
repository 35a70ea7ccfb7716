#!/usr/bin/env python3
"""Regenerate the Energies du Rhone sample: accounts, plan assignments and October 2026 meter
data (usage-2026-10.csv.zst).

The output is committed; this script documents how it was made and rebuilds it byte for byte
(fixed seed, no clock). Run from anywhere: python3 data-samples/utility/make_sample.py

Usage records: ENERGY readings in kWh with 3 decimals (the kWh of one metering interval, timed
at the interval's start, which is when ratel looks up the time band), and STANDING records,
one per meter and day (quantity 1, a flat price per day).
Five accounts carry hand-picked readings whose invoices are worked out in
data-samples/README.md and asserted by tests/test_e2e.c:
  U-0001 (E_TIER), U-0002 (E_TOU, across the 2026-10-25 daylight-saving change),
  U-0003 and U-0004 (E_BIZ, volume tiers, minimum and capacity contribution), U-0005 (E_CH,
  billed in CHF). Every other account gets random but plausible consumption.
"""
import datetime
import os
import random
import subprocess
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(2610)
PARIS = ZoneInfo("Europe/Paris")
ZURICH = ZoneInfo("Europe/Zurich")
UTC = datetime.timezone.utc

HAND_ACCOUNTS = [
    ("U-0001", "Marie Dupont", "12 rue Victor Hugo", "Lyon", "69002", "FR", "", "EUR", "FR",
     "E_TIER"),
    ("U-0002", "Jean Martin", "4 place Bellecour", "Lyon", "69002", "FR", "", "EUR", "FR", "E_TOU"),
    ("U-0003", "Boulangerie du Parc SARL", "88 cours Lafayette", "Lyon", "69003", "FR",
     "FR33445566778", "EUR", "FR", "E_BIZ"),
    ("U-0004", "Atelier Fermeture SARL", "3 rue Garibaldi", "Lyon", "69006", "FR", "", "EUR", "FR",
     "E_BIZ"),
    ("U-0005", "Claire Muller", "21 rue du Rhone", "Geneve", "1204", "CH", "", "CHF", "CH_EXPORT",
     "E_CH"),
]
NAMES = ["Bernard", "Petit", "Robert", "Richard", "Durand", "Moreau", "Laurent", "Simon",
         "Michel", "Lefebvre", "Leroy"]
STREETS = ["rue Merciere", "avenue Jean Jaures", "rue de la Republique", "quai Saint-Antoine"]


def accounts():
    rows = list(HAND_ACCOUNTS)
    for i in range(6, 17):
        plan = rng.choice(["E_TIER", "E_TIER", "E_TOU", "E_BIZ"])
        name = f"{rng.choice(['Famille', 'Cabinet', 'Maison'])} {rng.choice(NAMES)}"
        rows.append((f"U-{i:04d}", name, f"{rng.randint(1, 150)} {rng.choice(STREETS)}", "Lyon",
                     "6900" + str(rng.randint(1, 9)), "FR", "", "EUR", "FR", plan))
    return rows


def write_book(rows):
    with open(os.path.join(HERE, "book", "accounts.csv"), "w", newline="") as f:
        f.write("account_id,name,street,city,postcode,country,vat_id,email,buyer_reference,"
                "currency,tax_jurisdiction,bill_cycle_day,payment_terms_days\n")
        for r in rows:
            f.write(",".join(r[:7]) + f",,,{r[7]},{r[8]},1,\n")
    with open(os.path.join(HERE, "book", "account_plans.csv"), "w", newline="") as f:
        f.write("account_id,plan_id,valid_from,valid_to\n")
        for r in rows:
            f.write(f"{r[0]},{r[9]},2026-01-01,\n")


def utc_text(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local(day, h, m, zone=PARIS):
    return utc_text(datetime.datetime(2026, 10, day, h, m, tzinfo=zone))


def z(day, h, m):
    return f"2026-10-{day:02d}T{h:02d}:{m:02d}:00Z"


def standing(acct, zone=PARIS):
    """One STANDING record per day, at local noon (inside the UTC billing period)."""
    return [(f"ST-{acct}-{d:02d}", acct, "STANDING", local(d, 12, 0, zone), "1")
            for d in range(1, 32)]


def hand_events():
    ev = []
    # U-0001: 13.000 kWh a day for 30 days and 22.345 on the 31st: 412.345 kWh.
    ev += standing("U-0001")
    ev += [(f"EN-U-0001-{d:02d}", "U-0001", "ENERGY", local(d, 23, 0),
            "22.345" if d == 31 else "13.000") for d in range(1, 32)]
    # U-0002 (heures creuses 22:00-06:00 local): three readings a day at fixed UTC times.
    # 01:00Z is 03:00 or 02:00 local (hc); 11:00Z is 13:00 or 12:00 (hp); 04:30Z is 06:30
    # local (hp) while summer time lasts, until 2026-10-25 01:00Z, then 05:30 (hc).
    ev += standing("U-0002")
    for d in range(1, 32):
        ev.append((f"EN-U-0002-{d:02d}-A", "U-0002", "ENERGY", z(d, 1, 0), "8.000"))
        ev.append((f"EN-U-0002-{d:02d}-B", "U-0002", "ENERGY", z(d, 4, 30), "2.000"))
        ev.append((f"EN-U-0002-{d:02d}-C", "U-0002", "ENERGY", z(d, 11, 0), "4.500"))
    # U-0003: one monthly reading of 3210.500 kWh; U-0004: 5.000 kWh, below its minimum.
    ev += standing("U-0003")
    ev.append(("EN-U-0003-10", "U-0003", "ENERGY", z(31, 12, 0), "3210.500"))
    ev += standing("U-0004")
    ev.append(("EN-U-0004-10", "U-0004", "ENERGY", z(31, 12, 0), "5.000"))
    # U-0005 (CHF): 9.677 kWh a day for 30 days and 9.690 on the 31st: 300.000 kWh.
    ev += standing("U-0005", ZURICH)
    ev += [(f"EN-U-0005-{d:02d}", "U-0005", "ENERGY", local(d, 23, 0, ZURICH),
            "9.690" if d == 31 else "9.677") for d in range(1, 32)]
    return ev


def background(rows):
    ev = []
    for r in rows[5:]:
        acct, plan = r[0], r[9]
        ev += standing(acct)
        base = {"E_TIER": 10, "E_TOU": 12, "E_BIZ": 90}[plan]
        for d in range(1, 32):
            if plan == "E_TOU":
                for h in (2, 8, 14, 20):
                    kwh = rng.uniform(0.5, base / 2)
                    ev.append((f"EN-{acct}-{d:02d}-{h:02d}", acct, "ENERGY", local(d, h, 0),
                               f"{kwh:.3f}"))
            else:
                kwh = rng.uniform(base * 0.5, base * 1.5)
                ev.append((f"EN-{acct}-{d:02d}", acct, "ENERGY", local(d, 23, 30), f"{kwh:.3f}"))
    return ev


BAD = [  # each is rejected with the reason in the comment
    "EN-BAD-01,U-9999,ENERGY,2026-10-04T10:00:00Z,12.000",    # UNKNOWN_ACCOUNT
    "EN-BAD-02,U-0006,ENERGY,2026-10-04T10:00:00Z,-1.500",    # NEGATIVE_QUANTITY
    "EN-BAD-03,U-0006,ENERGY,2026-10-04T10:00:00Z,12.3456",   # BAD_QUANTITY (4 decimals)
    "EN-BAD-04,U-0006,STANDING,2026-10-04T10:00:00Z,2",       # ABSURD_QUANTITY (a day is 1)
    "EN-BAD-05,U-0006,ENERGY,2026-11-01T00:00:00Z,3.000",     # AFTER_PERIOD
    "EN-BAD-06,U-0006,GAS,2026-10-04T10:00:00Z,3.000",        # UNKNOWN_PRODUCT
]


def main():
    rows = accounts()
    write_book(rows)
    events = hand_events() + background(rows)
    rng.shuffle(events)
    # A meter data service re-sending two readings: duplicates, billed once.
    dups = [e for e in events if e[0] in ("EN-U-0001-05", "EN-U-0002-07-B")]
    lines = ["event_id,account_id,product_id,start_time,quantity"]
    lines += [",".join(e) for e in events + dups]
    lines += BAD
    path = os.path.join(HERE, "usage-2026-10.csv")
    with open(path, "w", newline="") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run(["zstd", "-q", "-f", "--rm", "-19", path], check=True)
    print(f"records {len(lines) - 1}: {len(events)} readings, {len(dups)} duplicates, "
          f"{len(BAD)} bad")


if __name__ == "__main__":
    main()
