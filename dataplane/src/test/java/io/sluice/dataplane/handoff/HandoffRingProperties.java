package io.sluice.dataplane.handoff;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * {@link HandoffRing} against a reference twin (a deque of published values plus a count of
 * claimed, unpublished ones), over random sequences of claim / publish / hasRoom / available /
 * consume on one thread: {@code claim} succeeds and {@code hasRoom(n)} answers exactly as the
 * twin's free space says, and the consumer reads the published values in FIFO order.
 */
class HandoffRingProperties {
    @Test
    void ringEqualsItsTwin() {
        qt().withExamples(500).withShrinkCycles(200)
                .forAll(longs().all(), integers().between(1, 8))
                .checkAssert(HandoffRingProperties::check);
    }

    static void check(long seed, int log2) {
        int cap = 1 << log2;
        HandoffRing r = new HandoffRing(cap);
        ArrayDeque<Long> published = new ArrayDeque<>();
        ArrayDeque<Long> claimed = new ArrayDeque<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        long next = 0;
        for (int step = 0; step < 400; step++) {
            int free = cap - published.size() - claimed.size();
            switch (rnd.nextInt(5)) {
                case 0 -> {
                    int s = r.claim();
                    assertEquals(free > 0, s >= 0, "claim with " + free + " free of " + cap);
                    if (s >= 0) {
                        for (int k = 0; k < HandoffRing.SLOT_LONGS; k++) r.slots()[s + k] = next * 8 + k;
                        claimed.add(next++);
                    }
                }
                case 1 -> {
                    r.publish();
                    published.addAll(claimed);
                    claimed.clear();
                }
                case 2 -> {
                    int n = rnd.nextInt(cap + 2);
                    assertEquals(free >= n, r.hasRoom(n), "hasRoom(" + n + ") with " + free + " free of " + cap);
                }
                case 3 -> {
                    int max = 1 + rnd.nextInt(cap + 1);
                    int avail = r.available(max);
                    assertEquals(Math.min(published.size(), max), avail, "available(" + max + ")");
                    int take = avail == 0 ? 0 : rnd.nextInt(avail + 1);
                    for (int k = 0; k < take; k++) {
                        long v = published.remove();
                        int s = r.base(k);
                        for (int j = 0; j < HandoffRing.SLOT_LONGS; j++) assertEquals(v * 8 + j, r.slots()[s + j], "FIFO slot " + k + " word " + j);
                    }
                    if (take > 0) r.consume(take);
                }
                default -> assertEquals(published.size(), r.size(), "size");
            }
        }
    }
}
