package org.openmrs.module.cluster.omod;

import org.openmrs.api.context.Context;
import org.openmrs.module.BaseModuleActivator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts this server's cluster node before the Spring context refresh that follows a module
 * start (so the beans that refresh builds find it) and closes it when the module stops. A node
 * that cannot start fails the module's start with the library's message.
 */
public class ClusterActivator extends BaseModuleActivator {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterActivator.class);

    @Override
    public void willStart() {
        ModuleNode.start(Context.getRuntimeProperties());
        LOG.info("openmrs-cluster node {} started: {}", ModuleNode.node().nodeName(), ModuleNode.node().status());
    }

    @Override
    public void stopped() {
        ModuleNode.stop();
        LOG.info("openmrs-cluster node closed");
    }
}
