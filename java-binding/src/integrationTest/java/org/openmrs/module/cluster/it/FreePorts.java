package org.openmrs.module.cluster.it;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;

/** Picks loopback ports free for both TCP and UDP, as a node binds both to one port. */
final class FreePorts {

    private FreePorts() {
    }

    static List<Integer> pick(int count) throws IOException {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        List<Integer> ports = new ArrayList<>();
        for (int attempt = 0; ports.size() < count; attempt++) {
            if (attempt > 100) {
                throw new IOException("found only " + ports.size() + " of " + count + " free ports in 100 tries");
            }
            int port;
            try (ServerSocket tcp = new ServerSocket(0, 1, loopback)) {
                port = tcp.getLocalPort();
            }
            if (!ports.contains(port) && udpFree(loopback, port)) {
                ports.add(port);
            }
        }
        return ports;
    }

    private static boolean udpFree(InetAddress address, int port) {
        try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(address, port))) {
            return udp.isBound();
        } catch (SocketException taken) {
            return false;
        }
    }
}
