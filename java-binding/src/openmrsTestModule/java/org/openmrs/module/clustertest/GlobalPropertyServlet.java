package org.openmrs.module.clustertest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.openmrs.GlobalProperty;
import org.openmrs.api.AdministrationService;
import org.openmrs.api.context.Context;
import org.openmrs.util.PrivilegeConstants;

/**
 * {@code GET /ms/clustertest/globalProperty?name=N} answers the value OpenMRS serves for the global property
 * N (empty when unset); with {@code &value=V} it first saves V; with {@code &heard} it answers
 * what this server's {@link ProbeActivator} last heard of N instead (empty when nothing). A GET,
 * so that OpenMRS's CSRF filter lets a test's plain request through; only a test installs this
 * module.
 */
public class GlobalPropertyServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String name = request.getParameter("name");
        String value = request.getParameter("value");
        if (request.getParameter("heard") != null) {
            String heard = ProbeActivator.HEARD.get(name);
            write(response, heard == null ? "" : heard);
            return;
        }
        Context.addProxyPrivilege(PrivilegeConstants.GET_GLOBAL_PROPERTIES);
        Context.addProxyPrivilege(PrivilegeConstants.MANAGE_GLOBAL_PROPERTIES);
        String served;
        try {
            AdministrationService service = Context.getAdministrationService();
            if (value != null) {
                GlobalProperty property = service.getGlobalPropertyObject(name);
                if (property == null) {
                    property = new GlobalProperty(name, value);
                } else {
                    property.setPropertyValue(value);
                }
                service.saveGlobalProperty(property);
            }
            served = service.getGlobalProperty(name, "");
        } finally {
            Context.removeProxyPrivilege(PrivilegeConstants.MANAGE_GLOBAL_PROPERTIES);
            Context.removeProxyPrivilege(PrivilegeConstants.GET_GLOBAL_PROPERTIES);
        }
        write(response, served);
    }

    private static void write(HttpServletResponse response, String text) throws IOException {
        response.setContentType("text/plain");
        response.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    }
}
