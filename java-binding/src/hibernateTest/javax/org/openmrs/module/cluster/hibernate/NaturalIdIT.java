package org.openmrs.module.cluster.hibernate;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.junit.Test;
import org.openmrs.module.cluster.Cluster;

/**
 * Natural-id caching (Hibernate 5.6): two session factories on one node and one database, as two
 * servers' caches are, the change going through the same invalidation as an entity's. After one
 * renames a row's natural id and its commit returned, the other no longer resolves the old one.
 */
public class NaturalIdIT {

    @Test(timeout = 60_000)
    public void aRenamedNaturalIdIsNoLongerResolvedFromTheOtherFactorysCache() {
        String url = "jdbc:h2:mem:natural-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        Cluster node = Cluster.embedded();
        try (SessionFactory writer = open(url, "create"); SessionFactory reader = open(url, "none")) {
            inTransaction(writer, session -> session.persist(new Code(1, "abc")));
            assertEquals(Integer.valueOf(1), resolve(reader, "abc"));
            long hits = reader.getStatistics().getNaturalIdCacheHitCount();
            assertEquals(Integer.valueOf(1), resolve(reader, "abc"));
            assertTrue("the reader resolved 'abc' from its cache the second time",
                    reader.getStatistics().getNaturalIdCacheHitCount() > hits);

            inTransaction(writer, session -> session.get(Code.class, 1).rename("xyz"));
            assertNull("the reader resolved the old natural id after the rename's commit returned",
                    resolve(reader, "abc"));
            assertEquals(Integer.valueOf(1), resolve(reader, "xyz"));
        } finally {
            node.close();
        }
    }

    private static SessionFactory open(String url, String schema) {
        Map<String, String> settings = new HashMap<>();
        settings.put("hibernate.hbm2ddl.auto", schema);
        return Databases.open(url, Databases.CLUSTER, settings, Code.class);
    }

    private static Integer resolve(SessionFactory factory, String code) {
        try (Session session = factory.openSession()) {
            session.beginTransaction();
            Code found = session.bySimpleNaturalId(Code.class).load(code);
            session.getTransaction().commit();
            return found == null ? null : found.id();
        }
    }

    private static void inTransaction(SessionFactory factory, java.util.function.Consumer<Session> work) {
        try (Session session = factory.openSession()) {
            session.beginTransaction();
            work.accept(session);
            session.getTransaction().commit();
        }
    }
}
