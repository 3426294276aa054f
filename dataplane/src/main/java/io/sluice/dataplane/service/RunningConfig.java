package io.sluice.dataplane.service;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.overlay.OverlayPipeline;
import org.agrona.concurrent.status.AtomicCounter;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The running value and the one path that changes it: {@link #apply(SluiceConfig, boolean)} diffs
 * the value in use against a new one and applies the difference to the per-stage snapshots, then
 * publishes one new generation. Three callers produce new values: a reload of the file (SIGHUP or
 * rename into place, {@link #apply(String)}), a change of the control API (a value its
 * {@code DesiredState} computed, {@link #applyChange}), and tests ({@link #applyFirewallSection}).
 *
 * <p>A reload parses and validates the whole new text first ({@link ConfigLoader#parse}, once; an
 * error anywhere changes nothing). Then the diff:
 * <ul>
 *   <li>{@code security-groups}: compiled and published through {@link FirewallState#apply} (one
 *       atomic publish; workers pick it up at their next burst);</li>
 *   <li>the VMs' public access in the overlay (floating IP, outbound, private: docs/nat.md):
 *       {@link OverlayPipeline#applyPublicAccess} (one atomic snapshot swap) when it is all that
 *       changed in the overlay;</li>
 *   <li>every other section that differs from the running one is named as "needs a restart" and
 *       left as it runs (ports, workers, EAL, the rest of the overlay, api and so on); the
 *       security groups are then checked against the running ports and VMs, not the new file's;</li>
 *   <li>the config generation ({@link #generation()}) goes up by one when something was applied.</li>
 * </ul>
 * The reloader thread and the control API (docs/api.md) call it; its methods hold this object's
 * monitor, which the control API also holds (synchronized on it) across journal-then-apply, so the
 * two paths share one generation counter and never interleave.
 */
public final class RunningConfig implements ConfigReloader.Target {
    private final String file;
    /** The file's value at start: host sections that differ from it need a restart. */
    private final SluiceConfig running;
    private final FirewallState firewall;
    private final OverlayPipeline overlay;
    private final AtomicCounter generationCounter;
    private long generation = 1;
    /** The value in use: {@link #running} with every applied change. */
    private SluiceConfig current;
    /** The overlay of the last file applied (without the control API's changes). */
    private OverlayModel fileOverlay;
    private Layer layer;

    /**
     * What the control API changed over the file (docs/api.md): a reload applies the new file's
     * value with the API's changes replayed on top, so a reload and a restart (file + journal)
     * give the same state.
     */
    public interface Layer {
        /** The file's value with the API's changes applied; throws when they no longer apply. */
        SluiceConfig over(SluiceConfig fromFile) throws ConfigException;

        /** A reload applied {@code over(...)} as generation {@code generation}. */
        void applied(long generation);
    }

    /**
     * @param firewall          the running firewall state, or null when the data plane runs without security groups
     * @param generationCounter mirrors {@link #generation()} for {@code ./sluice status}, or null
     */
    public RunningConfig(String file, SluiceConfig running, FirewallState firewall, AtomicCounter generationCounter) {
        this(file, running, firewall, null, generationCounter);
    }

    /**
     * @param overlay the running overlay pipeline (public access changes at runtime), or null
     */
    public RunningConfig(String file, SluiceConfig running, FirewallState firewall, OverlayPipeline overlay,
                         AtomicCounter generationCounter) {
        this(file, running, running, firewall, overlay, generationCounter);
    }

    /**
     * @param fromFile the file's own value at start: what a reload's sections are compared with and
     *                 what the control API's changes are replayed over
     * @param running  the value the data plane started with: {@code fromFile} with the journal's
     *                 changes replayed (the same value without a control API)
     */
    public RunningConfig(String file, SluiceConfig fromFile, SluiceConfig running, FirewallState firewall, OverlayPipeline overlay,
                         AtomicCounter generationCounter) {
        this.file = file;
        this.running = fromFile;
        this.firewall = firewall;
        this.overlay = overlay;
        this.generationCounter = generationCounter;
        this.current = firewall == null ? running : running.withFirewall(firewall.config());
        this.fileOverlay = fromFile.overlay();
        publish();
    }

    /** 1 at start (or the journal's last, with the control API); +1 for each reload or API change that applied something. */
    public synchronized long generation() {
        return generation;
    }

    /** The value in use. */
    public synchronized SluiceConfig current() {
        return current;
    }

    /**
     * Null when every new VM of {@code next} would get a NAT VM slot now, else why not (the control
     * API answers 409 before it journals anything).
     */
    public String natSlotProblem(OverlayModel next) {
        return overlay == null ? null : overlay.natSlotProblem(next);
    }

    /** The firewall state reloads apply to, or null. */
    public FirewallState firewall() {
        return firewall;
    }

    /** Attaches the control API's layer and continues at the generation its journal reached. */
    public synchronized void attach(Layer l, long gen) {
        this.layer = l;
        this.generation = gen;
        publish();
    }

    /**
     * Applies a value the control API computed from the one in use; returns the new generation.
     * The change counts as applied (generation + 1) even when it changed nothing: it is journaled.
     */
    public synchronized long applyChange(SluiceConfig next) {
        try {
            apply(next, true);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return generation;
    }

    @Override
    public synchronized String apply(String text) throws ConfigException {
        SluiceConfig next = ConfigLoader.parse(file, text);
        List<String> restart = restartNeeded(running, next);
        boolean sameButAccess = next.overlay() != null && running.overlay() != null
                && running.overlay().withoutPublicAccess().equals(next.overlay().withoutPublicAccess());
        if (sameButAccess && overlay != null) {
            restart.remove("overlay");
        }
        boolean sameVms = Objects.equals(running.overlay(), next.overlay()) || sameButAccess;
        if (next.firewall() != null && !(running.portNames().equals(next.portNames()) && sameVms)) {
            // the new file's groups name ports or VMs that do not run: check them against what runs
            next = next.withFirewall(FirewallConfigLoader.parseDocument(file, text, running));
        }
        // the overlay the file gives (the API's projects and VMs are replayed on top by the layer)
        OverlayModel fromFile = sameButAccess && overlay != null ? next.overlay() : fileOverlay;
        next = next.withOverlay(fromFile);
        if (layer != null && next.firewall() != null) {
            next = layer.over(next);
        } else if (layer != null) {
            next = next.withOverlay(current.overlay());
        }
        String s = summary(apply(next, false), restart);
        fileOverlay = fromFile;
        return s;
    }

    /**
     * Applies the {@code security-groups} section of {@code text} alone, validated against the
     * running ports and VMs (the rest of the text is not looked at).
     */
    public synchronized String applyFirewallSection(String text) throws ConfigException {
        return summary(apply(current.withFirewall(FirewallConfigLoader.parseDocument(file, text, running)), false), new ArrayList<>());
    }

    /**
     * The one apply path: diffs {@code next} against the value in use, applies public access, then
     * the security groups, and publishes one new generation when something was applied.
     *
     * @param always count the call as applied even when nothing differed (an API change)
     * @return what was applied (first list) and notes (second)
     */
    private List<List<String>> apply(SluiceConfig next, boolean always) throws ConfigException {
        List<String> applied = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        OverlayModel access = null;
        if (overlay != null && next.overlay() != null && !overlay.state().current().model.equals(next.overlay())) {
            access = next.overlay();
        }
        FirewallConfig fwc = next.firewall();
        // the overlay snapshot goes back if the firewall refuses its part: nothing half-applied
        io.sluice.dataplane.overlay.OverlaySnapshot overlayBefore = overlay == null ? null : overlay.state().current();
        if (access != null) {
            // a reload changes public access only (other overlay changes need a restart); the control
            // API also adds and removes projects and VMs (docs/api.md)
            boolean onlyAccess = overlay.state().current().model.withoutPublicAccess().equals(access.withoutPublicAccess());
            try {
                if (onlyAccess) overlay.applyPublicAccess(access);
                else overlay.applyModel(access);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(file + ": " + e.getMessage());
            }
            applied.add(onlyAccess ? "public access" : "projects and VMs");
        }
        if (firewall == null) {
            if (fwc != null) {
                restart.add("security-groups (the data plane started without them)");
            }
        } else if (fwc == null) {
            notes.add("no security-groups section any more: keeping the current rules");
        } else if (!always && fwc.equals(firewall.config())) { // an API change is applied as it is (no deep compare)
            notes.add("security-groups unchanged");
        } else {
            try {
                firewall.apply(fwc);
            } catch (RuntimeException e) {
                if (access != null) overlay.state().publish(overlayBefore);
                throw e;
            }
            applied.add("security-groups (epoch " + firewall.current().epoch() + ", " + firewall.lastRebuiltPartitions()
                    + " partition(s) rebuilt, " + firewall.lastUnchangedLists() + " list(s) unchanged, "
                    + (firewall.lastDeferredLists() > 0 ? firewall.lastDeferredLists() + " large list(s) in effect before their trees, " : "")
                    + firewall.lastApplyNanos() / 1000 + " us)");
        }
        current = current.withOverlay(access != null ? access : current.overlay())
                .withFirewall(firewall != null && fwc != null ? fwc : current.firewall());
        if (!applied.isEmpty() || always) {
            generation++;
            publish();
            if (layer != null && !always) {
                layer.applied(generation);
            }
        }
        return List.of(applied, notes, restart);
    }

    private String summary(List<List<String>> result, List<String> restart) {
        List<String> applied = result.get(0);
        restart.addAll(result.get(2));
        StringBuilder sb = new StringBuilder();
        sb.append(applied.isEmpty() ? "nothing applied" : "applied " + String.join(", ", applied));
        if (!restart.isEmpty()) {
            sb.append("; changed but needs a restart, not applied: ").append(String.join(", ", restart));
        }
        for (String n : result.get(1)) {
            sb.append("; ").append(n);
        }
        sb.append("; generation ").append(generation);
        return sb.toString();
    }

    /**
     * The sections of {@code next} that differ from {@code running} and only a restart can change
     * (EAL, ports, workers, the overlay's networks and host settings, the API's listener and keys...).
     * The security groups are not among them: they are applied.
     */
    static List<String> restartNeeded(SluiceConfig running, SluiceConfig next) {
        List<String> out = new ArrayList<>();
        for (RecordComponent c : SluiceConfig.class.getRecordComponents()) {
            if (c.getName().equals("source") || c.getName().equals("firewall")) {
                continue;
            }
            try {
                Object a = c.getAccessor().invoke(running);
                Object b = c.getAccessor().invoke(next);
                if (!Objects.equals(a, b)) {
                    out.add(c.getName());
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    private void publish() {
        if (generationCounter != null) {
            generationCounter.setRelease(generation);
        }
    }
}
