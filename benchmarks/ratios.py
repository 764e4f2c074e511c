"""The tables of ``grad.py`` and ``train.py``: one run, symkb as ratios to the best peer.

Implementations arrive as records from ``peer_io.check_and_time`` (in this
process or from a worker). A peer measured in several forms (``jax`` and
``jax hoisted``, ``tf.fn`` and ``tf.fn per-step``...) is one column showing
its fastest form that passed its check, so the ratio is against each peer's
best; the notes under the table say which form won, which peers are
missing and why, which failed their check, and which timings other
processes disturbed.
"""
from __future__ import annotations

import itertools

PLAIN_NOTES = ("hoisted", "per-step", "NUMBA")  # notes that need no line under the table
BUSY = 0.25  # cores used by other processes past which a timing is marked '!'
_RANK = {"ok": 0, "FAIL": 1, "error": 2, "n/a": 3, "missing": 4}


def column_of(name):
    """The table column of an implementation: a peer's forms share one."""
    return name if name.startswith("symkb") else name.split(" ")[0]


def best_by_column(records):
    """{column: record}: the fastest passing form of each column (else its most telling failure)."""
    cols = {}
    for rec in records:
        cols.setdefault(column_of(rec["impl"]), []).append(rec)
    best = {}
    for col, recs in cols.items():
        ok = [r for r in recs if r["status"] == "ok"]
        pick = dict(min(ok, key=lambda r: r["median_ms"]) if ok
                    else min(recs, key=lambda r: _RANK.get(r["status"], 9)))
        pick["forms"] = {r["impl"]: r for r in recs}
        best[col] = pick
    return best


def pairwise(results, rel_err):
    """(largest difference between two implementations' results, the pair).

    Every implementation was checked against the reference before it was
    timed; this is the check of each against every other.
    """
    worst, pair = 0.0, None
    for (a, ra), (b, rb) in itertools.combinations(results.items(), 2):
        e = max(rel_err(ra, rb), rel_err(rb, ra))
        if e > worst:
            worst, pair = e, (a, b)
    return worst, pair


def _cell(rec, best):
    if rec is None:
        return ""
    st = rec["status"]
    if st == "ok":
        cell = f"{rec['median_ms']:.4g}"
        cell = f"**{cell}**" if best else cell
        return cell + ("!" if (rec.get("foreign_cores") or 0) > BUSY else "")
    if st == "FAIL":
        return f"FAIL({rec['err']:.0e})"
    return st


def ratio_rows(per_wl, columns, symkb_col):
    """Markdown rows: median ms per column, the best peer bold, symkb / best peer."""
    rows = []
    for wid, cols in per_wl.items():
        peers = {c: r for c, r in cols.items() if not c.startswith("symkb") and r["status"] == "ok"}
        best = min(peers, key=lambda c: peers[c]["median_ms"]) if peers else None
        sym = cols.get(symkb_col)
        ratio = (f"{sym['median_ms'] / peers[best]['median_ms']:.2f}"
                 if best and sym and sym["status"] == "ok" else "n/a")
        rows.append([wid] + [_cell(cols.get(c), c == best) for c in columns] + [ratio])
    return rows


def first_rows(per_wl, columns):
    """Markdown rows: set-up + first call (trace / compile included), seconds."""
    return [[wid] + [f"{cols[c]['first_s']:.2f}" if c in cols and "first_s" in cols[c] else ""
                     for c in columns] for wid, cols in per_wl.items()]


def progress_line(wid, cols):
    """One workload's results as soon as they are in (a long run that is
    stopped still leaves its finished rows)."""
    cells = [f"{c} {r['median_ms']:.4g} ms" if r["status"] == "ok" else f"{c} {r['status']}"
             for c, r in cols.items()]
    return f"  {wid}: " + ", ".join(cells)


def print_table(title, header, rows):
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|---" + "|---:" * (len(header) - 1) + "|")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")


def print_notes(per_wl):
    """Which form won, missing / failed / erroring implementations, disturbed timings."""
    forms, problems, busy, missing = [], [], [], {}
    for wid, cols in per_wl.items():
        for col, rec in cols.items():
            if len(rec["forms"]) > 1 and rec["status"] == "ok":
                forms.append(f"{wid} {col}: {rec['impl']}")
            for name, r in rec["forms"].items():
                if r["status"] == "ok" and r.get("note") not in (None, "", *PLAIN_NOTES):
                    problems.append(f"{wid} {name}: {r['note']}")
                if r["status"] in ("missing", "n/a"):
                    missing.setdefault(f"{name}: {r.get('reason', '')}", []).append(wid)
                elif r["status"] != "ok":
                    problems.append(f"{wid} {name}: {r['status']} {r.get('reason', '')}")
                elif (r.get("foreign_cores") or 0) > BUSY:
                    busy.append(f"{wid} {name} ({r['foreign_cores']:.2f})")
    print()
    if forms:
        print("Fastest form per peer: " + "; ".join(forms))
    for why, wids in missing.items():
        print(f"not measured [{','.join(wids)}] {why}")
    for p in problems:
        print("  " + p)
    if busy:
        print(f"! other processes used > {BUSY} core while these were timed "
              "(their figures are unreliable): " + ", ".join(busy))
    return not any(r["status"] in ("FAIL", "error")
                   for cols in per_wl.values() for rec in cols.values()
                   for r in rec["forms"].values())
