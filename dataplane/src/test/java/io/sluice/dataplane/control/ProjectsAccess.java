package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** Test access to {@link Projects}' documents from other packages. */
public final class ProjectsAccess {
    private ProjectsAccess() {}

    public static ObjectNode vm(DesiredState s, String project, String vm) {
        return Projects.vm(s.config(), project, vm);
    }
}
