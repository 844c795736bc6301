package org.openmrs.module.cluster;

import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;

/**
 * How a node joins its cluster: the cluster's name, the node's name and address, the seeds it
 * contacts, the shared secret, where durable state lives, the application version, how long to
 * wait for the join and how many nodes vote in consensus. Immutable; built with
 * {@link #builder()} or read from properties with {@link #fromProperties(Properties)}. A value
 * that cannot work is refused when the configuration is built, with an
 * {@link IllegalArgumentException} whose message starts with the property key.
 *
 * <ul>
 * <li>{@code cluster.name}: default "openmrs"</li>
 * <li>{@code cluster.node.name}: default the host name and port, chosen when the node starts</li>
 * <li>{@code cluster.bind}: default "127.0.0.1:0" (any free port); not a wildcard address</li>
 * <li>{@code cluster.seeds}: default none, which forms a new cluster</li>
 * <li>{@code cluster.secret}: at least 16 bytes of UTF-8; required by {@link Cluster#start(ClusterConfig)}
 * (and here already when bind is not a loopback address); generate one with
 * {@code java -jar openmrs-cluster-<version>.jar secret}</li>
 * <li>{@code cluster.data.dir}: default none</li>
 * <li>{@code cluster.app.version}: default "unversioned"</li>
 * <li>{@code cluster.join.timeout.ms}: default 30000</li>
 * <li>{@code cluster.raft.voters}: default 3, from 1 to 9</li>
 * <li>{@code cluster.panic.timeout.ms}: default 5000, at least 2500</li>
 * <li>{@code cluster.serialization.allow}: default none; classes and packages ({@code com.example.*})
 * that Java serialization may read from other nodes, besides the defaults of {@link #serializationAllow()}</li>
 * </ul>
 */
public final class ClusterConfig {

    private static final String NAME = "cluster.name";
    private static final String NODE_NAME = "cluster.node.name";
    private static final String BIND = "cluster.bind";
    private static final String SEEDS = "cluster.seeds";
    private static final String SECRET = "cluster.secret";
    private static final String DATA_DIR = "cluster.data.dir";
    private static final String APP_VERSION = "cluster.app.version";
    private static final String JOIN_TIMEOUT_MS = "cluster.join.timeout.ms";
    private static final String RAFT_VOTERS = "cluster.raft.voters";
    private static final String PANIC_TIMEOUT_MS = "cluster.panic.timeout.ms";
    private static final String SERIALIZATION_ALLOW = "cluster.serialization.allow";
    /** Shorter, a node would panic during an ordinary leader failover. */
    private static final long MIN_PANIC_TIMEOUT_MS = 2500;
    private static final List<String> KNOWN_KEYS = Collections.unmodifiableList(Arrays.asList(
            NAME, NODE_NAME, BIND, SEEDS, SECRET, DATA_DIR, APP_VERSION, JOIN_TIMEOUT_MS, RAFT_VOTERS,
            PANIC_TIMEOUT_MS, SERIALIZATION_ALLOW));
    /** In bytes of UTF-8, as the key derivation sees the secret. */
    private static final int MIN_SECRET_BYTES = 16;
    private static final int MAX_RAFT_VOTERS = 9;

    private final String clusterName;
    private final String nodeName;
    private final String bind;
    private final List<String> seeds;
    private final String secret;
    private final Path dataDir;
    private final String appVersion;
    private final Duration joinTimeout;
    private final int raftVoters;
    private final Duration panicTimeout;
    private final List<String> serializationAllow;

    private ClusterConfig(Builder b) {
        this.clusterName = b.clusterName;
        this.nodeName = b.nodeName;
        this.bind = b.bind;
        this.seeds = Collections.unmodifiableList(new ArrayList<String>(b.seeds));
        this.secret = b.secret;
        this.dataDir = b.dataDir;
        this.appVersion = b.appVersion;
        this.joinTimeout = b.joinTimeout;
        this.raftVoters = b.raftVoters;
        this.panicTimeout = b.panicTimeout;
        this.serializationAllow = Collections.unmodifiableList(new ArrayList<String>(b.serializationAllow));
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads the {@code cluster.*} keys of {@code properties}; other keys are ignored, so a whole
     * runtime properties file may be passed. An unknown {@code cluster.*} key is refused (it is
     * most likely a typo), and so is a bad value. Optional keys with an empty value count as unset.
     *
     * @throws IllegalArgumentException whose message starts with the offending key
     */
    public static ClusterConfig fromProperties(Properties properties) {
        for (String key : properties.stringPropertyNames()) {
            if (key.startsWith("cluster.") && !KNOWN_KEYS.contains(key)) {
                throw new IllegalArgumentException(key + ": unknown key; the known keys are " + KNOWN_KEYS);
            }
        }
        Builder b = builder();
        String value;
        if ((value = read(properties, NAME)) != null) {
            b.clusterName(value);
        }
        if ((value = readOptional(properties, NODE_NAME)) != null) {
            b.nodeName(value);
        }
        if ((value = read(properties, BIND)) != null) {
            b.bind(value);
        }
        if ((value = readOptional(properties, SEEDS)) != null) {
            b.seeds(splitList(value));
        }
        if ((value = readOptional(properties, SECRET)) != null) {
            b.secret(value);
        }
        if ((value = readOptional(properties, DATA_DIR)) != null) {
            b.dataDir(parsePath(value));
        }
        if ((value = read(properties, APP_VERSION)) != null) {
            b.appVersion(value);
        }
        if ((value = read(properties, JOIN_TIMEOUT_MS)) != null) {
            b.joinTimeout(Duration.ofMillis(parseMillis(JOIN_TIMEOUT_MS, value)));
        }
        if ((value = read(properties, RAFT_VOTERS)) != null) {
            b.raftVoters(parseVoters(value));
        }
        if ((value = read(properties, PANIC_TIMEOUT_MS)) != null) {
            b.panicTimeout(Duration.ofMillis(parseMillis(PANIC_TIMEOUT_MS, value)));
        }
        if ((value = readOptional(properties, SERIALIZATION_ALLOW)) != null) {
            b.serializationAllow(splitList(value));
        }
        return b.build();
    }

    /**
     * Whether {@code properties} ask for a cluster member: any {@code cluster.*} key with a value,
     * except {@code cluster.serialization.allow} (which an embedded node uses too). A forgotten
     * secret then fails the start naming it, instead of leaving a lone embedded node.
     */
    static boolean describesMember(Properties properties) {
        for (String key : properties.stringPropertyNames()) {
            if (key.startsWith("cluster.") && !key.equals(SERIALIZATION_ALLOW)
                    && readOptional(properties, key) != null) {
                return true;
            }
        }
        return false;
    }

    private static String read(Properties properties, String key) {
        String value = properties.getProperty(key);
        return value == null ? null : value.trim();
    }

    private static String readOptional(Properties properties, String key) {
        String value = read(properties, key);
        return value == null || value.isEmpty() ? null : value;
    }

    /** The comma-separated items of {@code value}, trimmed, empty ones left out. */
    private static String[] splitList(String value) {
        List<String> items = new ArrayList<String>();
        for (String item : value.split(",")) {
            if (!item.trim().isEmpty()) {
                items.add(item.trim());
            }
        }
        return items.toArray(new String[0]);
    }

    private static Path parsePath(String value) {
        try {
            return Paths.get(value);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(DATA_DIR + ": not a valid path, got '" + value + "'", e);
        }
    }

    private static long parseMillis(String key, String value) {
        long millis;
        try {
            millis = Long.parseLong(value);
        } catch (NumberFormatException e) {
            millis = -1;
        }
        if (millis <= 0) {
            throw new IllegalArgumentException(
                    key + ": must be a positive number of milliseconds, got '" + value + "'");
        }
        return millis;
    }

    private static int parseVoters(String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(votersRule(value), e);
        }
    }

    private static String votersRule(String got) {
        return RAFT_VOTERS + ": must be a whole number from 1 to " + MAX_RAFT_VOTERS + ", got '" + got + "'";
    }

    /** The properties that {@link #fromProperties(Properties)} reads back into an equal configuration. */
    public Properties toProperties() {
        Properties p = new Properties();
        p.setProperty(NAME, clusterName);
        if (nodeName != null) {
            p.setProperty(NODE_NAME, nodeName);
        }
        p.setProperty(BIND, bind);
        if (!seeds.isEmpty()) {
            p.setProperty(SEEDS, String.join(",", seeds));
        }
        if (secret != null) {
            p.setProperty(SECRET, secret);
        }
        if (dataDir != null) {
            p.setProperty(DATA_DIR, dataDir.toString());
        }
        p.setProperty(APP_VERSION, appVersion);
        p.setProperty(JOIN_TIMEOUT_MS, Long.toString(joinTimeout.toMillis()));
        p.setProperty(RAFT_VOTERS, Integer.toString(raftVoters));
        p.setProperty(PANIC_TIMEOUT_MS, Long.toString(panicTimeout.toMillis()));
        if (!serializationAllow.isEmpty()) {
            p.setProperty(SERIALIZATION_ALLOW, String.join(",", serializationAllow));
        }
        return p;
    }

    public String clusterName() {
        return clusterName;
    }

    /** The node's name; empty when the node is to be named after its host name and port. */
    public Optional<String> nodeName() {
        return Optional.ofNullable(nodeName);
    }

    /** The {@code host:port} the node listens on (TCP and UDP); port 0 takes any free port. */
    public String bind() {
        return bind;
    }

    /** The {@code host:port} addresses contacted to join; empty when the node forms a new cluster. */
    public List<String> seeds() {
        return seeds;
    }

    /** The secret from which the keys of all traffic between nodes are derived. */
    public Optional<String> secret() {
        return Optional.ofNullable(secret);
    }

    /** Where durable state lives, if anywhere. */
    public Optional<Path> dataDir() {
        return Optional.ofNullable(dataDir);
    }

    /** The application version; a node whose version differs from the cluster's is refused. */
    public String appVersion() {
        return appVersion;
    }

    /** How long {@link Cluster#start(ClusterConfig)} waits to become a member. */
    public Duration joinTimeout() {
        return joinTimeout;
    }

    /**
     * How many nodes vote in consensus: the first nodes to join become voters, later ones follow
     * without a vote and step in for a voter that is gone. Locks go on while a majority of the
     * voters lives.
     */
    public int raftVoters() {
        return raftVoters;
    }

    /** How long a node may be out of contact with the majority before it panics. */
    public Duration panicTimeout() {
        return panicTimeout;
    }

    /**
     * Classes ({@code com.example.Dto}) and packages with everything below them
     * ({@code com.example.*}) that Java serialization may read from the bytes of other nodes (the
     * events, cache keys and values and queue items of default codecs), besides the defaults:
     * primitives and arrays of allowed types, the package {@code java.lang} itself (not its
     * subpackages), {@code java.util.*}, {@code java.time.*}, {@code java.math.*},
     * {@code org.openmrs.*}, {@code org.springframework.cache.interceptor.SimpleKey} and
     * {@code org.springframework.cache.support.NullValue}. Any other class is refused before it
     * is loaded: reading an object runs code of its class.
     */
    public List<String> serializationAllow() {
        return serializationAllow;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ClusterConfig)) {
            return false;
        }
        ClusterConfig other = (ClusterConfig) o;
        return clusterName.equals(other.clusterName) && Objects.equals(nodeName, other.nodeName)
                && bind.equals(other.bind) && seeds.equals(other.seeds) && Objects.equals(secret, other.secret)
                && Objects.equals(dataDir, other.dataDir) && appVersion.equals(other.appVersion)
                && joinTimeout.equals(other.joinTimeout) && raftVoters == other.raftVoters
                && panicTimeout.equals(other.panicTimeout) && serializationAllow.equals(other.serializationAllow);
    }

    @Override
    public int hashCode() {
        return Objects.hash(clusterName, nodeName, bind, seeds, secret, dataDir, appVersion, joinTimeout, raftVoters,
                panicTimeout, serializationAllow);
    }

    /** Every setting but the secret, which shows only whether it is set. */
    @Override
    public String toString() {
        return "ClusterConfig{" + NAME + "=" + clusterName + ", " + NODE_NAME + "=" + nodeName
                + ", " + BIND + "=" + bind + ", " + SEEDS + "=" + seeds
                + ", " + SECRET + "=" + (secret == null ? "(none)" : "(set)") + ", " + DATA_DIR + "=" + dataDir
                + ", " + APP_VERSION + "=" + appVersion + ", " + JOIN_TIMEOUT_MS + "=" + joinTimeout.toMillis()
                + ", " + RAFT_VOTERS + "=" + raftVoters + ", " + PANIC_TIMEOUT_MS + "=" + panicTimeout.toMillis()
                + ", " + SERIALIZATION_ALLOW + "=" + serializationAllow + "}";
    }

    /** Collects settings; {@link #build()} checks them all. */
    public static final class Builder {

        private String clusterName = "openmrs";
        private String nodeName;
        private String bind = "127.0.0.1:0";
        private List<String> seeds = Collections.emptyList();
        private String secret;
        private Path dataDir;
        private String appVersion = "unversioned";
        private Duration joinTimeout = Duration.ofSeconds(30);
        private int raftVoters = 3;
        private Duration panicTimeout = Duration.ofSeconds(5);
        private List<String> serializationAllow = Collections.emptyList();

        private Builder() {
        }

        /** {@code cluster.name}: nodes join only a cluster of the same name; default "openmrs". */
        public Builder clusterName(String name) {
            this.clusterName = name;
            return this;
        }

        /** {@code cluster.node.name}: unique in the cluster; default the host name and port. */
        public Builder nodeName(String name) {
            this.nodeName = name;
            return this;
        }

        /**
         * {@code cluster.bind}: the {@code host:port} to listen on and advertise, so not a wildcard
         * address such as 0.0.0.0; default "127.0.0.1:0".
         */
        public Builder bind(String hostPort) {
            this.bind = hostPort;
            return this;
        }

        /**
         * {@code cluster.seeds}: addresses to contact to join; none forms a new cluster. The same
         * list, this node's own address included, may be given to every node.
         */
        public Builder seeds(String... hostPorts) {
            this.seeds = hostPorts == null ? Collections.<String>emptyList() : Arrays.asList(hostPorts.clone());
            return this;
        }

        /**
         * {@code cluster.secret}: at least 16 bytes of UTF-8, the same on every node; required to
         * start a node. Generate one with {@code java -jar openmrs-cluster-<version>.jar secret}.
         */
        public Builder secret(String secret) {
            this.secret = secret;
            return this;
        }

        /** {@code cluster.data.dir}: where durable state lives. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** {@code cluster.app.version}: a node whose version differs is refused; default "unversioned". */
        public Builder appVersion(String version) {
            this.appVersion = version;
            return this;
        }

        /** {@code cluster.join.timeout.ms}: how long a start waits to become a member; default 30 s. */
        public Builder joinTimeout(Duration timeout) {
            this.joinTimeout = timeout;
            return this;
        }

        /**
         * {@code cluster.raft.voters}: how many nodes vote in consensus, from 1 to 9; default 3. Give
         * every node of a cluster the same number. An odd number is best: 4 voters survive
         * one failure, as 3 do.
         */
        public Builder raftVoters(int voters) {
            this.raftVoters = voters;
            return this;
        }

        /**
         * {@code cluster.panic.timeout.ms}: a node out of contact with the majority of the voters
         * for longer than this panics (its panic listeners run, and lock, queue and scheduler calls
         * fail until it is restarted); at least 2500 ms, default 5 s.
         */
        public Builder panicTimeout(Duration timeout) {
            this.panicTimeout = timeout;
            return this;
        }

        /**
         * {@code cluster.serialization.allow}: classes ({@code com.example.Dto}, a nested one as
         * {@code com.example.Outer$Dto}) and packages with everything below them
         * ({@code com.example.*}) that Java serialization may read from other nodes, besides the
         * defaults (see {@link ClusterConfig#serializationAllow()}). Allow only classes whose
         * deserialization cannot be made to do harm: a node holding the secret could send any
         * object of them.
         */
        public Builder serializationAllow(String... entries) {
            this.serializationAllow = entries == null ? Collections.<String>emptyList()
                    : Arrays.asList(entries.clone());
            return this;
        }

        /** @throws IllegalArgumentException whose message starts with the key of the bad setting */
        public ClusterConfig build() {
            ConfigValues.requireName(NAME, clusterName);
            if (nodeName != null) {
                ConfigValues.requireName(NODE_NAME, nodeName);
            }
            String bindHost = ConfigValues.requireHostPort(BIND, bind, 0);
            if (ConfigValues.isWildcard(bindHost)) {
                throw new IllegalArgumentException(BIND + ": the other nodes must be able to reach the address"
                        + " this node advertises; bind a specific address instead of the wildcard '" + bind + "'");
            }
            for (String seed : seeds) {
                ConfigValues.requireHostPort(SEEDS, seed, 1);
            }
            if (secret == null && !ConfigValues.isLoopback(bindHost)) {
                throw new IllegalArgumentException(SECRET + ": required when " + BIND
                        + " is not a loopback address, and " + BIND + " is '" + bind + "'");
            }
            if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
                throw new IllegalArgumentException(SECRET + ": must be at least " + MIN_SECRET_BYTES
                        + " bytes of UTF-8 long; generate one with 'java -jar openmrs-cluster-<version>.jar secret'");
            }
            ConfigValues.requireName(APP_VERSION, appVersion);
            if (joinTimeout == null || joinTimeout.toMillis() <= 0) {
                throw new IllegalArgumentException(JOIN_TIMEOUT_MS
                        + ": must be a positive number of milliseconds, got '"
                        + (joinTimeout == null ? null : joinTimeout.toMillis()) + "'");
            }
            if (raftVoters < 1 || raftVoters > MAX_RAFT_VOTERS) {
                throw new IllegalArgumentException(votersRule(Integer.toString(raftVoters)));
            }
            if (panicTimeout == null || panicTimeout.toMillis() < MIN_PANIC_TIMEOUT_MS) {
                throw new IllegalArgumentException(PANIC_TIMEOUT_MS + ": must be at least " + MIN_PANIC_TIMEOUT_MS
                        + " milliseconds, got '" + (panicTimeout == null ? null : panicTimeout.toMillis()) + "'");
            }
            for (String entry : serializationAllow) {
                ConfigValues.requireClassPattern(SERIALIZATION_ALLOW, entry);
            }
            return new ClusterConfig(this);
        }
    }
}
