package io.sluice.dataplane.port;

import io.sluice.dataplane.agent.IdleStrategies;
import io.sluice.dataplane.config.PortSpec;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** EAL arguments and device names from port specs; idle strategy names. No EAL needed. */
class PortsTest {
    @Test
    void vdevsGoToVdevAndPciToAllowList() {
        List<PortSpec> specs = List.of(
                new PortSpec("vm1", "net_tap0,iface=sltap0", 1, 1, -1),
                new PortSpec("up", "0000:03:00.0", 4, 2, -1),
                new PortSpec("m", "net_memif0,role=server,socket=/run/sluice/m0.sock", 1, 1, -1));
        assertEquals(List.of("--vdev", "net_tap0,iface=sltap0", "-a", "0000:03:00.0",
                "--vdev", "net_memif0,role=server,socket=/run/sluice/m0.sock"), Ports.ealArgs(specs));
        assertEquals("net_tap0", Ports.deviceName(specs.get(0)));
        assertEquals("0000:03:00.0", Ports.deviceName(specs.get(1)));
        assertEquals("net_memif0", Ports.deviceName(specs.get(2)));
        assertEquals("net_null0", Ports.deviceName(new PortSpec("n", "net_null0", 1, 1, -1)));
    }

    @Test
    void macString() {
        assertEquals("02:00:00:00:00:0b", Port.macString(0x02_00_00_00_00_0bL));
        assertEquals("ff:ff:ff:ff:ff:ff", Port.macString(0xFFFF_FFFF_FFFFL));
    }

    @Test
    void idleStrategies() {
        assertInstanceOf(BusySpinIdleStrategy.class, IdleStrategies.parse("busy-spin"));
        assertInstanceOf(YieldingIdleStrategy.class, IdleStrategies.parse("yield"));
        assertInstanceOf(BackoffIdleStrategy.class, IdleStrategies.parse("backoff"));
        assertInstanceOf(SleepingIdleStrategy.class, IdleStrategies.parse("sleep"));
        assertInstanceOf(SleepingIdleStrategy.class, IdleStrategies.parse("sleep-100"));
        for (String bad : new String[] {"", "spin", "sleep-", "sleep-0", "sleep--5", "sleep-x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdleStrategies.parse(bad));
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }
}
