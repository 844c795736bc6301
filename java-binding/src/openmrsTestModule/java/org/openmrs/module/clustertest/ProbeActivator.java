package org.openmrs.module.clustertest;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.openmrs.GlobalProperty;
import org.openmrs.api.GlobalPropertyListener;
import org.openmrs.api.context.Context;
import org.openmrs.module.BaseModuleActivator;

/**
 * Listens, as a module's GlobalPropertyListener would, to the global properties whose names start
 * with {@code cluster.test.}, and keeps the last value it heard of each ("(deleted)" after a purge).
 */
public class ProbeActivator extends BaseModuleActivator implements GlobalPropertyListener {

    static final Map<String, String> HEARD = new ConcurrentHashMap<String, String>();

    @Override
    public void started() {
        Context.getAdministrationService().addGlobalPropertyListener(this);
    }

    @Override
    public void willStop() {
        Context.getAdministrationService().removeGlobalPropertyListener(this);
    }

    @Override
    public boolean supportsPropertyName(String propertyName) {
        return propertyName.startsWith("cluster.test.");
    }

    @Override
    public void globalPropertyChanged(GlobalProperty property) {
        HEARD.put(property.getProperty(), property.getPropertyValue());
    }

    @Override
    public void globalPropertyDeleted(String propertyName) {
        HEARD.put(propertyName, "(deleted)");
    }
}
