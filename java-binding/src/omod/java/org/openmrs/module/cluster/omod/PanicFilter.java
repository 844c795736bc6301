package org.openmrs.module.cluster.omod;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import javax.servlet.Filter;
import javax.servlet.FilterChain;
import javax.servlet.FilterConfig;
import javax.servlet.ServletException;
import javax.servlet.ServletRequest;
import javax.servlet.ServletResponse;
import javax.servlet.http.HttpServletResponse;

/**
 * Answers every request with 503 and the reason once this server's node has panicked: cut off
 * from the majority, it can no longer know that its caches and locks agree with the others', so
 * it must not serve users until it is restarted. Mapped to every URL by config.xml.
 */
public class PanicFilter implements Filter {

    @Override
    public void init(FilterConfig config) {
        // Nothing to configure.
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String panic = ModuleNode.panic();
        if (panic == null) {
            chain.doFilter(request, response);
            return;
        }
        HttpServletResponse http = (HttpServletResponse) response;
        http.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        http.setContentType("text/plain;charset=UTF-8");
        http.setHeader("Cache-Control", "no-store");
        http.getOutputStream().write(("This OpenMRS server stopped serving: its cluster node panicked: " + panic
                + "\nRestart it once it can reach the other servers.\n").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void destroy() {
        // Nothing held.
    }
}
