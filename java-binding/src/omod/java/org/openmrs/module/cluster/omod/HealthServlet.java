package org.openmrs.module.cluster.omod;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * {@code /ms/cluster/health}: 200 while this server's node is a member that has not panicked,
 * else 503 with the reason, for load balancers and readiness probes. Needs no login: a probe
 * has none, and the answer tells nothing about patients.
 */
public class HealthServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String health = ModuleNode.health();
        response.setStatus(health.startsWith("UP") ? HttpServletResponse.SC_OK
                : HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        response.setContentType("text/plain;charset=UTF-8");
        response.setHeader("Cache-Control", "no-store");
        String body = health + "\n";
        response.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
    }
}
