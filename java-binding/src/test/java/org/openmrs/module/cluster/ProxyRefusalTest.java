package org.openmrs.module.cluster;

import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.Serializable;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Arrays;

import org.junit.Test;

import com.example.untrusted.Hook;

/**
 * A serialized proxy is read only if every interface it implements is allowed, besides its
 * handler and java.lang.reflect.Proxy, which the defaults refuse.
 */
public class ProxyRefusalTest {

    private static final AllowedClasses WITH_PROXIES = AllowedClasses.with(Arrays.asList("java.lang.reflect.Proxy"));

    @Test
    public void aProxyOfAllowedInterfacesIsReadWhenProxiesAreAllowed() throws Exception {
        byte[] bytes = proxyOf(Runnable.class);
        Object read = ItemSerializer.fromBytes(bytes, 0, bytes.length, null, WITH_PROXIES, "a test");
        assertTrue(read instanceof Runnable);
    }

    @Test
    public void aProxyWithAnInterfaceOutsideTheAllowListIsRefused() {
        byte[] bytes = proxyOf(Runnable.class, Hook.class);
        RefusedClassException e = assertThrows(RefusedClassException.class,
                () -> ItemSerializer.fromBytes(bytes, 0, bytes.length, null, WITH_PROXIES, "a test"));
        assertTrue(e.getMessage(), e.getMessage().contains("class " + Hook.class.getName() + " refused: a proxy"));
    }

    @Test
    public void theDefaultsRefuseEveryProxy() {
        byte[] bytes = proxyOf(Runnable.class);
        RefusedClassException e = assertThrows(RefusedClassException.class, () -> ItemSerializer.fromBytes(bytes, 0,
                bytes.length, null, AllowedClasses.defaults(), "a test"));
        assertTrue(e.getMessage(), e.getMessage().contains("class java.lang.reflect.Proxy refused"));
    }

    private static byte[] proxyOf(Class<?>... interfaces) {
        Object proxy = Proxy.newProxyInstance(ProxyRefusalTest.class.getClassLoader(), interfaces, new Handler());
        return ItemSerializer.toBytes((Serializable) proxy, "a proxy");
    }

    /** Does nothing; serializable, so that a proxy with it is. */
    static final class Handler implements InvocationHandler, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) {
            return null;
        }
    }
}
