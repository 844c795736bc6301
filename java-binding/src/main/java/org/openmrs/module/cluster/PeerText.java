package org.openmrs.module.cluster;

/**
 * Text that came from another node (a class name a stream named, an exception message quoting
 * one), made fit for a log line or an exception message: control characters become {@code ?},
 * so it cannot forge log lines, and it is cut at {@value #MAX_LENGTH} characters.
 */
final class PeerText {

    static final int MAX_LENGTH = 200;

    private PeerText() {
    }

    static String clean(String text) {
        int length = Math.min(text.length(), MAX_LENGTH);
        StringBuilder clean = new StringBuilder(length + 3);
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            clean.append(Character.isISOControl(c) ? '?' : c);
        }
        return text.length() > MAX_LENGTH ? clean.append("...").toString() : clean.toString();
    }
}
