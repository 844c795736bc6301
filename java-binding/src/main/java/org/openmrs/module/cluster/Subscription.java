package org.openmrs.module.cluster;

/** A listener's subscription to a topic; closing it stops deliveries to that listener. */
public interface Subscription extends AutoCloseable {

    @Override
    void close();
}
