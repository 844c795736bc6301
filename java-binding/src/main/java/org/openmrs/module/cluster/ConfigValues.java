package org.openmrs.module.cluster;

import java.util.regex.Pattern;

/** Checks of configuration values; each failure names the configuration key first. */
final class ConfigValues {

    private static final Pattern IPV4_LOOPBACK = Pattern.compile("127(\\.\\d{1,3}){3}");
    private static final Pattern DIGITS = Pattern.compile("\\d{1,5}");

    private ConfigValues() {
    }

    /**
     * Checks that {@code value} is {@code host:port} with a port from {@code minPort} to 65535,
     * an IPv6 host in brackets, and returns the host (without brackets).
     */
    static String requireHostPort(String key, String value, int minPort) {
        int colon = value == null ? -1 : value.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException(key + ": must be host:port, got '" + value + "'");
        }
        String host = value.substring(0, colon);
        if (host.length() > 2 && host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0 || host.indexOf('[') >= 0 || host.indexOf(']') >= 0) {
            throw new IllegalArgumentException(
                    key + ": an IPv6 host goes in brackets, as in [::1]:7000, got '" + value + "'");
        }
        if (host.isEmpty() || hasCommaOrWhitespace(host)) {
            throw new IllegalArgumentException(
                    key + ": host must be a name or address without spaces or commas, got '" + value + "'");
        }
        String portText = value.substring(colon + 1);
        int port = DIGITS.matcher(portText).matches() ? Integer.parseInt(portText) : -1;
        if (port < minPort || port > 65535) {
            throw new IllegalArgumentException(
                    key + ": port must be a number from " + minPort + " to 65535, got '" + value + "'");
        }
        return host;
    }

    /** Checks that {@code value} is a non-empty name without commas or whitespace. */
    static void requireName(String key, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(key + ": must not be empty");
        }
        if (hasCommaOrWhitespace(value)) {
            throw new IllegalArgumentException(key + ": must not contain commas or whitespace, got '" + value + "'");
        }
    }

    /**
     * Checks that {@code value} is a class name ({@code com.example.Dto}, {@code Outer$Inner}) or
     * a package followed by {@code .*}.
     */
    static void requireClassPattern(String key, String value) {
        String body = value != null && value.endsWith(".*") ? value.substring(0, value.length() - 2) : value;
        if (body == null || body.isEmpty() || !isDottedName(body)) {
            throw new IllegalArgumentException(key + ": each entry must be a class name (com.example.Dto) or a"
                    + " package and everything below it (com.example.*), got '" + value + "'");
        }
    }

    /** Whether {@code host} is the wildcard address, which other nodes cannot be told to reach. */
    static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::");
    }

    /** Whether {@code host} is a loopback name or address: 127.x.x.x, localhost or ::1. */
    static boolean isLoopback(String host) {
        return IPV4_LOOPBACK.matcher(host).matches() || host.equalsIgnoreCase("localhost") || host.equals("::1");
    }

    /** Whether {@code s} is Java identifiers separated by dots. */
    private static boolean isDottedName(String s) {
        for (String part : s.split("\\.", -1)) {
            if (part.isEmpty() || !Character.isJavaIdentifierStart(part.charAt(0))) {
                return false;
            }
            for (int i = 1; i < part.length(); i++) {
                if (!Character.isJavaIdentifierPart(part.charAt(i))) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean hasCommaOrWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ',' || Character.isWhitespace(c)) {
                return true;
            }
        }
        return false;
    }
}
