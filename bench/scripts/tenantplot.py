#!/usr/bin/env python3
"""tenantplot.py: the plot of `./sluice bench tenant` (bench/scripts/tenant.sh), Debian's python3-matplotlib.

  tenantplot.py RUNS.tsv EW.tsv EW-WALL.tsv OUT.png [short]
      RUNS.tsv: the tenant mix (testpmd-io, ovs-default, ovs-tuned, sluice), EW*.tsv: the east-west mix on
      one and two workers (per CPU-second, wall), lines as accept.py reads them
      (case=flows, system, rep, ACCEPT|REJECT..., rate). Left: Mpps per CPU-second against flows, the
      median of the ACCEPTED runs of each system (nan: no point). Right: the two-worker line. With
      "short" (a validation run), the medians over all runs, accepted or not, are drawn dotted and
      labelled NOT accepted, and the title says so.
"""
import statistics
import sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt


def meds(path, every=False):
    d = {}
    for line in open(path):
        f = line.rstrip('\n').split('\t')
        if len(f) < 5 or line.startswith('#'):
            continue
        v = d.setdefault(f[1], {}).setdefault(int(f[0]), [])
        if (every or f[3] == 'ACCEPT') and f[4] not in ('', 'nan'):
            v.append(float(f[4]))
    return {s: {n: (statistics.median(v) if v else float('nan')) for n, v in c.items()} for s, c in d.items()}


def line(ax, m, s, label, short, m_all, style='-', marker='o'):
    if s in m:
        xs = sorted(m[s])
        p = ax.plot(xs, [m[s][x] for x in xs], marker=marker, linestyle=style, label=label)
        if short and s in m_all:
            ax.plot(xs, [m_all[s][x] for x in xs], marker=marker, linestyle=':', alpha=.5, color=p[0].get_color(),
                    label=label + ' (all runs, NOT accepted)')


def main(runs, ewr, eww, png, short=False):
    m, e, w = meds(runs), meds(ewr), meds(eww)
    ma, ea, wa = meds(runs, True), meds(ewr, True), meds(eww, True)
    fig, ax = plt.subplots(1, 2, figsize=(13, 5))
    for s, label in (('testpmd-io', 'testpmd io (limit)'), ('ovs-default', 'OVS-DPDK default'),
                     ('ovs-tuned', 'OVS-DPDK tuned'), ('sluice', 'Sluice (1 worker)')):
        line(ax[0], m, s, label, short, ma)
    ax[0].set_title('Tenant pipeline: decap, anti-spoof, route, SG/CT, FIP/SNAT, encap')
    ax[0].set_ylabel('Mpps per CPU-second of the forwarding thread (log)')
    for s, label in (('sluice-ew-1w', 'Sluice east-west, 1 worker'), ('sluice-ew-2w', 'Sluice east-west, 2 workers (hand-off)')):
        line(ax[1], w, s, label + ', wall Mpps', short, wa)
        line(ax[1], e, s, label + ', per CPU-s', short, ea, style='--', marker='x')
    ax[1].set_title('Second line: two workers on two cores, shard hand-off')
    ax[1].set_ylabel('Mpps')
    for a in ax:
        a.set_xscale('log')
        a.set_xlabel('flows')
        a.grid(True, which='both', alpha=.3)
        a.legend(fontsize=7)
    ax[0].set_yscale('log')  # testpmd io (the devices only) is an order of magnitude above the pipelines
    ax[1].set_ylim(bottom=0)
    if short:
        fig.suptitle('SHORT validation run on a loaded machine: not measurements (solid = accepted medians; none when every run was rejected)',
                     color='red', fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=100)


if __name__ == '__main__':
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], len(sys.argv) > 5 and sys.argv[5] != '')
