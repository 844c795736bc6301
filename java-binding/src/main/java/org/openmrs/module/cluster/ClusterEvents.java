package org.openmrs.module.cluster;

import java.io.Serializable;
import java.util.function.Consumer;

/**
 * Publish and subscribe across the cluster. Every live member's subscribers of a topic, the
 * publisher's own included, get each message once, in the order each publisher sent them.
 * A slow listener stalls neither the network nor other topics.
 */
public interface ClusterEvents {

    <T extends Serializable> void publish(String topic, T message);

    <T> Subscription subscribe(String topic, Consumer<T> listener);
}
