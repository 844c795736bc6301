package org.openmrs.module.cluster.omod;

import java.util.ArrayList;
import java.util.List;

import org.openmrs.GlobalProperty;
import org.openmrs.api.EventListeners;
import org.openmrs.api.GlobalPropertyListener;
import org.openmrs.api.context.Context;
import org.openmrs.api.context.Daemon;
import org.openmrs.module.DaemonToken;
import org.openmrs.module.cluster.Cluster;
import org.openmrs.module.cluster.Subscription;
import org.openmrs.module.cluster.aop.AfterCommit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a global property saved or purged on one server reach the GlobalPropertyListeners of
 * every server, with the saved value: core keeps static copies of some properties (ConfigUtil,
 * LocaleUtility, LocationUtility, AddressSupport...) that only their listeners refresh.
 *
 * <p>Registered as a listener of every property, it publishes each local change once the
 * transaction that made it has committed (nothing on a rollback). The other servers call their
 * own listeners, but for this one, as the daemon user, in the order the change's server made them.
 */
final class GlobalPropertySync implements GlobalPropertyListener {

    static final String TOPIC = "openmrs.cluster.globalProperty";
    private static final Logger LOG = LoggerFactory.getLogger(GlobalPropertySync.class);
    private static final String CHANGED = "changed";
    private static final String DELETED = "deleted";

    private final Cluster cluster;
    private final DaemonToken token;
    private final Subscription subscription;

    private GlobalPropertySync(Cluster cluster, DaemonToken token) {
        this.cluster = cluster;
        this.token = token;
        this.subscription = cluster.events().subscribe(TOPIC, (String[] change) -> received(change));
    }

    /** Subscribes to the other servers' changes and listens for this one's. */
    static GlobalPropertySync start(Cluster cluster, DaemonToken token) {
        GlobalPropertySync sync = new GlobalPropertySync(cluster, token);
        sync.listen();
        return sync;
    }

    /** Listens for this server's changes, once, whatever OpenMRS's list of listeners held. */
    void listen() {
        Context.getAdministrationService().removeGlobalPropertyListener(this);
        Context.getAdministrationService().addGlobalPropertyListener(this);
    }

    void stop() {
        Context.getAdministrationService().removeGlobalPropertyListener(this);
        subscription.close();
    }

    @Override
    public boolean supportsPropertyName(String propertyName) {
        return true;
    }

    @Override
    public void globalPropertyChanged(GlobalProperty property) {
        publishAfterCommit(new String[] {cluster.nodeName(), CHANGED, property.getProperty(), property.getPropertyValue()});
    }

    @Override
    public void globalPropertyDeleted(String propertyName) {
        publishAfterCommit(new String[] {cluster.nodeName(), DELETED, propertyName, null});
    }

    private void publishAfterCommit(String[] change) {
        if (!AfterCommit.register(() -> publish(change))) {
            publish(change);
        }
    }

    private void publish(String[] change) {
        try {
            cluster.events().publish(TOPIC, change);
        } catch (RuntimeException e) {
            LOG.error("the change of global property {} could not be sent to the other servers; their listeners"
                    + " keep the old value until it changes again", change[2], e);
        }
    }

    private void received(String[] change) {
        if (change.length != 4 || cluster.nodeName().equals(change[0])) {
            return;
        }
        Daemon.runInDaemonThreadAndWait(() -> notifyListeners(change), token);
    }

    private void notifyListeners(String[] change) {
        List<GlobalPropertyListener> listeners = new EventListeners().getGlobalPropertyListeners();
        if (listeners == null) {
            return;
        }
        String name = change[2];
        for (GlobalPropertyListener listener : new ArrayList<GlobalPropertyListener>(listeners)) {
            if (listener == this || !listener.supportsPropertyName(name)) {
                continue;
            }
            try {
                if (DELETED.equals(change[1])) {
                    listener.globalPropertyDeleted(name);
                } else {
                    listener.globalPropertyChanged(new GlobalProperty(name, change[3]));
                }
            } catch (RuntimeException e) {
                LOG.error("global property listener {} failed on the change of {} made on server {}", listener, name,
                        change[0], e);
            }
        }
    }
}
