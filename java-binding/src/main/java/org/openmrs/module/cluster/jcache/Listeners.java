package org.openmrs.module.cluster.jcache;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.cache.Cache;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.Factory;
import javax.cache.event.CacheEntryCreatedListener;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.CacheEntryEventFilter;
import javax.cache.event.CacheEntryExpiredListener;
import javax.cache.event.CacheEntryListener;
import javax.cache.event.CacheEntryListenerException;
import javax.cache.event.CacheEntryRemovedListener;
import javax.cache.event.CacheEntryUpdatedListener;
import javax.cache.event.EventType;

/**
 * The entry listeners registered on one cache of this node, and their delivery: the changes an
 * operation made here reach them in the calling thread before the operation returns (so
 * asynchronous listeners are served synchronously too, which the specification allows); changes
 * announced by other nodes reach them in the thread of the cache's subscription.
 */
final class Listeners<K, V> {

    private static final Logger LOG = Logger.getLogger(Listeners.class.getName());
    /** The order in which each operation's changes are delivered, by type. */
    private static final EventType[] ORDER = {
        EventType.EXPIRED, EventType.CREATED, EventType.UPDATED, EventType.REMOVED
    };

    private final Cache<K, V> source;
    private final List<Registration<K, V>> registrations = new CopyOnWriteArrayList<Registration<K, V>>();

    Listeners(Cache<K, V> source) {
        this.source = source;
    }

    boolean isEmpty() {
        return registrations.isEmpty();
    }

    /** @throws IllegalArgumentException if this configuration is registered already */
    synchronized void register(CacheEntryListenerConfiguration<K, V> configuration) {
        for (Registration<K, V> registration : registrations) {
            if (registration.configuration.equals(configuration)) {
                throw new IllegalArgumentException("this listener configuration is registered already");
            }
        }
        registrations.add(new Registration<K, V>(configuration));
    }

    /** Whether the configuration was registered; its listener and filter are closed if closeable. */
    synchronized boolean deregister(CacheEntryListenerConfiguration<K, V> configuration) {
        for (Registration<K, V> registration : registrations) {
            if (registration.configuration.equals(configuration)) {
                registrations.remove(registration);
                registration.close();
                return true;
            }
        }
        return false;
    }

    synchronized void closeAll() {
        for (Registration<K, V> registration : registrations) {
            registration.close();
        }
        registrations.clear();
    }

    /**
     * Delivers the changes to every listener of their type that its filter lets through.
     *
     * @throws CacheEntryListenerException wrapping what a listener threw (errors pass unwrapped)
     */
    void deliver(List<Change> changes) {
        if (changes.isEmpty() || registrations.isEmpty()) {
            return;
        }
        for (EventType type : ORDER) {
            List<CacheEntryEvent<? extends K, ? extends V>> events = null;
            for (Change change : changes) {
                if (change.type() == type) {
                    if (events == null) {
                        events = new ArrayList<CacheEntryEvent<? extends K, ? extends V>>();
                    }
                    events.add(new ClusterCacheEntryEvent<K, V>(source, change));
                }
            }
            if (events != null) {
                for (Registration<K, V> registration : registrations) {
                    registration.deliver(type, events);
                }
            }
        }
    }

    /** Delivers changes another node announced: a failing listener is logged, as no caller waits. */
    void deliverRemote(List<Change> changes) {
        try {
            deliver(changes);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "a listener of cache '" + source.getName() + "' failed on a change"
                    + " another node made", e);
        }
    }

    private static final class Registration<K, V> {

        final CacheEntryListenerConfiguration<K, V> configuration;
        final CacheEntryListener<? super K, ? super V> listener;
        final CacheEntryEventFilter<? super K, ? super V> filter;

        Registration(CacheEntryListenerConfiguration<K, V> configuration) {
            this.configuration = configuration;
            this.listener = configuration.getCacheEntryListenerFactory().create();
            Factory<CacheEntryEventFilter<? super K, ? super V>> filterFactory =
                    configuration.getCacheEntryEventFilterFactory();
            this.filter = filterFactory == null ? null : filterFactory.create();
        }

        @SuppressWarnings("unchecked")
        void deliver(EventType type, List<CacheEntryEvent<? extends K, ? extends V>> events) {
            if (!listens(type)) {
                return;
            }
            List<CacheEntryEvent<? extends K, ? extends V>> passed = events;
            if (filter != null) {
                passed = new ArrayList<CacheEntryEvent<? extends K, ? extends V>>();
                for (CacheEntryEvent<? extends K, ? extends V> event : events) {
                    if (filter.evaluate((CacheEntryEvent<K, V>) event)) {
                        passed.add(event);
                    }
                }
                if (passed.isEmpty()) {
                    return;
                }
            }
            Iterable<CacheEntryEvent<? extends K, ? extends V>> delivered = passed;
            try {
                switch (type) {
                    case CREATED:
                        ((CacheEntryCreatedListener<K, V>) listener).onCreated(delivered);
                        break;
                    case UPDATED:
                        ((CacheEntryUpdatedListener<K, V>) listener).onUpdated(delivered);
                        break;
                    case REMOVED:
                        ((CacheEntryRemovedListener<K, V>) listener).onRemoved(delivered);
                        break;
                    default:
                        ((CacheEntryExpiredListener<K, V>) listener).onExpired(delivered);
                        break;
                }
            } catch (CacheEntryListenerException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new CacheEntryListenerException("a listener failed on " + type + " events", e);
            }
        }

        private boolean listens(EventType type) {
            switch (type) {
                case CREATED:
                    return listener instanceof CacheEntryCreatedListener;
                case UPDATED:
                    return listener instanceof CacheEntryUpdatedListener;
                case REMOVED:
                    return listener instanceof CacheEntryRemovedListener;
                default:
                    return listener instanceof CacheEntryExpiredListener;
            }
        }

        void close() {
            closeQuietly(listener);
            closeQuietly(filter);
        }
    }

    static void closeQuietly(Object resource) {
        if (resource instanceof AutoCloseable) {
            try {
                ((AutoCloseable) resource).close();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "closing " + resource.getClass().getName() + " failed", e);
            }
        }
    }
}
