#!/usr/bin/env python3
"""Regenerate the Lumen Telecom sample: accounts, plan assignments and October 2026 usage.

The output is committed; this script documents how it was made and rebuilds it byte for byte
(fixed seed, no clock). Run from anywhere: python3 data-samples/telco/make_sample.py

Three accounts carry hand-picked events whose invoices are worked out by hand in
data-samples/README.md and asserted by tests/test_e2e.c:
  ACC-0001 (Mobile Start), ACC-0002 (Business Pro), ACC-0003 (Business Pro, Belgian B2B,
  reverse-charged VAT). Every other account gets random but realistic traffic.
"""
import os
import random
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(2026)

FIRST = ["Boulangerie", "Garage", "Cabinet", "Atelier", "Pharmacie", "Librairie", "Studio",
         "Transports", "Fromagerie", "Agence", "Brasserie", "Menuiserie"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia"]
CITIES = [("Paris", "75011"), ("Lyon", "69003"), ("Marseille", "13006"), ("Lille", "59000"),
          ("Nantes", "44000"), ("Bordeaux", "33000"), ("Toulouse", "31000")]


def accounts():
    rows = [
        ("ACC-0001", "Boulangerie Martin", "3 rue des Lilas", "Paris", "75011", "FR",
         "FR11223344556", "compta@boulangerie-martin.example", "PO-7731", "EUR", "FR", "P_START"),
        ("ACC-0002", "Garage Dubois SARL", "48 avenue Jean Jaures", "Lyon", "69007", "FR",
         "FR55667788990", "factures@garage-dubois.example", "", "EUR", "FR", "P_BIZ"),
        ("ACC-0003", "Brasserie Van Damme BV", "Grote Markt 7", "Brussel", "1000", "BE",
         "BE0123456789", "ap@vandamme.example", "VD-2026", "EUR", "BE_B2B", "P_BIZ"),
    ]
    for i in range(4, 34):
        city, pc = rng.choice(CITIES)
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        plan = "P_BIZ" if rng.random() < 0.4 else "P_START"
        rows.append((f"ACC-{i:04d}", name, f"{rng.randint(1, 120)} rue {rng.choice(LAST)}",
                     city, pc, "FR", "", "", "", "EUR", "FR", plan))
    return rows


# Peppol participant ids of accounts without a VAT number that are on Peppol (a SIRET, EAS
# 0009): their invoices' electronic address.
PEPPOL_IDS = {"ACC-0005": "0009:12345678200010"}


def write_book(rows):
    with open(os.path.join(HERE, "book", "accounts.csv"), "w", newline="") as f:
        f.write("account_id,name,street,city,postcode,country,vat_id,email,buyer_reference,"
                "currency,tax_jurisdiction,bill_cycle_day,payment_terms_days,peppol_id\n")
        for r in rows:
            f.write(",".join(r[:11]) + ",1,," + PEPPOL_IDS.get(r[0], "") + "\n")
    with open(os.path.join(HERE, "book", "account_plans.csv"), "w", newline="") as f:
        f.write("account_id,plan_id,valid_from,valid_to\n")
        for r in rows:
            f.write(f"{r[0]},{r[11]},2026-01-01,\n")


def t(day, h, m, s=0):
    return f"2026-10-{day:02d}T{h:02d}:{m:02d}:{s:02d}Z"


# Hand-checked events: (event_id, account, product, start, quantity, called_number)
HAND = [
    ("EV-A1-01", "ACC-0001", "VOICE_NAT", t(3, 9, 15), "754", "+33142868200"),
    ("EV-A1-02", "ACC-0001", "VOICE_NAT", t(14, 23, 59, 30), "61", "+33472105050"),
    ("EV-A1-03", "ACC-0001", "VOICE_NAT", t(20, 10, 0), "300", "+33140205050"),
    ("EV-A1-04", "ACC-0001", "VOICE_NAT", t(21, 16, 45), "125", "+33491545454"),
    ("EV-A1-05", "ACC-0001", "VOICE_MOB", t(5, 12, 0), "31", "+33612345678"),
    ("EV-A1-06", "ACC-0001", "VOICE_MOB", t(6, 8, 30), "0", "+33698765432"),
    ("EV-A1-07", "ACC-0001", "SMS", t(7, 19, 2), "1", "+33611112222"),
    ("EV-A1-08", "ACC-0001", "SMS", t(8, 19, 3), "1", "+33611112222"),
    ("EV-A1-09", "ACC-0001", "SMS", t(9, 7, 45), "1", "+33633334444"),
    ("EV-A1-10", "ACC-0001", "DATA", t(10, 11, 0), "250000", ""),
    ("EV-A1-11", "ACC-0001", "DATA", t(11, 13, 30), "1500000", ""),
    ("EV-A2-01", "ACC-0002", "VOICE_NAT", t(2, 8, 0), "59", "+33478000001"),
    ("EV-A2-02", "ACC-0002", "VOICE_NAT", t(2, 14, 0), "3600", "+33145000002"),
    ("EV-A2-03", "ACC-0002", "VOICE_MOB", t(9, 9, 0), "20", "+33670000003"),
    ("EV-A2-04", "ACC-0002", "VOICE_MOB", t(9, 10, 0), "125", "+33670000004"),
    ("EV-A2-05", "ACC-0002", "SMS", t(12, 12, 0), "1", "+33670000005"),
    ("EV-A2-06", "ACC-0002", "SMS", t(12, 12, 1), "1", "+33670000005"),
    ("EV-A2-07", "ACC-0002", "DATA", t(15, 0, 0), "200000000", ""),
    ("EV-A2-08", "ACC-0002", "DATA", t(16, 0, 0), "2500001", ""),
    ("EV-A3-01", "ACC-0003", "VOICE_NAT", t(12, 9, 0), "600", "+3225551234"),
    ("EV-A3-02", "ACC-0003", "SMS", t(13, 9, 0), "1", "+32475123456"),
    ("EV-A3-03", "ACC-0003", "VOICE_NAT", "2026-09-30T23:00:00Z", "60", "+3225551234"),
]


def background(rows):
    """Random traffic for ACC-0004..ACC-0033: skewed, a few heavy accounts."""
    events = []
    n = 0
    for r in rows[3:]:
        weight = rng.choice([10, 20, 40, 80, 150, 300])
        for _ in range(weight):
            n += 1
            day = rng.randint(1, 31)
            h, m, s = rng.randint(6, 22), rng.randint(0, 59), rng.randint(0, 59)
            kind = rng.random()
            if kind < 0.45:
                prod, qty = "VOICE_NAT", str(int(rng.expovariate(1 / 150)))
                called = f"+331{rng.randint(40000000, 49999999)}"
            elif kind < 0.65:
                prod, qty = "VOICE_MOB", str(int(rng.expovariate(1 / 90)))
                called = f"+336{rng.randint(10000000, 99999999)}"
            elif kind < 0.85:
                prod, qty, called = "SMS", "1", f"+337{rng.randint(10000000, 99999999)}"
            else:
                prod, qty, called = "DATA", str(int(rng.expovariate(1 / 30_000_000))), ""
            events.append((f"EV-{r[0][4:]}-{n:05d}", r[0], prod, t(day, h, m, s), qty, called))
    return events


BAD = [  # (line text, why) - each is rejected with the reason in the comment
    "EV-BAD-01,ACC-9999,VOICE_NAT,2026-10-04T10:00:00Z,60,+33142000000",   # UNKNOWN_ACCOUNT
    "EV-BAD-02,ACC-0005,VOICE_NAT,2026-10-32T10:00:00Z,60,+33142000000",   # BAD_TIME
    "EV-BAD-03,ACC-0005,VOICE_NAT,2026-10-04T10:00:00Z,-5,+33142000000",   # NEGATIVE_QUANTITY
    "EV-BAD-04,,VOICE_NAT,2026-10-04T10:00:00Z,60,+33142000000",           # MISSING_FIELD
    "EV-BAD-05,ACC-0005,VIDEO,2026-10-04T10:00:00Z,60,",                   # UNKNOWN_PRODUCT
    "EV-BAD-06,ACC-0005,VOICE_NAT,2026-11-01T00:00:05Z,60,+33142000000",   # AFTER_PERIOD
    '"EV-BAD-07"x,ACC-0005,SMS,2026-10-04T10:00:00Z,1,+33611000000',       # MALFORMED
    "EV-BAD-08,ACC-0005,VOICE_NAT,2026-10-04T10:00:00Z,12.5,+33142000000", # BAD_QUANTITY
    "EV-BAD-09,ACC-0005,SMS,2026-10-04T10:00:00Z,abc,+33611000000",        # BAD_QUANTITY
    "EV-BAD-10,ACC-0005,VOICE_NAT,2026-10-04T10:00:00Z,99999999,+33142000000",  # ABSURD_QUANTITY
]


def line(e):
    ev, acct, prod, start, qty, called = e
    if "," in ev or '"' in ev:
        ev = '"' + ev.replace('"', '""') + '"'
    return f"{ev},{acct},{prod},{start},{qty},{called}"


def main():
    rows = accounts()
    write_book(rows)
    bg = background(rows)
    rng.shuffle(bg)
    voice = [e for e in bg if e[2].startswith("VOICE")]
    other = [e for e in bg if not e[2].startswith("VOICE")]
    # Exact repeats of earlier records (a switch re-sending a file), and one of ACC-0003.
    dups = rng.sample(voice, 5) + rng.sample(other, 3)
    hand_voice = [e for e in HAND if e[2].startswith("VOICE")]
    hand_other = [e for e in HAND if not e[2].startswith("VOICE")]
    a = hand_voice + voice[: len(voice) // 2] + [HAND[19]] + voice[len(voice) // 2:] + dups[:5]
    b = hand_other + other + dups[5:] + [("EV-Q,1", "ACC-0004", "SMS", t(30, 12, 0), "1",
                                          "+33611000000")]
    header = "event_id,account_id,product_id,start_time,quantity,called_number"
    text_a = "\n".join([header] + [line(e) for e in a] + BAD[:5]) + "\n"
    # File b uses CRLF line ends, as files exported from Windows tools do.
    text_b = "\r\n".join([header] + [line(e) for e in b] + BAD[5:]) + "\r\n"
    for name, text in (("usage-2026-10-voice.csv", text_a), ("usage-2026-10-other.csv", text_b)):
        path = os.path.join(HERE, name)
        with open(path, "w", newline="") as f:
            f.write(text)
        subprocess.run(["zstd", "-q", "-f", "--rm", "-19", path], check=True)
    total = len(a) + len(b) + len(BAD)
    print(f"records {total}: voice file {len(a) + 5}, other file {len(b) + 5}, "
          f"bad {len(BAD)}, duplicates {len(dups) + 1}")


if __name__ == "__main__":
    main()
