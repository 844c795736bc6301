package org.openmrs.module.cluster;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.Collections;

import org.junit.Test;

/** Which class names the allow-list admits, by default and with cluster.serialization.allow. */
public class AllowedClassesTest {

    private final AllowedClasses defaults = AllowedClasses.defaults();

    @Test
    public void theDefaultsAdmitTheJdksValueTypesOpenmrsAndSpringsCacheKey() {
        for (String name : Arrays.asList("java.lang.String", "java.lang.Integer", "java.lang.Enum",
                "java.lang.Character$UnicodeBlock", "java.util.HashMap", "java.util.concurrent.ConcurrentHashMap",
                "java.time.Ser", "java.time.chrono.HijrahDate", "java.math.BigDecimal", "org.openmrs.Patient",
                "org.openmrs.module.cluster.aop.EntityEvent", "org.springframework.cache.interceptor.SimpleKey",
                "org.springframework.cache.support.NullValue", "int", "boolean")) {
            assertTrue(name, defaults.allows(name));
        }
    }

    @Test
    public void theDefaultsRefuseReflectionMethodHandlesAndEverythingElse() {
        for (String name : Arrays.asList("java.lang.reflect.Proxy", "java.lang.invoke.SerializedLambda",
                "java.lang.annotation.Annotation", "javax.management.BadAttributeValueExpException", "java.net.URL",
                "java.rmi.MarshalledObject", "org.openmrsx.Evil", "org.openmrs", "org.springframework.cache.Cache",
                "org.springframework.cache.interceptor.SimpleKeyGenerator", "com.example.untrusted.SideEffectOnRead",
                "java.utilx.Evil", "")) {
            assertFalse(name, defaults.allows(name));
        }
    }

    @Test
    public void arraysAreAdmittedWhenTheirElementTypeIs() {
        for (String name : Arrays.asList("[I", "[[J", "[Z", "[Ljava.lang.String;", "[[Ljava.util.UUID;",
                "[Lorg.openmrs.Obs;")) {
            assertTrue(name, defaults.allows(name));
        }
        for (String name : Arrays.asList("[Ljava.lang.reflect.Method;", "[[Lcom.example.untrusted.SideEffectOnRead;",
                "[", "[Q", "[II", "[L;", "[Ljava.lang.String")) {
            assertFalse(name, defaults.allows(name));
        }
    }

    @Test
    public void configuredClassesAndPackagesAreAdmittedBesidesTheDefaults() {
        AllowedClasses allowed = AllowedClasses.with(Arrays.asList("com.example.Dto", "com.example.Outer$Inner",
                "org.acme.*"));
        for (String name : Arrays.asList("com.example.Dto", "com.example.Outer$Inner", "org.acme.Order",
                "org.acme.sub.Line", "[Lorg.acme.Order;", "java.util.ArrayList")) {
            assertTrue(name, allowed.allows(name));
        }
        for (String name : Arrays.asList("com.example.Other", "com.example.Dto$Inner", "com.example.Outer",
                "org.acmex.Order", "org.acme")) {
            assertFalse(name, allowed.allows(name));
        }
        assertFalse(AllowedClasses.with(Collections.<String>emptyList()).allows("com.example.Dto"));
    }
}
