package org.openmrs.module.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.ObjectInputFilter;
import java.io.Serializable;
import java.util.List;

import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;

/**
 * A deserialization filter set on the JVM (as {@code -Djdk.serialFilter} does) still applies to
 * what the library reads, although a stream's own filter replaces the JVM's: the library asks the
 * JVM's first. The JVM's filter can be set once per JVM; the one this test sets refuses only its
 * own class {@link Banned}, which the allow-list admits ({@code org.openmrs}).
 */
public class JvmFilterTest {

    private static final String BANNED = Banned.class.getName();

    @Rule
    public final EmbeddedNodes nodes = new EmbeddedNodes();

    @Rule
    public final CapturedLog log = new CapturedLog("org.openmrs.module.cluster");

    @BeforeClass
    public static void refuseBannedInTheWholeJvm() {
        ObjectInputFilter present = ObjectInputFilter.Config.getSerialFilter();
        if (present == null) {
            ObjectInputFilter.Config.setSerialFilter(ObjectInputFilter.Config.createFilter("!" + BANNED));
        } else {
            assertEquals("the JVM's filter was set before, to another pattern", "!" + BANNED, present.toString());
        }
    }

    @Test(timeout = 30_000)
    public void aClassTheJvmsFilterRefusesIsRefusedThoughTheAllowListAdmitsIt() {
        ClusterCache<String, Serializable> cache = nodes.start().cache("c");
        cache.put("banned", new Banned());
        cache.put("allowed", new DefaultCodecTest.Point(1, 2));
        assertNull(cache.get("banned"));
        assertEquals(new DefaultCodecTest.Point(1, 2), cache.get("allowed"));
        List<String> logged = log.warnings("class " + BANNED + " refused");
        assertEquals(logged.toString(), 1, logged.size());
        assertTrue(logged.get(0), logged.get(0).contains("the JVM's deserialization filter (jdk.serialFilter)"));
    }

    /** Refused by the JVM's filter alone. */
    static final class Banned implements Serializable {
        private static final long serialVersionUID = 1L;
    }
}
