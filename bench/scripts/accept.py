#!/usr/bin/env python3
"""accept.py: the one acceptance rule of the same-run benchmarks (docs/performance.md#acceptance).

  accept.py run CPU RX TX [CHECK]
      one measured run of one system: prints "ACCEPT" or "REJECT <why>" and exits 0 / 1.
      CPU: the share of its core the forwarding thread got over the window (from
      /proc/<pid>/task/<tid>/schedstat for OVS's PMD, the thread's CPU time for Sluice's worker);
      RX / TX: packets it received / sent in the window; CHECK (optional): "ok" or anything else
      (e.g. a failed translation check of this case).
      Rejected: CPU < MIN_CPU (0.95), or TX < RX * (1 - TOLERANCE) (0.002: the two counters are read
      a few microseconds apart, so a window may cut a burst or two), or CHECK != ok.
  accept.py table RUNS.tsv [RATIO_SYSTEM] [REFERENCE_PREFIX]
      RUNS.tsv lines: case<TAB>system<TAB>rep<TAB>status(ACCEPT|REJECT...)<TAB>per-CPU Mpps<TAB>note
      For each case: the median accepted per-CPU rate of every system; the reference is the BEST of
      the systems whose name starts with REFERENCE_PREFIX (default "ovs": OVS default, OVS tuned);
      ratio = RATIO_SYSTEM (default "sluice") / reference. A case where the system or every reference
      has no accepted run has ratio nan. Prints a markdown table, then last "min_ratio=<lowest ratio>"
      or "min_ratio=nan" when any case is nan (never the minimum over a smaller set).
  accept.py ratios RUNS.tsv BASE
      The same RUNS.tsv; the systems named BASE+FEATURE (e.g. "sluice+trace", "sluice+flowlogs": the
      baseline with one feature on) against BASE, per case: median accepted per-CPU rate of each, and
      ratio feature/baseline (nan when either has no accepted run). Prints a markdown table, then one
      line per feature "feature_ratio_FEATURE=<lowest ratio over the cases>" (nan when any case is nan).
Every system runs the same number of repetitions, interleaved (the caller's loop); a rejected run
is repeated up to the caller's bound, and what stays rejected is recorded as REJECT, never dropped.
"""
import statistics
import sys

MIN_CPU = 0.95
TOLERANCE = 0.002


def run(cpu, rx, tx, check='ok'):
    why = []
    if cpu < MIN_CPU:
        why.append(f'cpu {cpu:.2f} < {MIN_CPU}')
    if rx <= 0:
        why.append('received nothing')
    elif tx < rx * (1 - TOLERANCE):
        why.append(f'forwarded {tx} < received {rx}')
    if check != 'ok':
        why.append(f'check: {check}')
    return 'ACCEPT' if not why else 'REJECT ' + '; '.join(why)


def table(path, ratio_system='sluice', ref_prefix='ovs'):
    cases, systems, runs = [], [], {}
    for line in open(path):
        f = line.rstrip('\n').split('\t')
        if len(f) < 5 or line.startswith('#'):
            continue
        case, system, rep, status, rate = f[:5]
        if case not in cases:
            cases.append(case)
        if system not in systems:
            systems.append(system)
        runs.setdefault((case, system), []).append((status, float(rate) if rate not in ('', 'nan') else float('nan')))
    refs = [s for s in systems if s.startswith(ref_prefix)]
    print('| case | ' + ' | '.join(f'{s} per-CPU Mpps (accepted/runs)' for s in systems) + f' | reference | {ratio_system}/reference |')
    print('|---|' + '---|' * (len(systems) + 2))
    ratios = []
    for c in cases:
        med = {}
        cells = []
        for s in systems:
            r = runs.get((c, s), [])
            ok = [v for st, v in r if st == 'ACCEPT']
            med[s] = statistics.median(ok) if ok else float('nan')
            cells.append(f'{med[s]:.3f} ({len(ok)}/{len(r)})' if ok else f'nan (0/{len(r)})')
        good = [(med[s], s) for s in refs if med[s] == med[s]]
        ref = max(good) if good else (float('nan'), 'none')
        x = med.get(ratio_system, float('nan'))
        ratio = x / ref[0] if ref[0] == ref[0] and x == x and ref[0] > 0 else float('nan')
        ratios.append(ratio)
        print(f'| {c} | ' + ' | '.join(cells) + f' | {ref[1]} | {ratio:.2f} |')
    # for information only (never a ratio of record): the median over every run, accepted or not
    print()
    print('For information only, NOT accepted figures: median per-CPU Mpps over all runs, accepted or not, and its ratio')
    print()
    print('| case | ' + ' | '.join(f'{s} (all runs)' for s in systems) + f' | {ratio_system}/best reference (all runs) |')
    print('|---|' + '---|' * (len(systems) + 1))
    for c in cases:
        med = {}
        for s in systems:
            v = [x for _, x in runs.get((c, s), []) if x == x]
            med[s] = statistics.median(v) if v else float('nan')
        good = [med[s] for s in refs if med[s] == med[s]]
        x = med.get(ratio_system, float('nan'))
        r = x / max(good) if good and x == x and max(good) > 0 else float('nan')
        print(f'| {c} | ' + ' | '.join(f'{med[s]:.3f}' for s in systems) + f' | {r:.2f} |')
    lo = float('nan') if not ratios or any(r != r for r in ratios) else min(ratios)
    print()
    print(f'min_ratio={lo:.2f}' if lo == lo else 'min_ratio=nan')


def ratios(path, base):
    runs, cases, feats = {}, [], []
    for line in open(path):
        f = line.rstrip('\n').split('\t')
        if len(f) < 5 or line.startswith('#'):
            continue
        case, system, rep, status, rate = f[:5]
        if case not in cases:
            cases.append(case)
        if system.startswith(base + '+') and system[len(base) + 1:] not in feats:
            feats.append(system[len(base) + 1:])
        runs.setdefault((case, system), []).append((status, float(rate) if rate not in ('', 'nan') else float('nan')))

    def med(case, system, every=False):
        r = runs.get((case, system), [])
        ok = [v for st, v in r if (every or st == 'ACCEPT') and v == v]
        return (statistics.median(ok) if ok else float('nan')), len(ok), len(r)

    def div(a, b):
        return a / b if a == a and b == b and b > 0 else float('nan')

    print(f'| case | feature | {base}+feature per-CPU Mpps (accepted/runs) | {base} per-CPU Mpps (accepted/runs) | ratio feature/{base} | NOT accepted: ratio of the medians over all runs |')
    print('|---|---|---|---|---|---|')
    low = {}
    for c in cases:
        b, bn, bt = med(c, base)
        for ft in feats:
            if (c, base + '+' + ft) not in runs:
                continue
            x, xn, xt = med(c, base + '+' + ft)
            r = div(x, b)
            low.setdefault(ft, []).append(r)
            every = div(med(c, base + '+' + ft, True)[0], med(c, base, True)[0])
            print(f'| {c} | {ft} | {x:.3f} ({xn}/{xt}) | {b:.3f} ({bn}/{bt}) | {r:.3f} | {every:.3f} |')
    print()
    for ft in feats:
        v = low.get(ft, [])
        lo = float('nan') if not v or any(r != r for r in v) else min(v)
        print(f'feature_ratio_{ft}={lo:.3f}' if lo == lo else f'feature_ratio_{ft}=nan')


if __name__ == '__main__':
    if len(sys.argv) >= 5 and sys.argv[1] == 'run':
        v = run(float(sys.argv[2]), int(float(sys.argv[3])), int(float(sys.argv[4])), sys.argv[5] if len(sys.argv) > 5 else 'ok')
        print(v)
        sys.exit(0 if v == 'ACCEPT' else 1)
    elif len(sys.argv) >= 3 and sys.argv[1] == 'table':
        table(sys.argv[2], *sys.argv[3:5])
    elif len(sys.argv) == 4 and sys.argv[1] == 'ratios':
        ratios(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
