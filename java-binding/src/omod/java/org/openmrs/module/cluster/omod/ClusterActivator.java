package org.openmrs.module.cluster.omod;

import org.openmrs.api.context.Context;
import org.openmrs.module.BaseModuleActivator;
import org.openmrs.module.DaemonToken;
import org.openmrs.module.DaemonTokenAware;
import org.openmrs.module.cluster.hibernate.ClusterRegionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts this server's cluster node before the Spring context refresh that follows a module
 * start (so the beans that refresh builds find it) and closes it when the module stops. A node
 * that cannot start fails the module's start with the library's message.
 *
 * <p>It also names the cluster's region factory as Hibernate's second-level cache: the refresh
 * builds a new session factory from the modules' config properties, and that factory finds the
 * node this module started ({@code Cluster.current()}, one class loader). A runtime property of
 * the same key still wins, as OpenMRS lets it.
 */
public class ClusterActivator extends BaseModuleActivator implements DaemonTokenAware {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterActivator.class);
    private static final String REGION_FACTORY = "hibernate.cache.region.factory_class";

    private volatile DaemonToken daemonToken;
    private GlobalPropertySync globalProperties;

    @Override
    public void setDaemonToken(DaemonToken token) {
        daemonToken = token;
    }

    @Override
    public void willStart() {
        ModuleNode.start(Context.getRuntimeProperties());
        LOG.info("openmrs-cluster node {} started: {}", ModuleNode.node().nodeName(), ModuleNode.node().status());
        Context.addConfigProperty(REGION_FACTORY, ClusterRegionFactory.class.getName());
        String chosen = Context.getRuntimeProperties().getProperty(REGION_FACTORY);
        if (chosen != null && !chosen.trim().equals(ClusterRegionFactory.class.getName())) {
            LOG.warn("openmrs-runtime.properties sets {}={}: Hibernate's second-level cache is then NOT shared"
                    + " with the other servers, which may serve stale rows", REGION_FACTORY, chosen);
        }
    }

    /**
     * After every refresh of OpenMRS's context (the first one too, before {@code started()}): a
     * refresh empties the list of global property listeners OpenMRS keeps, so each one adds the
     * sync's listener again.
     */
    @Override
    public synchronized void contextRefreshed() {
        if (globalProperties == null) {
            globalProperties = GlobalPropertySync.start(ModuleNode.node(), daemonToken);
        } else {
            globalProperties.listen();
        }
    }

    @Override
    public synchronized void willStop() {
        if (globalProperties != null) {
            globalProperties.stop();
            globalProperties = null;
        }
    }

    @Override
    public void stopped() {
        ModuleNode.stop();
        LOG.info("openmrs-cluster node closed");
    }
}
