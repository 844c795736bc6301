package org.openmrs.module.cluster.aop;

import java.lang.reflect.Method;
import java.time.Instant;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.openmrs.module.cluster.Cluster;

/**
 * Advice for OpenMRS services (name it in a module's {@code <advice>}): after a method whose name
 * starts with {@code save}, {@code void}, {@code unvoid}, {@code retire}, {@code unretire} or
 * {@code purge} returns normally, publishes an {@link EntityEvent} on {@link EntityEvent#TOPIC}
 * through {@link Cluster#current()} for the first argument with a public {@code String getUuid()}.
 * A save is CREATED when that argument's {@code getId()} returned null before the call, UPDATED
 * otherwise. Inside a Spring transaction it publishes after the commit, and nothing on rollback.
 *
 * <p>Publishing never makes the service call fail: a failure to publish is logged.
 */
public class EntityEventAdvice implements MethodInterceptor {

    private static final Logger LOG = Logger.getLogger(EntityEventAdvice.class.getName());
    private static final boolean SPRING_TX = springTxPresent();

    public EntityEventAdvice() {
    }

    @Override
    public Object invoke(MethodInvocation invocation) throws Throwable {
        String method = invocation.getMethod().getName();
        EntityEvent.Action action = actionOf(method);
        Object entity = action == null ? null : firstEntity(invocation.getArguments());
        if (entity == null) {
            return invocation.proceed();
        }
        if (action == EntityEvent.Action.CREATED && !isNew(entity)) {
            action = EntityEvent.Action.UPDATED;
        }
        String uuidBefore = uuidOf(entity);
        Object result = invocation.proceed();
        String uuid = uuidOf(entity);
        if (uuid == null) {
            uuid = uuidBefore;
        }
        if (uuid == null) {
            LOG.fine(method + ": the argument has no uuid; no event published");
            return result;
        }
        final String entityClass = className(entity.getClass());
        final String entityUuid = uuid;
        final EntityEvent.Action entityAction = action;
        Runnable publish = () -> publish(entityClass, entityUuid, entityAction);
        if (!(SPRING_TX && AfterCommit.register(publish))) {
            publish.run();
        }
        return result;
    }

    /** The action a method of this name announces; CREATED stands for any save. Null: none. */
    static EntityEvent.Action actionOf(String method) {
        if (method.startsWith("save")) {
            return EntityEvent.Action.CREATED;
        } else if (method.startsWith("unvoid")) {
            return EntityEvent.Action.UNVOIDED;
        } else if (method.startsWith("void")) {
            return EntityEvent.Action.VOIDED;
        } else if (method.startsWith("unretire")) {
            return EntityEvent.Action.UNRETIRED;
        } else if (method.startsWith("retire")) {
            return EntityEvent.Action.RETIRED;
        } else if (method.startsWith("purge")) {
            return EntityEvent.Action.PURGED;
        }
        return null;
    }

    private static void publish(String entityClass, String uuid, EntityEvent.Action action) {
        Cluster cluster;
        try {
            cluster = Cluster.current();
        } catch (IllegalStateException e) {
            LOG.fine("no cluster node open; " + action + " of " + entityClass + " " + uuid + " not published");
            return;
        }
        try {
            cluster.events().publish(EntityEvent.TOPIC,
                    new EntityEvent(entityClass, uuid, action, cluster.nodeName(), Instant.now()));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cannot publish " + action + " of " + entityClass + " " + uuid
                    + "; the other nodes will not hear of it", e);
        }
    }

    private static Object firstEntity(Object[] arguments) {
        if (arguments == null) {
            return null;
        }
        for (Object argument : arguments) {
            if (argument != null && getter(argument, "getUuid") != null
                    && getter(argument, "getUuid").getReturnType() == String.class) {
                return argument;
            }
        }
        return null;
    }

    private static boolean isNew(Object entity) {
        Method getId = getter(entity, "getId");
        return getId != null && call(getId, entity) == null;
    }

    private static String uuidOf(Object entity) {
        Object uuid = call(getter(entity, "getUuid"), entity);
        return uuid instanceof String ? (String) uuid : null;
    }

    private static Method getter(Object target, String name) {
        try {
            Method m = target.getClass().getMethod(name);
            return m.getParameterTypes().length == 0 ? m : null;
        } catch (NoSuchMethodException | SecurityException e) {
            return null;
        }
    }

    private static Object call(Method method, Object target) {
        if (method == null) {
            return null;
        }
        try {
            if (!method.isAccessible()) {
                // A public method of a class that is not public itself (a test's, a proxy's).
                method.setAccessible(true);
            }
            return method.invoke(target);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(Level.FINE, "cannot call " + method + " on a " + target.getClass().getName(), e);
            return null;
        }
    }

    /** The entity's own class name, without the suffix of a Hibernate or CGLIB proxy class. */
    static String className(Class<?> type) {
        String name = type.getName();
        for (String marker : new String[] {"$HibernateProxy$", "_$$_", "$$"}) {
            int at = name.indexOf(marker);
            if (at > 0) {
                return name.substring(0, at);
            }
        }
        return name;
    }

    private static boolean springTxPresent() {
        try {
            Class.forName("org.springframework.transaction.support.TransactionSynchronizationManager", false,
                    EntityEventAdvice.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
