package io.sluice.dataplane.service;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.firewall.FirewallConfig;
import io.sluice.dataplane.firewall.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayModel;
import io.sluice.dataplane.overlay.OverlayPipeline;
import org.agrona.concurrent.status.AtomicCounter;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The reload target of {@code ./sluice run}: what the running data plane was started with, and
 * what a new text of its configuration file may change.
 *
 * <p>A reload parses and validates the whole new text first ({@link ConfigLoader#parse}, then the
 * {@code security-groups} section against the <i>running</i> ports and VMs); an error anywhere
 * changes nothing. Then:
 * <ul>
 *   <li>{@code security-groups} is applied through {@link FirewallState#apply} (one atomic
 *       publish; workers pick it up at their next burst);</li>
 *   <li>the VMs' public access in the overlay (floating IP, outbound, private: docs/nat.md) is
 *       applied through {@link OverlayPipeline#applyPublicAccess} (one atomic snapshot swap) when it
 *       is all that changed in the overlay;</li>
 *   <li>every other section that differs from the running one is named as "needs a restart" and
 *       left as it runs (ports, workers, EAL, the overlay and so on);</li>
 *   <li>the config generation ({@link #generation()}) goes up by one when something was applied.</li>
 * </ul>
 * The reloader thread and the control API (docs/api.md) call it; its methods hold this object's
 * monitor, which the control API also holds (synchronized on it) across journal-then-apply, so the
 * two paths share one generation counter and never interleave.
 */
public final class RunningConfig implements ConfigReloader.Target {
    private final String file;
    private final SluiceConfig running;
    private final FirewallState firewall;
    private final OverlayPipeline overlay;
    private final AtomicCounter generationCounter;
    private long generation = 1;
    private Layer layer;

    /**
     * What the control API changed over the file (docs/api.md): a reload applies the new file's
     * {@code security-groups} with the API's changes replayed on top, so a reload and a restart
     * (file + journal) give the same rules.
     */
    public interface Layer {
        /** The file's firewall configuration with the API's changes applied; throws when they no longer apply. */
        FirewallConfig over(FirewallConfig fromFile) throws ConfigException;

        /** The file's overlay with the API's public-access changes applied (only public access differs); throws when they no longer apply. */
        default OverlayModel access(OverlayModel fromFile) throws ConfigException {
            return fromFile;
        }

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
        this.file = file;
        this.running = running;
        this.firewall = firewall;
        this.overlay = overlay;
        this.generationCounter = generationCounter;
        publish();
    }

    /** 1 at start (or the journal's last, with the control API); +1 for each reload or API change that applied something. */
    public synchronized long generation() {
        return generation;
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

    /** Applies a firewall configuration the control API computed (atomic publish); returns the new generation. */
    public synchronized long applyChange(FirewallConfig next) {
        firewall.apply(next);
        generation++;
        publish();
        return generation;
    }

    /** Applies VMs' public access the control API computed (NAT's hitless path, {@link OverlayPipeline#applyPublicAccess}); returns the new generation. */
    public synchronized long applyAccess(OverlayModel next) {
        if (overlay == null) throw new IllegalStateException("no overlay pipeline to change public access in");
        overlay.applyPublicAccess(next);
        generation++;
        publish();
        return generation;
    }

    @Override
    public synchronized String apply(String text) throws ConfigException {
        SluiceConfig next = ConfigLoader.parse(file, text);
        List<String> restart = restartNeeded(running, next);
        OverlayModel access = null; // the overlay to publish for a public-access change, or null
        if (overlay != null && next.overlay() != null) {
            boolean sameButAccess = running.overlay().withoutPublicAccess().equals(next.overlay().withoutPublicAccess());
            if (sameButAccess) {
                restart.remove("overlay");
                OverlayModel want = layer != null ? layer.access(next.overlay()) : next.overlay();
                if (!overlay.state().current().model.equals(want)) {
                    access = want;
                }
            }
        }
        return applySections(text, restart, access);
    }

    /**
     * Applies the {@code security-groups} section of {@code text} alone, validated against the
     * running ports and VMs (the rest of the text is not looked at).
     */
    public synchronized String applyFirewallSection(String text) throws ConfigException {
        return applySections(text, new ArrayList<>(), null);
    }

    /** Validates the security groups, then applies public access ({@code access}, or null) and the groups. */
    private String applySections(String text, List<String> restart, OverlayModel access) throws ConfigException {
        FirewallConfig fwc = FirewallConfigLoader.parseDocument(file, text, running);
        if (layer != null && fwc != null) {
            fwc = layer.over(fwc);
        }
        List<String> applied = new ArrayList<>();
        if (access != null) {
            try {
                overlay.applyPublicAccess(access);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(file + ": " + e.getMessage());
            }
            applied.add("public access");
        }
        List<String> notes = new ArrayList<>();
        if (firewall == null) {
            if (fwc != null) {
                restart.add("security-groups (the data plane started without them)");
            }
        } else if (fwc == null) {
            notes.add("no security-groups section any more: keeping the current rules");
        } else if (fwc.equals(firewall.config())) {
            notes.add("security-groups unchanged");
        } else {
            firewall.apply(fwc);
            applied.add("security-groups (epoch " + firewall.current().epoch() + ", " + firewall.lastRebuiltPartitions()
                    + " partition(s) rebuilt, " + firewall.lastUnchangedLists() + " list(s) unchanged, "
                    + firewall.lastApplyNanos() / 1000 + " us)");
        }
        if (!applied.isEmpty()) {
            generation++;
            publish();
            if (layer != null) {
                layer.applied(generation);
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(applied.isEmpty() ? "nothing applied" : "applied " + String.join(", ", applied));
        if (!restart.isEmpty()) {
            sb.append("; changed but needs a restart, not applied: ").append(String.join(", ", restart));
        }
        for (String n : notes) {
            sb.append("; ").append(n);
        }
        sb.append("; generation ").append(generation);
        return sb.toString();
    }

    /** The sections of {@code next} that differ from {@code running} and only a restart can change. */
    static List<String> restartNeeded(SluiceConfig running, SluiceConfig next) {
        List<String> out = new ArrayList<>();
        for (RecordComponent c : SluiceConfig.class.getRecordComponents()) {
            if (c.getName().equals("source")) {
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
