package com.example.untrusted;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;

/**
 * A class whose deserialization does something: it appends a line to the file it names, as the
 * classes that attacks on Java serialization chain together run code when read. It lives outside
 * the packages a node allows by default, on the classpath of the tests and of their child JVMs,
 * so that only the allow-list can keep a node from reading it. Test code only.
 */
public final class SideEffectOnRead implements Serializable {

    private static final long serialVersionUID = 1L;

    private final String marker;

    /** An object that appends a line to the file {@code marker} wherever it is read. */
    public SideEffectOnRead(String marker) {
        this.marker = marker;
    }

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        Files.write(Paths.get(marker), "read\n".getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }

    @Override
    public String toString() {
        return "SideEffectOnRead{" + marker + "}";
    }
}
